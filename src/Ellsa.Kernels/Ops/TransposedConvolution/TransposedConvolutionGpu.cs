using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Gpu.Kernels;
using Ellsa.Kernels.Ops.TransposedConvolution;
using ILGPU;
using ILGPU.Runtime;

namespace Ellsa.Kernels.Gpu
{
    public sealed partial class IlgpuBackend
    {
        public void OverlapAdd(TensorView columns, OverlapAddSpec spec, int firstInput, int firstOutput, TensorView? bias, TensorView output)
        {
            TransposedConvolution.CheckOverlapAdd(columns, spec, firstInput, firstOutput, bias, output);
            var x = Tensor(columns.Tensor);
            var b = bias is { } bv ? Tensor(bv.Tensor) : null;
            var y = Tensor(output.Tensor);
            var args = new OverlapAddArgs
            {
                Spec = spec, Columns = columns.Layout, Bias = bias?.Layout ?? default, Output = output.Layout,
                FirstInput = firstInput, FirstOutput = firstOutput, HasBias = b is null ? 0 : 1, Count = spec.Channels * output.Dim(1),
            };
            if (args.Count == 0)
                return;
            Launch("OverlapAdd", (x, b, y, args, dummy: _workspace.Dummy),
                static (backend, s) => backend._kernels.OverlapAdd.Value(backend._host.Stream, backend.ElementwiseConfig(s.args.Count),
                    s.x.View, s.b?.View ?? s.dummy, s.y.View, s.args),
                static s => $"{s.args.Spec}, outputs from {s.args.FirstOutput}");
        }
    }
}

namespace Ellsa.Kernels.Gpu.Kernels
{
    public struct OverlapAddArgs
    {
        public OverlapAddSpec Spec;
        public ViewLayout Columns, Bias, Output;
        public int FirstInput, FirstOutput, HasBias, Count;
    }

    internal readonly struct ViewReader(ArrayView<float> data) : IFloatReader
    {
        public float Read(int offset) => data[offset];
    }

    /// <summary>One thread per output element, consecutive threads on consecutive positions of a channel.</summary>
    public static class TransposedConvolutionKernels
    {
        [GpuKernel]
        public static void OverlapAdd(ArrayView<float> columns, ArrayView<float> bias, ArrayView<float> output, OverlapAddArgs a)
        {
            int positions = a.Count / a.Spec.Channels;
            var reader = new ViewReader(columns);
            for (int i = Grid.GlobalIndex.X; i < a.Count; i += Grid.DimX * Group.DimX)
            {
                int c = i / positions, p = i - c * positions;
                float b = a.HasBias != 0 ? bias[a.Bias.Offset + c * a.Bias.S0] : 0f;
                output[a.Output.Offset + c * a.Output.S0 + p * a.Output.S1] =
                    TransposedConvolution.Gather(reader, a.Columns, a.Spec, a.FirstInput, c, a.FirstOutput + p, b);
            }
        }
    }
}
