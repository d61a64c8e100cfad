using System.Runtime.CompilerServices;
using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Convolution;

namespace Ellsa.Kernels.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void Im2Col(TensorView input, ConvSpec spec, int firstPosition, TensorSlice columns)
    {
        Convolution.CheckColumns(input, spec, firstPosition, columns);
        lock (_gate)
        {
            var job = Job<Im2ColJob>();
            job.Input = Base(input);
            job.Layout = input.Layout;
            job.Spec = spec;
            job.FirstPosition = firstPosition;
            job.Columns = At(columns);
            job.ColumnStride = columns.Tensor.Cols;
            job.Rows = columns.Rows;
            _pool.Run(job, (job.Rows + Im2ColJob.RowsPerChunk - 1) / Im2ColJob.RowsPerChunk);
        }
    }
}

/// <summary>Rows of the column block: each output position gathers its taps (zero where the kernel overhangs the padding).</summary>
internal sealed unsafe class Im2ColJob : IParallelWork
{
    public const int RowsPerChunk = 16;

    public float* Input;
    public ViewLayout Layout;
    public ConvSpec Spec;
    public int FirstPosition, Rows;
    public float* Columns;
    public int ColumnStride;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int chunk, int worker)
    {
        var spec = Spec;
        int taps = spec.Taps;
        int end = Math.Min(Rows, (chunk + 1) * RowsPerChunk);
        for (int r = chunk * RowsPerChunk; r < end; r++)
        {
            float* row = Columns + (long)r * ColumnStride;
            int p = FirstPosition + r;
            for (int k = 0; k < taps; k++)
            {
                int at = spec.InputOffset(p, k, Layout.S0, Layout.S1, Layout.S2, Layout.S3, Layout.Offset);
                row[k] = at < 0 ? 0f : Input[at];
            }
        }
    }
}
