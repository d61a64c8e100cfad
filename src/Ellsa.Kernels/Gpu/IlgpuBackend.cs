using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Gpu.Kernels;
using Ellsa.Kernels.Gpu.Memory;
using Ellsa.Kernels.Gpu.Platform;
using ILGPU;
using ILGPU.Runtime;

namespace Ellsa.Kernels.Gpu;

/// <summary>
/// The SA-MoE device operations as ILGPU kernels, on a CUDA GPU (<c>cuda</c>) or on ILGPU's CPU
/// simulator (<c>ilgpu-cpu</c>, where the same kernels are checked without a GPU). Weights, the
/// KV cache and activations live in device memory; work is queued on one non-blocking stream
/// and the host waits only where the interface returns data (Download, ArgMax) or asks to
/// (Synchronize), so a decode step's only round trip is the chosen token id.
/// <para>Fusion window: RMSNorm, and RoPE before a KV write, are held back for one call. When
/// the next call is the projection that consumes the normalised rows (or the KV write of the
/// rotated keys) both run as one kernel; any other call first runs what is held back, so the
/// observable order of effects is that of the calls.</para>
/// </summary>
public sealed partial class IlgpuBackend : IComputeBackend
{
    private readonly AcceleratorHost _host;
    private readonly KernelLibrary _kernels;
    private readonly GpuWorkspace _workspace;
    private PendingNorm? _pendingNorm;
    private readonly List<PendingRope> _pendingRopes = new(2);
    private bool _disposed;

    public IlgpuBackend(AcceleratorHost host, IlgpuOptions? options = null)
    {
        _host = host;
        _kernels = host.Kernels;
        Options = options ?? IlgpuOptions.Default;
        _workspace = new GpuWorkspace(host);
    }

    /// <summary>The first CUDA device; throws <see cref="GpuBackendException"/> naming what was found when there is none.</summary>
    public static IlgpuBackend CreateCuda(IlgpuOptions? options = null, int device = 0) => new(IlgpuPlatform.Cuda(device), options);

    /// <summary>ILGPU's CPU accelerator simulating a 32-lane GPU.</summary>
    public static IlgpuBackend CreateCpuSimulator(IlgpuOptions? options = null) => new(IlgpuPlatform.CpuSimulator(), options);

    public IlgpuOptions Options { get; }
    public AcceleratorHost Host => _host;
    public bool IsCuda => _host.IsCuda;
    public string Name => _host.IsCuda ? "cuda" : "ilgpu-cpu";
    public string Description => $"{_host.Description}, {(Options.Precision == GemmPrecision.Exact ? "exact" : "fast")} bf16 GEMM, " +
                                 $"{(Options.Bf16KvCache ? "bf16" : "fp32")} KV cache";
    public bool UsesHostWeightsInPlace => false;
    public int PreferredPrefillRows => 4096;

    /// <summary>Never: matrices are uploaded once, from wherever the host holds them.</summary>
    public bool PrefersOwnedWeights(long bytes) => false;

    /// <summary>Compiles and loads every kernel now, so that the first real call does not pay for it.</summary>
    public void WarmUp() => Run("WarmUp", "all kernels", () => _kernels.LoadAll(_host.IsCuda && Options.TensorCores));

    public DeviceMatrix UploadMatrix(HostMatrix matrix) =>
        Run("UploadMatrix", $"{matrix.Name} {matrix.Rows}×{matrix.Cols}, {matrix.ByteSize / 1e6:F1} MB", () =>
            matrix.Parts.Any(p => p.Dtype == WeightDtype.Q8) ? GpuQ8Matrix.Upload(_host, matrix) : (DeviceMatrix)MatrixUpload.Upload(_host, matrix));

    public DeviceVector UploadVector(ReadOnlySpan<float> values)
    {
        var copy = values.ToArray();
        return Run("UploadVector", $"{copy.Length} values", () => new GpuVector(_host, copy));
    }

    public DeviceTensor AllocateTensor(int rows, int cols) =>
        Run("AllocateTensor", $"{rows}×{cols} fp32, {(long)rows * cols * 4 / 1e6:F1} MB", () => new GpuTensor(_host, rows, cols));

