using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Gpu.Kernels;
using Ellsa.Kernels.Gpu.Memory;
using ILGPU;
using ILGPU.Runtime;

namespace Ellsa.Kernels.Gpu;

/// <summary>
/// Projections with Q8 weights: the dequantising GEMV for any number of input rows (see <see cref="Q8GemvKernels"/>).
/// <see cref="MatMul"/> and <see cref="GateUpSwiGlu"/> check the operands and hold the host gate before these run.
/// </summary>
public sealed partial class IlgpuBackend
{
    private void LaunchQ8(GpuQ8Matrix matrix, GpuTensor x, TensorSlice input, GpuTensor y, TensorSlice output, GpuVector? b, bool accumulate)
    {
        // The norm is not fused into this kernel: run it if one is held back for this input.
        if (TakeNormFor(input, output) is { } norm)
            LaunchNorm(norm);
        var args = new Q8GemvArgs
        {
            Rows = matrix.Rows,
            K = matrix.Cols,
            Blocks = matrix.Blocks,
            ScaleWords = matrix.ScaleWords,
            Tokens = input.Rows,
            XOffset = x.Offset(input),
            XStride = x.Cols,
            YOffset = y.Offset(output),
            YStride = y.Cols,
            HasBias = b is null ? 0 : 1,
            Accumulate = accumulate ? 1 : 0,
            Exchange = Exchange,
            XAligned = x.Offset(input) % 4 == 0 && x.Cols % 4 == 0 ? 1 : 0,
        };
        Launch("MatMul (q8)", (matrix, x, y, b, args), static (backend, s) =>
                backend._kernels.Q8Gemv.Value(backend._host.Stream,
                    new KernelConfig(backend.Groups(Q8GemvKernels.GridSize(s.args.Rows, backend.Threads(Q8GemvKernels.Threads))), backend.Threads(Q8GemvKernels.Threads)),
                    s.matrix.Quants, s.matrix.Scales, s.x.View, s.x.Vectors, s.y.View, s.b?.View ?? backend._workspace.Dummy, s.args),
            static s => $"{s.matrix.Name} {s.matrix.Rows}×{s.matrix.Cols} q8, {s.args.Tokens} rows", flush: false);
    }

    /// <summary>gate|up through the q8 product into scratch, then SwiGLU (the bf16 path fuses them; this one does not yet).</summary>
    private void GateUpSwiGluQ8(GpuQ8Matrix gateUp, GpuTensor x, TensorSlice input, GpuTensor y, TensorSlice output)
    {
        var scratch = ProductScratch(input.Rows, gateUp.Rows);
        var product = new TensorSlice(scratch, 0, input.Rows, 0, gateUp.Rows);
        LaunchQ8(gateUp, x, input, scratch, product, null, accumulate: false);
        LaunchSwiGlu(scratch, product, y, output);
    }
}
