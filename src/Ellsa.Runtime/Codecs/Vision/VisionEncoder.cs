using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Shapes;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.Vision;

/// <summary>
/// Emu3VisionVQEncoder (VQ:474-596) and quant_conv, for one frame. The authors repeat a still
/// frame temporal_downsample_factor times and run the 2-D encoder on every copy; the copies are
/// identical, so the 2-D part runs once and its output is repeated before the causal time convs
/// (4 → 2 → 1 frames at the release).
/// </summary>
internal sealed class VisionEncoder
{
    private readonly VisionTokenizerConfig _config;
    private readonly Conv _convIn;
    private readonly (ResnetBlock2d[] Blocks, AttnBlock2d[] Attention, Conv? Downsample)[] _levels;
    private readonly ResnetBlock2d _mid1, _mid2;
    private readonly AttnBlock2d _midAttention;
    private readonly PlainGroupNorm _normOut;
    private readonly Conv _convOut;
    private readonly Conv[] _timeConvs;
    private readonly TemporalBlock[] _timeBlocks;
    private readonly Conv _quantConv;

    public VisionEncoder(VisionTokenizerConfig config, WeightScope root)
    {
        _config = config;
        var scope = root.Pp("encoder");
        Func<WeightScope, int, IBlockNorm> norm = (s, c) => PlainGroupNorm.Load(s, c);
        _convIn = Conv.Load(scope.Pp("conv_in"), config.InChannels, config.Channels, [3, 3]);
        _levels = new (ResnetBlock2d[], AttnBlock2d[], Conv?)[config.Levels];
        int width = config.Channels;
        for (int level = 0; level < config.Levels; level++)
        {
            var down = scope.Pp("down").Pp(level);
            int outWidth = config.WidthAt(level);
            var blocks = new ResnetBlock2d[config.ResBlocks];
            var attention = new List<AttnBlock2d>();
            for (int i = 0; i < config.ResBlocks; i++)
            {
                blocks[i] = ResnetBlock2d.Load(down.Pp("block").Pp(i), width, outWidth, norm);
                width = outWidth;
                if (config.AttentionLevels.Contains(level))
                    attention.Add(AttnBlock2d.Load(down.Pp("attn").Pp(i), width, norm));
            }
            var downsample = level == config.Levels - 1 ? null : Conv.Load(down.Pp("downsample").Pp("conv"), width, width, [3, 3]);
            _levels[level] = (blocks, attention.ToArray(), downsample);
        }
        _mid1 = ResnetBlock2d.Load(scope.Pp("mid").Pp("block_1"), width, width, norm);
        _midAttention = AttnBlock2d.Load(scope.Pp("mid").Pp("attn_1"), width, norm);
        _mid2 = ResnetBlock2d.Load(scope.Pp("mid").Pp("block_2"), width, width, norm);
        _normOut = PlainGroupNorm.Load(scope.Pp("norm_out"), width);
        _convOut = Conv.Load(scope.Pp("conv_out"), width, config.ZChannels, [3, 3]);
        _timeConvs = Enumerable.Range(0, config.TimeConvs)
            .Select(i => Conv.Load(scope.Pp("time_conv").Pp(i).Pp("conv").Pp("conv"), config.ZChannels, config.ZChannels, [4, 3, 3]))
            .ToArray();
        _timeBlocks = Enumerable.Range(0, config.ResBlocks)
            .Select(i => TemporalBlock.Load(scope.Pp("time_res_stack").Pp(i), config.ZChannels))
            .ToArray();
        _quantConv = Conv.Load(root.Pp("quant_conv").Pp("conv"), config.ZChannels, config.EmbedDim, [3, 1, 1]);
    }

    /// <summary>The 2-D encoder's output ([z, h, w], what the authors' conv_out gives for each repeated frame).</summary>
    public TensorView Encode2d(VisionPass pass, TensorView pixels)
    {
        var h = pass.Conv2d(_convIn, pixels, 3);
        foreach (var (blocks, attention, downsample) in _levels)
        {
            for (int i = 0; i < blocks.Length; i++)
            {
                h = blocks[i].Forward(pass, h);
                if (attention.Length > 0)
                    h = attention[i].Forward(pass, h);
            }
            // Emu3VisionVQDownsample: pad right and bottom by one, then 3×3 stride 2 (VQ:58-74).
            if (downsample is not null)
                h = pass.Conv2d(downsample, h, 3, stride: 2, pad: (0, 1, 0, 1));
        }
        h = _mid1.Forward(pass, h);
        h = _midAttention.Forward(pass, h);
        h = _mid2.Forward(pass, h);
        h = _normOut.Forward(pass, h, silu: true);
        return pass.Conv2d(_convOut, h, 3);
    }

    /// <summary>From the 2-D output to the quantiser's input: repeat in time, causal time convs, time_res_stack, quant_conv.</summary>
    public (TensorView EncoderOut, TensorView Latent) Temporal(VisionPass pass, TensorView frame)
    {
        int z = frame.Dim(0), hh = frame.Dim(1), ww = frame.Dim(2), t = _config.TemporalDownsample;
        var video = pass.Take(z, t, hh, ww);
        Shapes.Copy(pass.Backend, frame.Reshape(z, 1, hh, ww).BroadcastTo(z, t, hh, ww), video);
        foreach (var conv in _timeConvs)
        {
            video = pass.CausalConv3d(conv, video, (4, 3, 3), (2, 1, 1));
            pass.Silu(video);
        }
        foreach (var block in _timeBlocks)
            video = block.Forward(pass, video);
        var latent = pass.CausalConv3d(_quantConv, video, (3, 1, 1), (1, 1, 1));
        return (video, latent);
    }
}

/// <summary>Emu3VisionVQResnetTemporalBlock (VQ:112-171) with equal widths: BatchNorm (eval), SiLU, causal 3×3×3 conv, twice, plus the input.</summary>
internal sealed class TemporalBlock(ChannelAffine norm1, Conv conv1, ChannelAffine norm2, Conv conv2)
{
    /// <summary>nn.BatchNorm3d's default eps.</summary>
    private const double BatchNormEps = 1e-5;

    public static TemporalBlock Load(WeightScope scope, int channels) => new(
        ChannelAffine.LoadBatchNorm(scope.Pp("norm1"), channels, BatchNormEps),
        Conv.Load(scope.Pp("conv1").Pp("conv"), channels, channels, [3, 3, 3]),
        ChannelAffine.LoadBatchNorm(scope.Pp("norm2"), channels, BatchNormEps),
        Conv.Load(scope.Pp("conv2").Pp("conv"), channels, channels, [3, 3, 3]));

    public TensorView Forward(VisionPass pass, TensorView x)
    {
        int c = x.Dim(0), rest = x.Dim(1) * x.Dim(2) * x.Dim(3);
        var h = pass.Take(x.Dim(0), x.Dim(1), x.Dim(2), x.Dim(3));
        norm1.Forward(pass.Backend, x.Reshape(c, rest), h.Reshape(c, rest));
        pass.Silu(h);
        h = pass.CausalConv3d(conv1, h, (3, 3, 3), (1, 1, 1));
        norm2.Forward(pass.Backend, h.Reshape(c, rest), h.Reshape(c, rest));
        pass.Silu(h);
        return pass.CausalConv3d(conv2, h, (3, 3, 3), (1, 1, 1), residual: x);
    }
}
