using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Elementwise;
using Ellsa.Kernels.Ops.Norms;

namespace Ellsa.Kernels.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void Normalize<TFn>(TensorView source, TensorView destination, NormSpec spec, TensorView? weight, TensorView? bias, TFn then)
        where TFn : struct, IUnaryFunctor
    {
        Normalization.Check(source, destination, spec, weight, bias);
        lock (_gate)
        {
            var job = Job<NormJob<TFn>>();
            job.Source = Base(source) + source.Layout.Offset;
            job.SourceStride = source.Layout.S0;
            job.Destination = Base(destination) + destination.Layout.Offset;
            job.DestinationStride = destination.Layout.S0;
            job.Width = source.Dim(1);
            job.Spec = spec;
            job.Weight = weight is { } w ? Base(w) + w.Layout.Offset : null;
            job.WeightStride = weight?.Layout.S0 ?? 0;
            job.Bias = bias is { } b ? Base(b) + b.Layout.Offset : null;
            job.BiasStride = bias?.Layout.S0 ?? 0;
            job.Rows = source.Dim(0);
            job.Then = then;
            job.Vectorised = Isa != CpuIsa.Scalar && Vector.IsHardwareAccelerated;
            job.Wide = Isa == CpuIsa.Avx512 && Vector512.IsHardwareAccelerated;
            _pool.Run(job, job.Rows);
        }
    }
}

/// <summary>
/// One row (a LayerNorm row, a GroupNorm group, a BiasNorm frame) per chunk: statistics in double
/// in one pass, then one pass to write, in blocks that the functor after the norm then rewrites
/// while they are still in L1. Vectorised (AVX-512 where the machine has it, else
/// System.Numerics.Vector at the hardware's width) where the row and its parameters allow; the
/// scalar loops stay for the scalar ISA level, BiasNorm and parameters that change every few elements.
/// </summary>
internal sealed unsafe class NormJob<TFn> : IParallelWork where TFn : struct, IUnaryFunctor
{
    /// <summary>Elements normalised before the functor runs over them: 16 KB, a block that stays in L1.</summary>
    private const int Block = 4096;

    public float* Source, Destination, Weight, Bias;
    public int SourceStride, DestinationStride, WeightStride, BiasStride, Width, Rows;
    public NormSpec Spec;
    public TFn Then;
    public bool Vectorised, Wide;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int row, int worker)
    {
        float* x = Source + (long)row * SourceStride;
        float* y = Destination + (long)row * DestinationStride;
        var spec = Spec;
        // Double accumulation: a GroupNorm group of the image tokenizer holds 10⁵–10⁶ elements.
        double center = 0, squares;
        if (spec.Kind == NormKind.Bias)
        {
            squares = 0;
            for (int j = 0; j < Width; j++)
            {
                double c = x[j] - (double)Bias[(long)Normalization.Parameter(spec, Width, row, j) * BiasStride];
                squares += c * c;
            }
        }
        else
        {
            // One pass around a shift (the row's first element for a LayerNorm or GroupNorm, so the
            // sums stay small beside a large mean; 0 for RMSNorm, whose statistic is the plain Σx²).
            double shift = spec.Kind == NormKind.Standard && Width > 0 ? x[0] : 0;
            var (sum, sumSquares) = Moments(x, Width, shift);
            double offset = spec.Kind == NormKind.Standard ? sum / Width : 0;
            center = shift + offset;
            squares = Math.Max(0, sumSquares - offset * sum);
        }
        float scale = (float)(spec.Kind == NormKind.Bias ? spec.Scale / Math.Sqrt(squares / Width) : 1 / Math.Sqrt(squares / Width + spec.Eps));
        float mean = (float)center;
        bool affine = spec.Kind != NormKind.Bias;
        int first = (row % spec.Groups) * Width;
        int perChannel = spec.ElementsPerChannel;
        bool byChannel = affine && perChannel > 1 && Vectorised;
        for (int j = 0; j < Width;)
        {
            int end = Math.Min(Width, j + Block);
            if (byChannel)
            {
                // A run of elements that share their parameters (a channel of a GroupNorm).
                long p = (first + j) / perChannel;
                end = (int)Math.Min(end, (p + 1) * perChannel - first);
                ApplyRun(x + j, y + j, end - j, mean, scale, Weight != null ? Weight[p * WeightStride] : 1f, Weight != null,
                    Bias != null ? Bias[p * BiasStride] : 0f);
            }
            else
            {
                for (int i = j; i < end; i++)
                {
                    float v = (x[i] - mean) * scale;
                    if (affine)
                    {
                        long q = (first + i) / perChannel;
                        if (Weight != null)
                            v *= Weight[q * WeightStride];
                        if (Bias != null)
                            v += Bias[q * BiasStride];
                    }
                    y[i] = v;
                }
            }
            if (typeof(TFn) != typeof(Copy))
                Then.ApplyRun(new ReadOnlySpan<float>(y + j, end - j), new Span<float>(y + j, end - j));
            j = end;
        }
    }

    /// <summary>Σ(x − shift) and Σ(x − shift)² in double: AVX-512 widening 16 floats at a time where the machine has it, the hardware's vector width otherwise.</summary>
    private (double Sum, double Squares) Moments(float* x, int n, double shift)
    {
        double sum = 0, squares = 0;
        int i = 0;
        if (Wide)
        {
            var s = Vector512.Create(shift);
            Vector512<double> sums = default, sumsOfSquares = default;
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var (low, high) = Vector512.Widen(Vector512.Load(x + i));
                low -= s;
                high -= s;
                sums += low + high;
                sumsOfSquares = Vector512.FusedMultiplyAdd(low, low, Vector512.FusedMultiplyAdd(high, high, sumsOfSquares));
            }
            sum = Vector512.Sum(sums);
            squares = Vector512.Sum(sumsOfSquares);
        }
        else if (Vectorised)
        {
            var s = new Vector<double>(shift);
            Vector<double> sums = default, sumsOfSquares = default;
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            {
                Vector.Widen(Vector.Load(x + i), out var low, out var high);
                low -= s;
                high -= s;
                sums += low + high;
                sumsOfSquares += low * low + high * high;
            }
            sum = Vector.Sum(sums);
            squares = Vector.Sum(sumsOfSquares);
        }
        for (; i < n; i++)
        {
            double d = x[i] - shift;
            sum += d;
            squares += d * d;
        }
        return (sum, squares);
    }

    /// <summary>y = ((x − mean)·scale)·weight + bias with one channel's parameters, rounded step by step as the scalar loop and the GPU kernel round.</summary>
    private static void ApplyRun(float* x, float* y, int n, float mean, float scale, float weight, bool weighted, float bias)
    {
        var m = new Vector<float>(mean);
        var s = new Vector<float>(scale);
        var w = new Vector<float>(weight);
        var b = new Vector<float>(bias);
        int i = 0;
        for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
        {
            var v = (Vector.Load(x + i) - m) * s;
            if (weighted)
                v *= w;
            (v + b).Store(y + i);
        }
        for (; i < n; i++)
        {
            float v = (x[i] - mean) * scale;
            if (weighted)
                v *= weight;
            y[i] = v + bias;
        }
    }
}
