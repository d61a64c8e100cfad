using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Elementwise;
using Ellsa.Kernels.Ops.Shapes;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.Vision;

/// <summary>
/// Emu3VisionVQSpatialNorm (VQ:174-236): GroupNorm, then x·conv_y(zq) + conv_b(zq) with zq the
/// codes' embeddings upsampled (nearest) to x's size. A 1×1 conv commutes with nearest
/// upsampling, so conv_y and conv_b run at the codes' resolution and are broadcast over each
/// pixel block: the same values, a fraction of the work.
/// </summary>
internal sealed class SpatialNorm(GroupNorm norm, Conv convY, Conv convB, Func<TensorView> zq) : IBlockNorm
{
    public static Func<WeightScope, int, IBlockNorm> Loader(int zqChannels, Func<TensorView> zq) => (scope, channels) => new SpatialNorm(
        GroupNorm.Load(scope.Pp("norm_layer"), channels, VisionTokenizerConfig.NormGroups, 1e-6f),
        Conv.Load(scope.Pp("conv_y"), zqChannels, channels, [1, 1]),
        Conv.Load(scope.Pp("conv_b"), zqChannels, channels, [1, 1]),
        zq);

    public TensorView Forward(VisionPass pass, TensorView x, bool silu)
    {
        int c = x.Dim(0), hh = x.Dim(1), ww = x.Dim(2);
        var codes = zq();
        int h = codes.Dim(1), w = codes.Dim(2);
        if (hh % h != 0 || ww % w != 0 || hh / h != ww / w)
            throw new InvalidOperationException($"SpatialNorm of a {hh}×{ww} map over {h}×{w} codes needs one integer scale");
        int f = hh / h;
        var y = pass.Take(c, hh, ww);
        norm.Forward(pass.Backend, x.Reshape(c, hh * ww), y.Reshape(c, hh * ww));
        var scale = pass.Conv2d(convY, codes, 1);
        var shift = pass.Conv2d(convB, codes, 1);
        var blocks = y.Reshape(c, h, f, w, f);
        pass.Backend.Binary(blocks, scale.Reshape(c, h, 1, w, 1).BroadcastTo(c, h, f, w, f), blocks, new Multiply());
        pass.Backend.Binary(blocks, shift.Reshape(c, h, 1, w, 1).BroadcastTo(c, h, f, w, f), blocks, new Add());
        if (silu)
            pass.Silu(y);
        return y;
    }
}

/// <summary>
/// Emu3VisionVQDecoder (VQ:599-720) and post_quant_conv: codes → the first frame of the decoded
/// clip ([3, 8h, 8w]), which is what the authors' <c>decode</c> returns for a still image. Their
/// decoder runs the time stack on z and zq together and the 2-D part on all 4 upsampled frames;
/// every time conv is causal, so frame 0 depends on nothing later and only it is decoded.
/// </summary>
internal sealed class VisionDecoder
{
    private readonly VisionTokenizerConfig _config;
    private readonly Conv _postQuantConv;
    private readonly TemporalBlock[] _timeBlocks;
    private readonly Conv[] _timeConvs;
    private readonly Conv _convIn;
    private readonly ResnetBlock2d _mid1, _mid2;
    private readonly AttnBlock2d _midAttention;
    private readonly (ResnetBlock2d[] Blocks, AttnBlock2d[] Attention, Conv? Upsample)[] _levels;
    private readonly SpatialNorm _normOut;
    private readonly Conv _convOut;
    private TensorView _zq;

