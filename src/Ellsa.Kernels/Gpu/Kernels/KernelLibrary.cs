using ILGPU;
using ILGPU.Runtime;
using Ellsa.Kernels.Gpu.Platform;

namespace Ellsa.Kernels.Gpu.Kernels;

/// <summary>
/// Every kernel of one accelerator as a typed stream launcher, compiled and loaded on first use
/// and then kept for the process (the library lives as long as its shared accelerator). Typed
/// launchers pack arguments without boxing (ILGPU issue #434).
/// </summary>
internal sealed class KernelLibrary
{
    private readonly Accelerator _accelerator;
    private readonly List<Func<object>> _all = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(Type, string), object> _generic = new();

    public KernelLibrary(AcceleratorHost host)
    {
        _accelerator = host.Accelerator;
        RmsNorm = Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, RowArgs>(RowKernels.RmsNorm);
        PlainAttention = Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, PlainAttentionArgs>(PlainAttentionKernels.Attention);
        NearestCode = Load<ArrayView<float>, ArrayView<float>, ArrayView<int>, NearestCodeArgs>(NearestCodeKernels.Nearest);
        Im2Col = Load<ArrayView<float>, ArrayView<float>, Im2ColArgs>(ConvolutionKernels.Im2Col);
        DepthwiseConv = Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, DepthwiseArgs>(DepthwiseKernels.DepthwiseConv);
        OverlapAdd = Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, OverlapAddArgs>(TransposedConvolutionKernels.OverlapAdd);
        MatrixProduct = Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, MatrixProductArgs>(MatrixProductKernels.Product);
        SwiGlu = Load<ArrayView<float>, ArrayView<float>, RowArgs>(RowKernels.SwiGlu);
        Clear = Load<ArrayView<float>, RowArgs>(RowKernels.Clear);
        Embed = Load<ArrayView<U4>, MatrixRuns, ArrayView<int>, ArrayView<float>, EmbedArgs>(RowKernels.Embed);
        RopeAndStore = Load<ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, RopeArgs>(RopeKernels.RopeAndStore);
        StoreKv = Load<ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, StoreKvArgs>(RopeKernels.StoreKv);
        Gemv = Load<ArrayView<U4>, MatrixRuns, ArrayView<float>, ArrayView<U4>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<U4>, ArrayView<float>, GemvArgs>(GemvKernels.Gemv);
        Q8Gemv = Load<ArrayView<U4>, ArrayView<uint>, ArrayView<float>, ArrayView<U4>, ArrayView<float>, ArrayView<float>, Q8GemvArgs>(Q8GemvKernels.Gemv);
        GemmSimt = Load<ArrayView<U4>, MatrixRuns, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs>(GemmSimtKernels.Gemm);
        DecodeAttention = Load<ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionArgs>(DecodeAttentionKernels.Partial);
        MergeAttention = Load<ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionArgs>(DecodeAttentionKernels.Merge);
        PrefillAttention = Load<ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionArgs>(PrefillAttentionKernels.Tiled);
        ArgMaxPartial = Load<ArrayView<float>, int, IdRanges, ArrayView<float>, ArrayView<int>, int, int>(ArgMaxKernels.Partial);
        ArgMaxFinal = Load<ArrayView<float>, ArrayView<int>, int, ArrayView<int>, int>(ArgMaxKernels.Final);
        FillBf16 = Load<ArrayView<U4>, int, uint, float, float>(UtilityKernels.FillBf16);
        FillF32 = Load<ArrayView<float>, int, uint, float, float>(UtilityKernels.FillF32);
        Copy = Load<ArrayView<U4>, ArrayView<U4>, long>(UtilityKernels.Copy);
        SplitOperand = Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<uint>, ArrayView<uint>, SplitArgs>(MmaGemmKernels.SplitOperand);
        PackQueries = Load<ArrayView<float>, ArrayView<uint>, FlashArgs>(FlashAttentionKernels.PackQueries);
        PackKeysValues = Load<ArrayView<float>, ArrayView<float>, ArrayView<uint>, FlashArgs>(FlashAttentionKernels.PackKeysValues);
        FlashExact = Untracked(() => _accelerator.LoadKernel<ArrayView<U4>, ArrayView<U4>, ArrayView<int>, ArrayView<float>, FlashArgs>(FlashAttentionKernels.Flash<PtxAttentionCore, ExactOperands>));
        FlashFast = Untracked(() => _accelerator.LoadKernel<ArrayView<U4>, ArrayView<U4>, ArrayView<int>, ArrayView<float>, FlashArgs>(FlashAttentionKernels.Flash<PtxAttentionCore, FastOperands>));
        FlashEmulatedExact = Untracked(() => _accelerator.LoadKernel<ArrayView<U4>, ArrayView<U4>, ArrayView<int>, ArrayView<float>, FlashArgs>(FlashAttentionKernels.Flash<EmulatedAttentionCore, ExactOperands>));
        FlashEmulatedFast = Untracked(() => _accelerator.LoadKernel<ArrayView<U4>, ArrayView<U4>, ArrayView<int>, ArrayView<float>, FlashArgs>(FlashAttentionKernels.Flash<EmulatedAttentionCore, FastOperands>));
        MmaExact = Untracked(() => _accelerator.LoadKernel<ArrayView<U4>, ArrayView<U4>, ArrayView<U4>, ArrayView<float>, ArrayView<float>, MmaArgs>(MmaGemmKernels.Gemm<PtxMmaCore, ExactOperands>));
        MmaFast = Untracked(() => _accelerator.LoadKernel<ArrayView<U4>, ArrayView<U4>, ArrayView<U4>, ArrayView<float>, ArrayView<float>, MmaArgs>(MmaGemmKernels.Gemm<PtxMmaCore, FastOperands>));
        MmaEmulatedExact = Untracked(() => _accelerator.LoadKernel<ArrayView<U4>, ArrayView<U4>, ArrayView<U4>, ArrayView<float>, ArrayView<float>, MmaArgs>(MmaGemmKernels.Gemm<EmulatedMmaCore, ExactOperands>));
        MmaEmulatedFast = Untracked(() => _accelerator.LoadKernel<ArrayView<U4>, ArrayView<U4>, ArrayView<U4>, ArrayView<float>, ArrayView<float>, MmaArgs>(MmaGemmKernels.Gemm<EmulatedMmaCore, FastOperands>));
    }

    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, RowArgs>> RmsNorm { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, Im2ColArgs>> Im2Col { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, DepthwiseArgs>> DepthwiseConv { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, OverlapAddArgs>> OverlapAdd { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, MatrixProductArgs>> MatrixProduct { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<int>, NearestCodeArgs>> NearestCode { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, PlainAttentionArgs>> PlainAttention { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, RowArgs>> SwiGlu { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<float>, RowArgs>> Clear { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<U4>, MatrixRuns, ArrayView<int>, ArrayView<float>, EmbedArgs>> Embed { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, RopeArgs>> RopeAndStore { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, StoreKvArgs>> StoreKv { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<U4>, MatrixRuns, ArrayView<float>, ArrayView<U4>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<U4>, ArrayView<float>, GemvArgs>> Gemv { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<U4>, MatrixRuns, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs>> GemmSimt { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<U4>, ArrayView<uint>, ArrayView<float>, ArrayView<U4>, ArrayView<float>, ArrayView<float>, Q8GemvArgs>> Q8Gemv { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionArgs>> DecodeAttention { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionArgs>> MergeAttention { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AttentionArgs>> PrefillAttention { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<float>, int, IdRanges, ArrayView<float>, ArrayView<int>, int, int>> ArgMaxPartial { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<int>, int, ArrayView<int>, int>> ArgMaxFinal { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<U4>, int, uint, float, float>> FillBf16 { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<float>, int, uint, float, float>> FillF32 { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<U4>, ArrayView<U4>, long>> Copy { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<uint>, ArrayView<uint>, SplitArgs>> SplitOperand { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<U4>, ArrayView<U4>, ArrayView<U4>, ArrayView<float>, ArrayView<float>, MmaArgs>> MmaExact { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<U4>, ArrayView<U4>, ArrayView<U4>, ArrayView<float>, ArrayView<float>, MmaArgs>> MmaFast { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<U4>, ArrayView<U4>, ArrayView<U4>, ArrayView<float>, ArrayView<float>, MmaArgs>> MmaEmulatedExact { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<U4>, ArrayView<U4>, ArrayView<U4>, ArrayView<float>, ArrayView<float>, MmaArgs>> MmaEmulatedFast { get; }

    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<uint>, FlashArgs>> PackQueries { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<uint>, FlashArgs>> PackKeysValues { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<U4>, ArrayView<U4>, ArrayView<int>, ArrayView<float>, FlashArgs>> FlashExact { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<U4>, ArrayView<U4>, ArrayView<int>, ArrayView<float>, FlashArgs>> FlashFast { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<U4>, ArrayView<U4>, ArrayView<int>, ArrayView<float>, FlashArgs>> FlashEmulatedExact { get; }
    public Lazy<Action<AcceleratorStream, KernelConfig, ArrayView<U4>, ArrayView<U4>, ArrayView<int>, ArrayView<float>, FlashArgs>> FlashEmulatedFast { get; }

    /// <summary>
    /// A kernel generic over a functor type, compiled on first use for that type and kept: the op
    /// families (elementwise, …) are one kernel each, specialised per functor as the CPU jobs are.
    /// </summary>
    public TLauncher Generic<TLauncher>(Type functor, string family, Func<Accelerator, TLauncher> load) where TLauncher : class =>
        (TLauncher)_generic.GetOrAdd((functor, family), static (_, state) => state.load(state.accelerator), (load, accelerator: _accelerator));

    /// <summary>Compiles and loads every kernel now (benchmarks keep this out of their timings).</summary>
    public void LoadAll(bool includeTensorCores)
    {
        foreach (var load in _all)
            load();
        if (includeTensorCores)
        {
            _ = MmaExact.Value;
            _ = MmaFast.Value;
            _ = FlashExact.Value;
            _ = FlashFast.Value;
        }
    }

    private Lazy<Action<AcceleratorStream, KernelConfig, T1, T2>> Load<T1, T2>(Action<T1, T2> kernel)
        where T1 : struct where T2 : struct =>
        Track(new Lazy<Action<AcceleratorStream, KernelConfig, T1, T2>>(() => _accelerator.LoadKernel(kernel)));

    private Lazy<Action<AcceleratorStream, KernelConfig, T1, T2, T3>> Load<T1, T2, T3>(Action<T1, T2, T3> kernel)
        where T1 : struct where T2 : struct where T3 : struct =>
        Track(new Lazy<Action<AcceleratorStream, KernelConfig, T1, T2, T3>>(() => _accelerator.LoadKernel(kernel)));

    private Lazy<Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4>> Load<T1, T2, T3, T4>(Action<T1, T2, T3, T4> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct =>
        Track(new Lazy<Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4>>(() => _accelerator.LoadKernel(kernel)));

    private Lazy<Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4, T5>> Load<T1, T2, T3, T4, T5>(Action<T1, T2, T3, T4, T5> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct =>
        Track(new Lazy<Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4, T5>>(() => _accelerator.LoadKernel(kernel)));

    private Lazy<Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4, T5, T6>> Load<T1, T2, T3, T4, T5, T6>(Action<T1, T2, T3, T4, T5, T6> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct =>
        Track(new Lazy<Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4, T5, T6>>(() => _accelerator.LoadKernel(kernel)));

    private Lazy<Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4, T5, T6, T7>> Load<T1, T2, T3, T4, T5, T6, T7>(Action<T1, T2, T3, T4, T5, T6, T7> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct where T6 : struct where T7 : struct =>
        Track(new Lazy<Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4, T5, T6, T7>>(() => _accelerator.LoadKernel(kernel)));

    private Lazy<Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10>> Load<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10>(
        Action<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10> kernel)
        where T1 : struct where T2 : struct where T3 : struct where T4 : struct where T5 : struct
        where T6 : struct where T7 : struct where T8 : struct where T9 : struct where T10 : struct =>
        Track(new Lazy<Action<AcceleratorStream, KernelConfig, T1, T2, T3, T4, T5, T6, T7, T8, T9, T10>>(() => _accelerator.LoadKernel(kernel)));

    private Lazy<T> Track<T>(Lazy<T> lazy) where T : class
    {
        _all.Add(() => lazy.Value);
        return lazy;
    }

    /// <summary>Tensor-core launchers: PTX ones only compile for CUDA, emulated ones only make sense on the simulator.</summary>
    private static Lazy<T> Untracked<T>(Func<T> load) where T : class => new(load);
}
