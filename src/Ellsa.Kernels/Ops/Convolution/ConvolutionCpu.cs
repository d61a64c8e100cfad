using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Convolution;

namespace Ellsa.Kernels.Cpu;

public sealed unsafe partial class CpuBackend
{
    /// <summary>
    /// The implicit GEMM on AVX-512 when the output (and residual) rows have unit stride, as a
    /// network's dense maps do; otherwise the composed path (im2col, the weight product, a copy).
    /// </summary>
    public void Convolve(DeviceMatrix weight, DeviceVector? bias, TensorView input, ConvSpec spec, TensorView output, TensorView? residual,
        ConvWorkspace workspace)
    {
        Convolution.Check(input, spec, output, weight, residual);
        if (Isa != CpuIsa.Avx512 || !Vector512.IsHardwareAccelerated || output.Layout.S1 != 1 || residual is { Layout.S1: not 1 })
        {
            Convolution.Composed(this, weight, bias, input, spec, output, residual, workspace);
            return;
        }
        lock (_gate)
        {
            var job = Job<ImplicitConvJob>();
            job.Input = Base(input);
            job.Layout = input.Layout;
            job.Spec = spec;
            job.Weights = PackedWeights.Of((CpuMatrix)weight, ImplicitConvJob.Rows).Panels.Pointer;
            job.OutChannels = weight.Rows;
            job.Output = Base(output) + output.Layout.Offset;
            job.OutputStride = output.Layout.S0;
            job.Residual = residual is { } r ? Base(r) + r.Layout.Offset : null;
            job.ResidualStride = residual?.Layout.S0 ?? 0;
            job.Plan(_pool.ThreadCount, bias is null ? null : ((CpuVector)bias).Storage.Pointer);
            _pool.Run(job, job.ChunkCount);
        }
    }

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

    /// <summary>
    /// Each row resolves its output position once and walks the taps in weight order with running
    /// coordinates (the scalar reference's per-tap division chain would dominate a large image).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int chunk, int worker)
    {
        var s = Spec;
        var l = Layout;
        int end = Math.Min(Rows, (chunk + 1) * RowsPerChunk);
        for (int r = chunk * RowsPerChunk; r < end; r++)
        {
            float* row = Columns + (long)r * ColumnStride;
            int p = FirstPosition + r;
            int ow = p % s.OutW, q = p / s.OutW, oh = q % s.OutH, od = q / s.OutH;
            int d0 = od * s.StrideD - s.PadD0, h0 = oh * s.StrideH - s.PadH0, w0 = ow * s.StrideW - s.PadW0;
            int k = 0;
            for (int c = 0; c < s.Channels; c++)
            {
                long channel = l.Offset + (long)c * l.S0;
                for (int i = 0; i < s.KernelD; i++)
                {
                    int d = d0 + i * s.DilationD;
                    bool dOk = d >= 0 && d < s.InD;
                    for (int j = 0; j < s.KernelH; j++)
                    {
                        int h = h0 + j * s.DilationH;
                        if (!dOk || h < 0 || h >= s.InH)
                        {
                            new Span<float>(row + k, s.KernelW).Clear();
                            k += s.KernelW;
                            continue;
                        }
                        float* line = Input + channel + (long)d * l.S1 + (long)h * l.S2;
                        for (int x = 0; x < s.KernelW; x++, k++)
                        {
                            int w = w0 + x * s.DilationW;
                            row[k] = w >= 0 && w < s.InW ? line[(long)w * l.S3] : 0f;
                        }
                    }
                }
            }
        }
    }
}