    public DeviceIndices AllocateIndices(int length) =>
        Run("AllocateIndices", $"{length} values", () => new GpuIndices(_host, length));

    public DeviceKvCache AllocateKvCache(int layers, int kvHeads, int headDim, int capacity) =>
        Run("AllocateKvCache", $"{layers} layers × {kvHeads} kv heads × {capacity} positions × {headDim}, " +
                               $"{2.0 * layers * kvHeads * capacity * headDim * (Options.Bf16KvCache ? 2 : 4) / 1e9:F2} GB",
            () => new GpuKvCache(_host, layers, kvHeads, headDim, capacity, Options.Bf16KvCache));

    public DeviceRopeTable CreateRopeTable(ReadOnlySpan<double> inverseFrequencies, int capacity)
    {
        var frequencies = inverseFrequencies.ToArray();
        return Run("CreateRopeTable", $"{capacity} positions × {frequencies.Length}", () => new GpuRopeTable(_host, frequencies, capacity));
    }

    public void Upload(ReadOnlySpan<float> source, TensorSlice destination)
    {
        BackendChecks.Upload(source.Length, destination);
        var tensor = Tensor(destination);
        Guard("Upload", flush: true, (tensor, destination), source, static (b, s, data) =>
        {
            HostTransfer.UploadRows(b._host.Stream, s.tensor.View, s.tensor.Offset(s.destination), s.tensor.Cols, s.destination.Rows, s.destination.Cols, data);
            b.AfterOperation();
            return true;
        }, static s => $"{s.destination.Rows}×{s.destination.Cols} fp32");
    }

    public void Upload(ReadOnlySpan<int> source, DeviceIndices destination, int offset)
    {
        var indices = Indices(destination);
        BackendChecks.Upload(source.Length, offset, indices);
        source.CopyTo(indices.Shadow.AsSpan(offset));
        Guard("Upload", flush: true, (indices, offset, length: source.Length), source, static (b, s, data) =>
        {
            HostTransfer.Upload(b._host.Stream, s.indices.View.SubView(s.offset, data.Length), data);
            b.AfterOperation();
            return true;
        }, static s => $"{s.length} indices at {s.offset}");
    }

    public void Download(TensorSlice source, Span<float> destination)
    {
        BackendChecks.Download(source, destination.Length);
        var tensor = Tensor(source);
        Guard("Download", flush: true, (tensor, source), destination, static (b, s, data) =>
        {
            HostTransfer.DownloadRows(b._host.Stream, s.tensor.View, s.tensor.Offset(s.source), s.tensor.Cols, s.source.Rows, s.source.Cols, data);
            return true;
        }, static s => $"{s.source.Rows}×{s.source.Cols} fp32 (a failure here may come from an earlier queued operation; ELLSA_GPU_SYNC=1 pins it down)");
    }

