using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Gpu.Kernels;
using Ellsa.Kernels.Ops.Convolution;
using ILGPU;
using ILGPU.Runtime;

namespace Ellsa.Kernels.Gpu
{
    public sealed partial class IlgpuBackend
    {
        /// <summary>The composed path: the im2col kernel, the GEMM, and one elementwise launch that transposes the product and adds the residual.</summary>
        public void Convolve(DeviceMatrix weight, DeviceVector? bias, TensorView input, ConvSpec spec, TensorView output, TensorView? residual,
            ConvWorkspace workspace) =>
            Convolution.Composed(this, weight, bias, input, spec, output, residual, workspace);

        public void Im2Col(TensorView input, ConvSpec spec, int firstPosition, TensorSlice columns)
        {
            Convolution.CheckColumns(input, spec, firstPosition, columns);
            var x = Tensor(input.Tensor);
            var y = Tensor(columns);
            var args = new Im2ColArgs
            {
                Spec = spec, Input = input.Layout, FirstPosition = firstPosition, Rows = columns.Rows,
                ColumnOffset = y.Offset(columns), ColumnStride = y.Cols,
            };
            long count = (long)columns.Rows * spec.Taps;
            if (count == 0)
                return;
            if (count > int.MaxValue)
                throw new ArgumentException($"im2col of {columns.Rows} positions × {spec.Taps} taps exceeds one launch");
            Launch("Im2Col", (x, y, args, count: (int)count),
                static (b, s) => b._kernels.Im2Col.Value(b._host.Stream, b.ElementwiseConfig(s.count), s.x.View, s.y.View, s.args),
                static s => $"{s.args.Spec}, positions {s.args.FirstPosition}…{s.args.FirstPosition + s.args.Rows - 1}");
        }
    }
}

namespace Ellsa.Kernels.Gpu.Kernels
{
    public struct Im2ColArgs
    {
        public ConvSpec Spec;
        public ViewLayout Input;
        public int FirstPosition, Rows, ColumnOffset, ColumnStride;
    }

    /// <summary>One thread per column-block element, consecutive threads on consecutive taps (coalesced writes).</summary>
    public static class ConvolutionKernels
    {
        [GpuKernel]
        public static void Im2Col(ArrayView<float> input, ArrayView<float> columns, Im2ColArgs a)
        {
            int taps = a.Spec.Taps;
            int count = a.Rows * taps;
            for (int i = Grid.GlobalIndex.X; i < count; i += Grid.DimX * Group.DimX)
            {
                int r = i / taps, k = i - r * taps;
                int at = a.Spec.InputOffset(a.FirstPosition + r, k, a.Input.S0, a.Input.S1, a.Input.S2, a.Input.S3, a.Input.Offset);
                columns[a.ColumnOffset + r * a.ColumnStride + k] = at < 0 ? 0f : input[at];
            }
        }
    }
}
