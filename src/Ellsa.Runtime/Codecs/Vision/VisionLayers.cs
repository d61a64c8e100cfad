using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Attention;
using Ellsa.Kernels.Ops.Convolution;
using Ellsa.Kernels.Ops.Elementwise;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.Vision;

/// <summary>What one forward pass of the vision tokenizer works with: the backend, the conv scratch, and per-pass tensors (from the tokenizer's pool).</summary>
internal sealed class VisionPass(IComputeBackend backend, ConvWorkspace conv, ScratchPool pool) : IDisposable
{
    public IComputeBackend Backend { get; } = backend;
    public ConvWorkspace Conv { get; } = conv;
    public Scratch Scratch { get; } = new(backend, pool);

    public TensorView Take(params ReadOnlySpan<int> shape) => Scratch.Take(shape);

    /// <summary>
    /// A causal 3-D conv (Emu3VisionVQCausalConv3d, VQ:77-109) over [C, T, H, W]: time padded by 2
    /// in front only, each spatial axis by k − s split with the odd element first. The residual, when
    /// given, is added to the output (a resnet block's skip, in the conv's epilogue).
    /// </summary>
    public TensorView CausalConv3d(Networks.Conv conv, TensorView x, (int D, int H, int W) kernel, (int D, int H, int W) stride,
        TensorView? residual = null)
    {
        int c = x.Dim(0), t = x.Dim(1), h = x.Dim(2), w = x.Dim(3);
        int ph = kernel.H - stride.H, pw = kernel.W - stride.W;
        var spec = ConvSpec.Conv3d(c, t, h, w, kernel, stride, (1, 1, 1), (2, 0, ph / 2 + ph % 2, ph / 2, pw / 2 + pw % 2, pw / 2));
        var y = Take(conv.OutChannels, spec.OutD, spec.OutH, spec.OutW);
        conv.Forward(Backend, x, spec, y.Reshape(conv.OutChannels, spec.Positions), Conv, residual?.Reshape(conv.OutChannels, spec.Positions));
        return y;
    }

    /// <summary>A "same" 3×3 conv (or any odd k with padding k/2) over [C, H, W] into a new [O, H, W] tensor (+ the residual when given).</summary>
    public TensorView Conv2d(Networks.Conv conv, TensorView x, int kernel, int stride = 1, (int Top, int Bottom, int Left, int Right)? pad = null,
        TensorView? residual = null)
    {
        int c = x.Dim(0), h = x.Dim(1), w = x.Dim(2);
        var p = pad ?? (kernel / 2, kernel / 2, kernel / 2, kernel / 2);
        var spec = ConvSpec.Conv3d(c, 1, h, w, (1, kernel, kernel), (1, stride, stride), (1, 1, 1), (0, 0, p.Top, p.Bottom, p.Left, p.Right));
        var y = Take(conv.OutChannels, spec.OutH, spec.OutW);
        conv.Forward(Backend, x.Unsqueeze(1), spec, y.Reshape(conv.OutChannels, spec.Positions), Conv, residual?.Reshape(conv.OutChannels, spec.Positions));
        return y;
    }

    public void Silu(TensorView x) => Backend.Unary(x, x, new Silu());

    public void Dispose() => Scratch.Dispose();
}

/// <summary>How a 2-D block normalises: plain GroupNorm (encoder) or the decoder's SpatialNorm conditioned on the codes.</summary>
internal interface IBlockNorm
{
    /// <summary>The normalised map in a new tensor, passed through SiLU when <paramref name="silu"/> (the blocks' norm → swish).</summary>
    TensorView Forward(VisionPass pass, TensorView x, bool silu);
}

internal sealed class PlainGroupNorm(GroupNorm norm) : IBlockNorm
{
    public static PlainGroupNorm Load(WeightScope scope, int channels) =>
        new(GroupNorm.Load(scope, channels, VisionTokenizerConfig.NormGroups, 1e-6f));

