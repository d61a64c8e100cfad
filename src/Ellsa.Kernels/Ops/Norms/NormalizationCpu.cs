using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Norms;

namespace Ellsa.Kernels.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void Normalize(TensorView source, TensorView destination, NormSpec spec, TensorView? weight, TensorView? bias)
    {
        Normalization.Check(source, destination, spec, weight, bias);
        lock (_gate)
        {
            var job = Job<NormJob>();
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
            _pool.Run(job, job.Rows);
        }
    }
}

/// <summary>One row (a LayerNorm row, a GroupNorm group, a BiasNorm frame) per chunk: statistics in double, then one pass to write.</summary>
internal sealed unsafe class NormJob : IParallelWork
{
    public float* Source, Destination, Weight, Bias;
    public int SourceStride, DestinationStride, WeightStride, BiasStride, Width, Rows;
    public NormSpec Spec;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int row, int worker)
    {
        var x = new ReadOnlySpan<float>(Source + (long)row * SourceStride, Width);
        float* y = Destination + (long)row * DestinationStride;
        var spec = Spec;
        // Double accumulation: a GroupNorm group of the image tokenizer holds 10⁵–10⁶ elements.
        double center = 0;
        if (spec.Kind == NormKind.Standard)
        {
            for (int j = 0; j < Width; j++)
                center += x[j];
            center /= Width;
        }
        double squares = 0;
        for (int j = 0; j < Width; j++)
        {
            double c = spec.Kind == NormKind.Bias ? x[j] - (double)Bias[(long)Normalization.Parameter(spec, Width, row, j) * BiasStride] : x[j] - center;
            squares += c * c;
        }
        float scale = (float)(spec.Kind == NormKind.Bias ? spec.Scale / Math.Sqrt(squares / Width) : 1 / Math.Sqrt(squares / Width + spec.Eps));
        float mean = (float)center;
        bool affine = spec.Kind != NormKind.Bias;
        int first = (row % spec.Groups) * Width;
        for (int j = 0; j < Width; j++)
        {
            float v = (x[j] - mean) * scale;
            if (affine)
            {
                long p = (first + j) / spec.ElementsPerChannel;
                if (Weight != null)
                    v *= Weight[p * WeightStride];
                if (Bias != null)
                    v += Bias[p * BiasStride];
            }
            y[j] = v;
        }
    }
}
