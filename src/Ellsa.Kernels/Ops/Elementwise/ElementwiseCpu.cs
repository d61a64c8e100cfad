using System.Runtime.CompilerServices;
using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Elementwise;

namespace Ellsa.Kernels.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void Unary<TFn>(TensorView source, TensorView destination, TFn fn) where TFn : struct, IUnaryFunctor
    {
        Elementwise.CheckUnary(source, destination);
        lock (_gate)
        {
            var job = Job<UnaryJob<TFn>>();
            job.Source = Base(source);
            job.SourceLayout = source.Layout;
            job.Destination = Base(destination);
            job.DestinationLayout = destination.Layout;
            job.Fn = fn;
            job.Plan(destination.Layout);
            _pool.Run(job, job.ChunkCount);
        }
    }

    public void Binary<TFn>(TensorView a, TensorView b, TensorView destination, TFn fn) where TFn : struct, IBinaryFunctor
    {
        Elementwise.CheckBinary(a, b, destination);
        lock (_gate)
        {
            var job = Job<BinaryJob<TFn>>();
            job.A = Base(a);
            job.ALayout = a.Layout;
            job.B = Base(b);
            job.BLayout = b.Layout;
            job.Destination = Base(destination);
            job.DestinationLayout = destination.Layout;
            job.Fn = fn;
            job.Plan(destination.Layout);
            _pool.Run(job, job.ChunkCount);
        }
    }
}

/// <summary>
/// Elementwise work split into runs along the innermost axis: the outer coordinates are resolved
/// once per run, the inner loop only adds strides. Scalar on purpose: the functors are fp32
/// transcendental functions that must match the GPU kernel's formulas, and these ops move far less
/// data than the convolutions and products around them.
/// </summary>
internal abstract unsafe class ElementwiseJob : IParallelWork
{
    protected int Inner;
    private int _runs;
    private int _runsPerChunk;

    public int ChunkCount => (_runs + _runsPerChunk - 1) / _runsPerChunk;

    public void Plan(in ViewLayout destination)
    {
        Inner = destination.Rank == 0 ? 1 : destination.Dim(destination.Rank - 1);
        long count = destination.Count;
        _runs = Inner == 0 ? 0 : (int)(count / Inner);
        _runsPerChunk = Math.Max(1, 16384 / Math.Max(1, Inner));
    }

    public void Execute(int chunk, int worker)
    {
        int end = Math.Min(_runs, (chunk + 1) * _runsPerChunk);
        for (int run = chunk * _runsPerChunk; run < end; run++)
            Run(run * Inner);
    }

    /// <summary>Elements first … first + Inner − 1 (row-major), one innermost run.</summary>
    protected abstract void Run(int first);

    protected static int InnerStride(in ViewLayout layout) => layout.Rank == 0 ? 0 : layout.Stride(layout.Rank - 1);
}

internal sealed unsafe class UnaryJob<TFn> : ElementwiseJob where TFn : struct, IUnaryFunctor
{
    public float* Source;
    public ViewLayout SourceLayout;
    public float* Destination;
    public ViewLayout DestinationLayout;
    public TFn Fn;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Run(int first)
    {
        float* x = Source + SourceLayout.OffsetOf(first);
        float* y = Destination + DestinationLayout.OffsetOf(first);
        int sx = InnerStride(SourceLayout), sy = InnerStride(DestinationLayout);
        var fn = Fn;
        if (sx == 1 && sy == 1)
        {
            UnaryRuns.Apply(fn, new ReadOnlySpan<float>(x, Inner), new Span<float>(y, Inner));
            return;
        }
        for (int i = 0; i < Inner; i++)
            y[(long)i * sy] = fn.Apply(x[(long)i * sx]);
    }
}

internal sealed unsafe class BinaryJob<TFn> : ElementwiseJob where TFn : struct, IBinaryFunctor
{
    public float* A;
    public ViewLayout ALayout;
    public float* B;
    public ViewLayout BLayout;
    public float* Destination;
    public ViewLayout DestinationLayout;
    public TFn Fn;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Run(int first)
    {
        float* a = A + ALayout.OffsetOf(first);
        float* b = B + BLayout.OffsetOf(first);
        float* y = Destination + DestinationLayout.OffsetOf(first);
        int sa = InnerStride(ALayout), sb = InnerStride(BLayout), sy = InnerStride(DestinationLayout);
        var fn = Fn;
        for (int i = 0; i < Inner; i++)
            y[(long)i * sy] = fn.Apply(a[(long)i * sa], b[(long)i * sb]);
    }
}
