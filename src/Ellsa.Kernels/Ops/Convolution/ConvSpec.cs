using Ellsa.Kernels.Backend;

namespace Ellsa.Kernels.Ops.Convolution;

/// <summary>
/// A convolution over up to three spatial axes (depth, height, width; a 1-D conv uses width only,
/// a 2-D one height and width), with zero padding that may differ before and after (causal convs
/// pad before only). Unused axes have size, kernel, stride and dilation 1 and no padding. Plain
/// fields: the same value is the GPU kernel's argument.
/// </summary>
public struct ConvSpec
{
    public int Channels;
    public int InD, InH, InW;
    public int KernelD, KernelH, KernelW;
    public int StrideD, StrideH, StrideW;
    public int DilationD, DilationH, DilationW;
    public int PadD0, PadD1, PadH0, PadH1, PadW0, PadW1;

    public readonly int OutD => Out(InD, PadD0 + PadD1, KernelD, StrideD, DilationD);
    public readonly int OutH => Out(InH, PadH0 + PadH1, KernelH, StrideH, DilationH);
    public readonly int OutW => Out(InW, PadW0 + PadW1, KernelW, StrideW, DilationW);
    /// <summary>Output positions (one row of the column matrix each).</summary>
    public readonly int Positions => OutD * OutH * OutW;
    /// <summary>Weights per output channel: the column matrix's width and the flattened weight's row length.</summary>
    public readonly int Taps => Channels * KernelD * KernelH * KernelW;

    /// <summary>Output size, 0 when the kernel overhangs the padded input (C#'s division truncates, so that case is tested first).</summary>
    private static int Out(int size, int pad, int kernel, int stride, int dilation)
    {
        int span = size + pad - dilation * (kernel - 1) - 1;
        return span < 0 || stride < 1 ? 0 : span / stride + 1;
    }

    public static ConvSpec Conv1d(int channels, int length, int kernel, int stride = 1, int dilation = 1, int padBefore = 0, int padAfter = 0) =>
        Conv3d(channels, 1, 1, length, (1, 1, kernel), (1, 1, stride), (1, 1, dilation), (0, 0, 0, 0, padBefore, padAfter));

    public static ConvSpec Conv2d(int channels, int height, int width, int kernel, int stride = 1, int padding = 0) =>
        Conv3d(channels, 1, height, width, (1, kernel, kernel), (1, stride, stride), (1, 1, 1), (0, 0, padding, padding, padding, padding));

    public static ConvSpec Conv3d(int channels, int depth, int height, int width, (int D, int H, int W) kernel, (int D, int H, int W) stride,
        (int D, int H, int W) dilation, (int D0, int D1, int H0, int H1, int W0, int W1) pad) => new()
    {
        Channels = channels, InD = depth, InH = height, InW = width,
        KernelD = kernel.D, KernelH = kernel.H, KernelW = kernel.W,
        StrideD = stride.D, StrideH = stride.H, StrideW = stride.W,
        DilationD = dilation.D, DilationH = dilation.H, DilationW = dilation.W,
        PadD0 = pad.D0, PadD1 = pad.D1, PadH0 = pad.H0, PadH1 = pad.H1, PadW0 = pad.W0, PadW1 = pad.W1,
    };

    /// <summary>Throws unless kernel, stride, dilation and channels are positive, padding is non-negative and the kernel fits the padded input.</summary>
    public readonly void Validate(string op)
    {
        if (KernelD < 1 || KernelH < 1 || KernelW < 1 || StrideD < 1 || StrideH < 1 || StrideW < 1
            || DilationD < 1 || DilationH < 1 || DilationW < 1 || Channels < 1
            || PadD0 < 0 || PadD1 < 0 || PadH0 < 0 || PadH1 < 0 || PadW0 < 0 || PadW1 < 0)
            throw new ArgumentException($"{op} {this}: kernel, stride, dilation and channels must be positive and padding non-negative");
        if (OutD < 1 || OutH < 1 || OutW < 1)
            throw new ArgumentException($"{op} {this}: the input is smaller than the kernel");
    }

    /// <summary>Throws unless <paramref name="input"/> is the [C, D, H, W] view the spec describes.</summary>
    public readonly void CheckInput(in TensorView input, string op)
    {
        if (input.Rank != 4 || input.Dim(0) != Channels || input.Dim(1) != InD || input.Dim(2) != InH || input.Dim(3) != InW)
            throw new ArgumentException($"{op} {this}: input view {input} is not [{Channels}, {InD}, {InH}, {InW}]");
    }

    /// <summary>The column matrix's entry for output position <paramref name="p"/> and tap <paramref name="k"/> as an input offset, or −1 for padding.</summary>
    public readonly int InputOffset(int p, int k, int strideC, int strideD, int strideH, int strideW, int baseOffset)
    {
        int l = k % KernelW;
        int rest = k / KernelW;
        int j = rest % KernelH;
        rest /= KernelH;
        int i = rest % KernelD;
        int c = rest / KernelD;
        int ow = p % OutW;
        int q = p / OutW;
        int oh = q % OutH;
        int od = q / OutH;
        int d = od * StrideD - PadD0 + i * DilationD;
        int h = oh * StrideH - PadH0 + j * DilationH;
        int w = ow * StrideW - PadW0 + l * DilationW;
        if (d < 0 || d >= InD || h < 0 || h >= InH || w < 0 || w >= InW)
            return -1;
        return baseOffset + c * strideC + d * strideD + h * strideH + w * strideW;
    }

    public readonly override string ToString() =>
        $"{Channels}×{InD}×{InH}×{InW} → {OutD}×{OutH}×{OutW}, kernel {KernelD}×{KernelH}×{KernelW}, stride {StrideD}×{StrideH}×{StrideW}";
}
