using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Gpu.Kernels;
using Ellsa.Kernels.Ops.Convolution;
using Ellsa.Kernels.Ops.Depthwise;
using ILGPU;
using ILGPU.Runtime;

namespace Ellsa.Kernels.Gpu
{
    public sealed partial class IlgpuBackend
    {
        public void DepthwiseConv(TensorView input, ConvSpec spec, TensorView weight, TensorView? bias, TensorView output)
        {
            DepthwiseConvolution.Check(input, spec, weight, bias, output);
            var x = Tensor(input.Tensor);
            var w = Tensor(weight.Tensor);
            var b = bias is { } bv ? Tensor(bv.Tensor) : null;
            var y = Tensor(output.Tensor);
            var args = new DepthwiseArgs
            {
                Spec = spec, Input = input.Layout, Weight = weight.Layout, Bias = bias?.Layout ?? default, Output = output.Layout,
                HasBias = b is null ? 0 : 1, Count = spec.Channels * spec.Positions,
            };
            Launch("DepthwiseConv", (x, w, b, y, args, dummy: _workspace.Dummy),
                static (backend, s) => backend._kernels.DepthwiseConv.Value(backend._host.Stream, backend.ElementwiseConfig(s.args.Count),
                    s.x.View, s.w.View, s.b?.View ?? s.dummy, s.y.View, s.args),
                static s => $"{s.args.Spec}");
        }
    }
}

namespace Ellsa.Kernels.Gpu.Kernels
{
    public struct DepthwiseArgs
    {
        public ConvSpec Spec;
        public ViewLayout Input, Weight, Bias, Output;
        public int HasBias, Count;
    }

    /// <summary>One thread per output element, consecutive threads on consecutive channels (coalesced for channel-last activations).</summary>
    public static class DepthwiseKernels
    {
        [GpuKernel]
        public static void DepthwiseConv(ArrayView<float> input, ArrayView<float> weight, ArrayView<float> bias, ArrayView<float> output, DepthwiseArgs a)
        {
            int channels = a.Spec.Channels;
            int taps = a.Spec.KernelD * a.Spec.KernelH * a.Spec.KernelW;
            for (int i = Grid.GlobalIndex.X; i < a.Count; i += Grid.DimX * Group.DimX)
            {
                int p = i / channels, c = i - p * channels;
                float sum = a.HasBias != 0 ? bias[a.Bias.Offset + c * a.Bias.S0] : 0f;
                int w = a.Weight.Offset + c * a.Weight.S0;
                int channel = c * a.Input.S0;
                for (int t = 0; t < taps; t++)
                {
                    int at = a.Spec.InputOffset(p, t, 0, a.Input.S1, a.Input.S2, a.Input.S3, a.Input.Offset);
                    if (at >= 0)
                        sum += input[at + channel] * weight[w + t * a.Weight.S1];
                }
                output[a.Output.Offset + c * a.Output.S0 + p * a.Output.S1] = sum;
            }
        }
    }
}
