using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Convolution;

namespace Ellsa.Kernels.Ops.Depthwise;

/// <summary>
/// The depthwise convolution family: every channel convolved with its own kernel (groups =
/// channels), computed directly. An im2col block would be a one-row product per channel, so the
/// weight GEMM gains nothing here. Zipformer's ConvNeXt (7×7), its chunk-causal convs (1-D,
/// causal and within chunks) and, with one kernel shared by every channel, SimpleDownsample's
/// weighted sum of consecutive frames are all this op.
/// <para>
/// Contract: input is a [C, D, H, W] view as the <see cref="ConvSpec"/> describes (spec.Channels =
/// C; zero padding from the spec); weight a [C, taps] view with taps = kd·kh·kw in PyTorch's order
/// (a channel stride of 0 shares one kernel); bias a [C] view or none; output a [C, positions]
/// view that overlaps neither operand. Output positions run over (od, oh, ow), ow fastest.
/// </para>
/// </summary>
public static class DepthwiseConvolution
{
    public static int Taps(in ConvSpec spec) => spec.KernelD * spec.KernelH * spec.KernelW;

    public static void Check(in TensorView input, in ConvSpec spec, in TensorView weight, in TensorView? bias, in TensorView output)
    {
        spec.Validate("depthwise convolution");
        spec.CheckInput(input, "depthwise convolution");
        if (weight.Rank != 2 || weight.Dim(0) != spec.Channels || weight.Dim(1) != Taps(spec))
            throw new ArgumentException($"depthwise convolution {spec}: weight view {weight} is not [{spec.Channels}, {Taps(spec)}]");
        if (bias is { } b && (b.Rank != 1 || b.Dim(0) != spec.Channels))
            throw new ArgumentException($"depthwise convolution {spec}: bias view {b} is not [{spec.Channels}]");
        if (output.Rank != 2 || output.Dim(0) != spec.Channels || output.Dim(1) != spec.Positions)
            throw new ArgumentException($"depthwise convolution {spec}: output view {output} is not [{spec.Channels}, {spec.Positions}]");
        for (int axis = 0; axis < 2; axis++)
        {
            if (output.Layout.Stride(axis) == 0 && output.Dim(axis) > 1)
                throw new ArgumentException($"depthwise convolution {spec}: the output {output} is broadcast along axis {axis}; each element must be written once");
        }
        if ((long)spec.Channels * spec.Positions > int.MaxValue)
            throw new ArgumentException($"depthwise convolution {spec}: {(long)spec.Channels * spec.Positions} outputs exceed one launch");
    }

    /// <summary>
    /// The input element output position <paramref name="p"/> reads at tap <paramref name="t"/>
    /// of channel 0 (add the channel's offset), or −1 where the kernel lies on padding.
    /// </summary>
    public static int TapOffset(in ConvSpec spec, in ViewLayout input, int p, int t) =>
        spec.InputOffset(p, t, 0, input.S1, input.S2, input.S3, input.Offset);

    /// <summary>The definition in double precision over host buffers laid out as the views say.</summary>
    public static void Reference(ReadOnlySpan<float> input, ViewLayout li, in ConvSpec spec, ReadOnlySpan<float> weight, ViewLayout lw,
        ReadOnlySpan<float> bias, ViewLayout lb, Span<float> output, ViewLayout lo)
    {
        int taps = Taps(spec), positions = spec.Positions;
        for (int c = 0; c < spec.Channels; c++)
        {
            for (int p = 0; p < positions; p++)
            {
                double sum = bias.IsEmpty ? 0 : bias[lb.Offset + c * lb.S0];
                for (int t = 0; t < taps; t++)
                {
                    int at = TapOffset(spec, li, p, t);
                    if (at >= 0)
                        sum += (double)input[at + c * li.S0] * weight[lw.Offset + c * lw.S0 + t * lw.S1];
                }
                output[lo.Offset + c * lo.S0 + p * lo.S1] = (float)sum;
            }
        }
    }
}