    public TensorView Forward(VisionPass pass, TensorView x, bool silu)
    {
        int c = x.Dim(0), h = x.Dim(1), w = x.Dim(2);
        var y = pass.Take(c, h, w);
        if (silu)
            norm.Forward(pass.Backend, x.Reshape(c, h * w), y.Reshape(c, h * w), new Silu());
        else
            norm.Forward(pass.Backend, x.Reshape(c, h * w), y.Reshape(c, h * w));
        return y;
    }
}

/// <summary>Emu3VisionVQResnetBlock (VQ:239-317): norm, SiLU, conv, norm, SiLU, conv, plus the (1×1-projected) input.</summary>
internal sealed class ResnetBlock2d(IBlockNorm norm1, Conv conv1, IBlockNorm norm2, Conv conv2, Conv? shortcut)
{
    public static ResnetBlock2d Load(WeightScope scope, int inChannels, int outChannels, Func<WeightScope, int, IBlockNorm> norm) => new(
        norm(scope.Pp("norm1"), inChannels),
        Conv.Load(scope.Pp("conv1"), inChannels, outChannels, [3, 3]),
        norm(scope.Pp("norm2"), outChannels),
        Conv.Load(scope.Pp("conv2"), outChannels, outChannels, [3, 3]),
        inChannels == outChannels ? null : Conv.Load(scope.Pp("nin_shortcut"), inChannels, outChannels, [1, 1]));

    public TensorView Forward(VisionPass pass, TensorView x)
    {
        var h = norm1.Forward(pass, x, silu: true);
        h = pass.Conv2d(conv1, h, 3);
        h = norm2.Forward(pass, h, silu: true);
        return pass.Conv2d(conv2, h, 3, residual: shortcut is null ? x : pass.Conv2d(shortcut, x, 1));
    }
}

/// <summary>Emu3VisionVQAttnBlock (VQ:320-393): single-head attention over all positions, scale 1/√C, then proj_out and the residual.</summary>
internal sealed class AttnBlock2d(IBlockNorm norm, Conv q, Conv k, Conv v, Conv proj)
{
    public static AttnBlock2d Load(WeightScope scope, int channels, Func<WeightScope, int, IBlockNorm> norm) => new(
        norm(scope.Pp("norm"), channels),
        Conv.Load(scope.Pp("q"), channels, channels, [1, 1]),
        Conv.Load(scope.Pp("k"), channels, channels, [1, 1]),
        Conv.Load(scope.Pp("v"), channels, channels, [1, 1]),
        Conv.Load(scope.Pp("proj_out"), channels, channels, [1, 1]));

    public TensorView Forward(VisionPass pass, TensorView x)
    {
        int c = x.Dim(0), h = x.Dim(1), w = x.Dim(2), n = h * w;
        var normed = norm.Forward(pass, x, silu: false);
        var queries = pass.Conv2d(q, normed, 1);
        var keys = pass.Conv2d(k, normed, 1);
        var values = pass.Conv2d(v, normed, 1);
        // [C, HW] channel-major seen as [HW, 1 head, C] by strides: no transposes.
        static TensorView Heads(TensorView t, int c, int n) => t.Reshape(c, n).Permute(1, 0).WithUnitHeadAxis(n, c);
        var attended = pass.Take(c, h, w);
        pass.Backend.Attention(Heads(queries, c, n), Heads(keys, c, n), Heads(values, c, n), Heads(attended, c, n),
            AttentionSpec.Full(1, 1f / MathF.Sqrt(c)), null);
        return pass.Conv2d(proj, attended, 1, residual: x);
    }
}

internal static class ViewExtensions
{
    /// <summary>A [n, c] view (possibly strided) with a head axis of 1 inserted: [n, 1, c].</summary>
    public static TensorView WithUnitHeadAxis(this TensorView view, int n, int c)
    {
        var layout = new ViewLayout { Rank = 3, Offset = view.Layout.Offset };
        layout.Set(0, n, view.Layout.Stride(0));
        layout.Set(1, 1, 0);
        layout.Set(2, c, view.Layout.Stride(1));
        return new TensorView(view.Tensor, layout);
    }
}