    public void Synchronize() =>
        Guard("Synchronize", flush: true, _host, 0, static (_, host, _) =>
        {
            host.Stream.Synchronize();
            return true;
        }, static _ => "queued operations (ELLSA_GPU_SYNC=1 reports the failing one)");

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        try
        {
            Flush();
            _host.Stream.Synchronize();
        }
        finally
        {
            _productScratch?.Dispose();
            _workspace.Dispose();
        }
    }

    /// <summary>
    /// Threads per group: the kernel's design size on CUDA, one warp on the simulator, where every
    /// lane is an OS thread and a group barrier over 256 of them on two cores costs ~10 ms.
    /// </summary>
    private int Threads(int designed) => _host.IsCuda ? designed : 32;

    /// <summary>
    /// Groups to launch for <paramref name="items"/> work items: one each on CUDA; on the simulator
    /// two per simulated multiprocessor (each group costs milliseconds there whatever its work),
    /// the kernels striding over the rest.
    /// </summary>
    private int Exchange => !_host.IsCuda && !Options.SimulatorShuffles ? 1 : 0;

    private int Groups(long items) => (int)Math.Max(1, _host.IsCuda ? items : Math.Min(items, 2 * _host.Multiprocessors));

    /// <summary>After each queued operation: in debug mode, wait so a failure names its own operation.</summary>
    private void AfterOperation()
    {
        if (Options.SynchronizeEveryOperation)
            _host.Stream.Synchronize();
    }

    private GpuBackendException Fail(string operation, string sizes, Exception e) => new(operation, sizes, Name, e);

    /// <summary>Allocations and uploads at load time (not a hot path): <paramref name="action"/> through <see cref="Guard"/>, without flushing.</summary>
    private T Run<T>(string operation, string sizes, Func<T> action) =>
        Guard(operation, flush: false, sizes, action, static (_, _, run) => run(), static sizes => sizes);

    private void Run(string operation, string sizes, Action action) => Run(operation, sizes, () =>
    {
        action();
        return 0;
    });

    private GpuTensor Tensor(TensorSlice slice) => Own(slice.Tensor as GpuTensor, "tensor");

    private GpuTensor Tensor(DeviceTensor tensor) => Own(tensor as GpuTensor, "tensor");

    /// <summary>Every general op has its kernel here (see <see cref="NetworkOp"/>).</summary>
    public bool Supports(NetworkOp op) => Enum.IsDefined(op);

    /// <summary>
    /// The guard every device operation goes through: under the accelerator gate, run what the
    /// fusion window holds back (when <paramref name="flush"/>; not when the caller already has, or
    /// is the fusion window itself), run <paramref name="body"/>, and turn any failure into one
    /// <see cref="GpuBackendException"/> naming the operation and its sizes. The state travels by
    /// value into static lambdas, a host span to read or fill travels as <paramref name="data"/>,
    /// and the sizes are described only on failure, so a guarded call allocates nothing.
    /// </summary>
    private TResult Guard<TState, TData, TResult>(string operation, bool flush, TState state, TData data,
        Func<IlgpuBackend, TState, TData, TResult> body, Func<TState, string> describe)
        where TData : allows ref struct
    {
        lock (_host.Gate)
        {
            try
            {
                if (flush)
                    Flush();
                return body(this, state, data);
            }
            catch (Exception e) when (e is not GpuBackendException)
            {
                throw Fail(operation, describe(state), e);
            }
        }
    }

    /// <summary>
    /// A kernel launch through <see cref="Guard"/>: flush the fusion window (unless
    /// <paramref name="flush"/> is false), queue the launch, then <see cref="AfterOperation"/>.
    /// </summary>
    private void Launch<TState>(string operation, TState state, Action<IlgpuBackend, TState> launch, Func<TState, string> describe, bool flush = true) =>
        Guard(operation, flush, state, launch, static (backend, s, run) =>
        {
            run(backend, s);
            backend.AfterOperation();
            return true;
        }, describe);

    private GpuIndices Indices(DeviceIndices indices) => Own(indices as GpuIndices, "index buffer");

    private T Own<T>(T? value, string what) where T : class
    {
        var host = value switch
        {
            GpuTensor t => t.Host,
            GpuIndices i => i.Host,
            GpuVector v => v.Host,
            GpuMatrix m => m.Host,
            GpuQ8Matrix q => q.Host,
            GpuKvCache c => c.Host,
            GpuRopeTable r => r.Host,
            _ => null,
        };
        if (value is null || host != _host)
            throw new ArgumentException($"the {what} was not created by this {Name} backend");
        if (value is GpuTensor tensor)
            tensor.BeforeDispose ??= FlushAndWait;
        return value;
    }

    /// <summary>Before a tensor's memory goes: run what still uses it and wait for it.</summary>
    private void FlushAndWait()
    {
        lock (_host.Gate)
        {
            Flush();
            _host.Stream.Synchronize();
        }
    }

    private GpuMatrix Matrix(DeviceMatrix matrix) => Own(matrix as GpuMatrix, "matrix");

    private GpuVector Vector(DeviceVector vector) => Own(vector as GpuVector, "vector");

    private GpuKvCache Cache(DeviceKvCache cache) => Own(cache as GpuKvCache, "KV cache");

    private GpuRopeTable Rope(DeviceRopeTable table) => Own(table as GpuRopeTable, "RoPE table");
}
