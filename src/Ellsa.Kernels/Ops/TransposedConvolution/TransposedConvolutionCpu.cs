using System.Runtime.CompilerServices;
using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.TransposedConvolution;

namespace Ellsa.Kernels.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void OverlapAdd(TensorView columns, OverlapAddSpec spec, int firstInput, int firstOutput, TensorView? bias, TensorView output)
    {
        TransposedConvolution.CheckOverlapAdd(columns, spec, firstInput, firstOutput, bias, output);
        lock (_gate)
        {
            var job = Job<OverlapAddJob>();
            job.Columns = new PointerReader(Base(columns));
            job.Bias = bias is { } b ? Base(b) : null;
            job.Output = Base(output);
            (job.LC, job.LB, job.LO) = (columns.Layout, bias?.Layout ?? default, output.Layout);
            job.Spec = spec;
            job.FirstInput = firstInput;
            job.FirstOutput = firstOutput;
            job.Count = output.Dim(1);
            _pool.Run(job, spec.Channels * ((job.Count + OverlapAddJob.PositionsPerChunk - 1) / OverlapAddJob.PositionsPerChunk));
        }
    }
}

internal readonly unsafe struct PointerReader(float* data) : IFloatReader
{
    public float Read(int offset) => data[offset];
}

/// <summary>A run of one channel's output positions per chunk, each the gather of its contributions.</summary>
internal sealed unsafe class OverlapAddJob : IParallelWork
{
    public const int PositionsPerChunk = 256;

    public PointerReader Columns;
    public float* Bias, Output;
    public ViewLayout LC, LB, LO;
    public OverlapAddSpec Spec;
    public int FirstInput, FirstOutput, Count;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int chunk, int worker)
    {
        int chunks = (Count + PositionsPerChunk - 1) / PositionsPerChunk;
        int c = chunk / chunks, first = chunk % chunks * PositionsPerChunk, end = Math.Min(Count, first + PositionsPerChunk);
        float bias = Bias == null ? 0f : Bias[LB.Offset + (long)c * LB.S0];
        float* row = Output + LO.Offset + (long)c * LO.S0;
        for (int p = first; p < end; p++)
            row[(long)p * LO.S1] = TransposedConvolution.Gather(Columns, LC, Spec, FirstInput, c, FirstOutput + p, bias);
    }
}