    public VisionDecoder(VisionTokenizerConfig config, WeightScope root)
    {
        _config = config;
        var scope = root.Pp("decoder");
        var norm = SpatialNorm.Loader(config.EmbedDim, () => _zq);
        int z = config.ZChannels;
        _postQuantConv = Conv.Load(root.Pp("post_quant_conv").Pp("conv"), config.EmbedDim, z, [3, 1, 1]);
        _timeBlocks = Enumerable.Range(0, config.ResBlocks).Select(i => TemporalBlock.Load(scope.Pp("time_res_stack").Pp(i), z)).ToArray();
        _timeConvs = Enumerable.Range(0, config.TimeConvs)
            .Select(i => Conv.Load(scope.Pp("time_conv").Pp(i).Pp("conv").Pp("conv"), z, z, [3, 3, 3]))
            .ToArray();
        int width = config.TopWidth;
        _convIn = Conv.Load(scope.Pp("conv_in"), z, width, [3, 3]);
        _mid1 = ResnetBlock2d.Load(scope.Pp("mid").Pp("block_1"), width, width, norm);
        _midAttention = AttnBlock2d.Load(scope.Pp("mid").Pp("attn_1"), width, norm);
        _mid2 = ResnetBlock2d.Load(scope.Pp("mid").Pp("block_2"), width, width, norm);
        _levels = new (ResnetBlock2d[], AttnBlock2d[], Conv?)[config.Levels];
        for (int level = config.Levels - 1; level >= 0; level--)
        {
            var up = scope.Pp("up").Pp(level);
            int outWidth = config.WidthAt(level);
            var blocks = new ResnetBlock2d[config.ResBlocks + 1];
            var attention = new List<AttnBlock2d>();
            for (int i = 0; i < blocks.Length; i++)
            {
                blocks[i] = ResnetBlock2d.Load(up.Pp("block").Pp(i), width, outWidth, norm);
                width = outWidth;
                if (config.AttentionLevels.Contains(level))
                    attention.Add(AttnBlock2d.Load(up.Pp("attn").Pp(i), width, norm));
            }
            var upsample = level == 0 ? null : Conv.Load(up.Pp("upsample").Pp("conv"), width, width, [3, 3]);
            _levels[level] = (blocks, attention.ToArray(), upsample);
        }
        _normOut = (SpatialNorm)norm(scope.Pp("norm_out"), width);
        _convOut = Conv.Load(scope.Pp("conv_out"), width, config.OutChannels, [3, 3]);
    }

    /// <summary>The first decoded frame [3, 8h, 8w] of the codes' embeddings quant [embed, h, w].</summary>
    public TensorView Decode(VisionPass pass, TensorView quant)
    {
        int e = quant.Dim(0), h = quant.Dim(1), w = quant.Dim(2);
        var q = quant.Reshape(e, 1, h, w);
        var z = pass.CausalConv3d(_postQuantConv, q, (3, 1, 1), (1, 1, 1));
        var zq = Time(pass, q);
        z = Time(pass, z);
        _zq = zq.Select(1, 0);
        var x = z.Select(1, 0);

        var hidden = pass.Conv2d(_convIn, x, 3);
        hidden = _mid1.Forward(pass, hidden);
        hidden = _midAttention.Forward(pass, hidden);
        hidden = _mid2.Forward(pass, hidden);
        for (int level = _config.Levels - 1; level >= 0; level--)
        {
            var (blocks, attention, upsample) = _levels[level];
            for (int i = 0; i < blocks.Length; i++)
            {
                hidden = blocks[i].Forward(pass, hidden);
                if (attention.Length > 0)
                    hidden = attention[i].Forward(pass, hidden);
            }
            // Emu3VisionVQUpsample: nearest ×2, then a 3×3 conv (VQ:39-55).
            if (upsample is not null)
            {
                int c = hidden.Dim(0), hh = hidden.Dim(1), ww = hidden.Dim(2);
                var larger = pass.Take(c, hh * 2, ww * 2);
                Shapes.UpsampleNearest(pass.Backend, hidden, larger, axes: 2, factor: 2);
                hidden = pass.Conv2d(upsample, larger, 3);
            }
        }
        hidden = _normOut.Forward(pass, hidden, silu: true);
        return pass.Conv2d(_convOut, hidden, 3);
    }

    /// <summary>The decoder's time stack on one [C, T, h, w] stream: time_res_stack, then each temporal upsample (nearest ×2 in time, causal conv) and SiLU.</summary>
    private TensorView Time(VisionPass pass, TensorView video)
    {
        foreach (var block in _timeBlocks)
            video = block.Forward(pass, video);
        foreach (var conv in _timeConvs)
        {
            int c = video.Dim(0), t = video.Dim(1), h = video.Dim(2), w = video.Dim(3);
            var doubled = pass.Take(c, t * 2, h, w);
            Shapes.Copy(pass.Backend, video.Reshape(c, t, 1, h * w).BroadcastTo(c, t, 2, h * w), doubled.Reshape(c, t, 2, h * w));
            video = pass.CausalConv3d(conv, doubled, (3, 3, 3), (1, 1, 1));
            pass.Silu(video);
        }
        return video;
    }
}
