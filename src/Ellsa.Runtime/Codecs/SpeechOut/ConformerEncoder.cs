using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Elementwise;
using Ellsa.Kernels.Ops.Shapes;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// UpsampleConformerEncoder (cv/transformer/upsample_encoder.py:L237-304) in eval over one window
/// of T tokens (the prompt's first): embed (Linear → LayerNorm → ×√D), the pre-lookahead layer,
/// num_blocks Conformer layers under a chunk mask of static_chunk_size tokens, ×2 upsampling
/// (nearest, then a conv of 5 taps that sees no frame ahead), a second embed, 4 layers under a
/// chunk mask twice as long, and the final LayerNorm. Every chunk mask counts from the prompt's
/// first token, so a streamed window is encoded exactly as the authors encode it.
/// </summary>
internal sealed class ConformerEncoder
{
    private const float EmbedNormEps = 1e-5f;

    private readonly ConformerConfig _config;
    private readonly LinearEmbed _embed, _upEmbed;
    private readonly Conv _lookahead1, _lookahead2, _upConv;
    private readonly ConformerLayer[] _layers, _upLayers;
    private readonly LayerNorm _afterNorm;

    public ConformerEncoder(WeightScope scope, ConformerConfig config)
    {
        _config = config;
        int d = config.OutputSize;
        _embed = LinearEmbed.Load(scope.Pp("embed"), d);
        var lookahead = scope.Pp("pre_lookahead_layer");
        _lookahead1 = Conv.Load(lookahead.Pp("conv1"), d, d, [FlowConfig.PreLookaheadLen + 1]);
        _lookahead2 = Conv.Load(lookahead.Pp("conv2"), d, d, [3]);
        _layers = Enumerable.Range(0, config.NumBlocks).Select(i => new ConformerLayer(scope.Pp("encoders").Pp(i), config)).ToArray();
        _upConv = Conv.Load(scope.Pp("up_layer").Pp("conv"), d, d, [2 * ConformerConfig.UpStride + 1]);
        _upEmbed = LinearEmbed.Load(scope.Pp("up_embed"), d);
        _upLayers = Enumerable.Range(0, ConformerConfig.NumUpBlocks).Select(i => new ConformerLayer(scope.Pp("up_encoders").Pp(i), config)).ToArray();
        _afterNorm = LayerNorm.Load(scope.Pp("after_norm"), d, 1e-5f);
    }

    /// <summary>
    /// output [2T, D] = encoder(input [T, D]); <paramref name="table"/> is the espnet table for 2T
    /// frames ([4T − 1, D]), whose middle 2T − 1 rows are the table for T.
    /// </summary>
    public void Forward(FlowPass pass, TensorSlice input, TensorSlice table, TensorSlice output)
    {
        var backend = pass.Backend;
        int t = input.Rows, d = _config.OutputSize, up = ConformerConfig.UpStride;
        var x = pass.Rows("encoder.x", t, d);
        _embed.Forward(pass, input, x);
        pass.Tap("encoder.embed", x);

        // PreLookaheadLayer (L66-96): x + conv2(pad_left2(leaky_relu(conv1(pad_right3(x))))).
        var ahead = pass.Rows("encoder.lookahead", t, d);
        pass.Conv1d(_lookahead1, FlowConfig.PreLookaheadLen + 1, x, ahead, padBefore: 0, padAfter: FlowConfig.PreLookaheadLen);
        backend.Unary(ahead, ahead, new LeakyRelu(0.01f));
        var back = pass.Rows("encoder.lookahead-out", t, d);
        pass.Conv1d(_lookahead2, 3, ahead, back, padBefore: 2);
        backend.Binary(x, back, x, new Add());
        pass.Tap("encoder.pre_lookahead", x);

        int frames = up * t;
        var tokenTable = table.RowRange(frames - t, 2 * t - 1);
        foreach (var layer in _layers)
            layer.Forward(pass, x, tokenTable, _config.StaticChunkSize);
        pass.Tap("encoder.encoders", x);

        // Upsample1D (L37-63): each frame repeated, then a conv over the 2·stride frames before and the frame itself.
        var repeated = pass.Rows("encoder.repeated", frames, d);
        Shapes.Copy(backend, ((TensorView)x).Unsqueeze(1).BroadcastTo(t, up, d), TensorView.Of(repeated.Tensor, t, up, d));
        var y = pass.Rows("encoder.up", frames, d);
        pass.Conv1d(_upConv, 2 * up + 1, repeated, y, padBefore: 2 * up);
        pass.Tap("encoder.up_layer", y);

        _upEmbed.Forward(pass, y, output);
        pass.Tap("encoder.up_embed", output);
        foreach (var layer in _upLayers)
            layer.Forward(pass, output, table, _config.StaticChunkSize * up);
        _afterNorm.Forward(backend, output, output);
        pass.Tap("encoder.out", output);
    }

    /// <summary>LinearNoSubsampling with its positional encoding's scaling (subsampling.py:L69-113, embedding.py:L268): Linear → LayerNorm → ×√D.</summary>
    private sealed class LinearEmbed(Linear linear, LayerNorm norm, float scale)
    {
        public static LinearEmbed Load(WeightScope scope, int dim) => new(
            Linear.Load(scope.Pp("out").Pp(0), dim, dim), LayerNorm.Load(scope.Pp("out").Pp(1), dim, EmbedNormEps), (float)Math.Sqrt(dim));

        public void Forward(FlowPass pass, TensorSlice input, TensorSlice output)
        {
            linear.Forward(pass.Backend, input, output);
            norm.Forward(pass.Backend, output, output);
            pass.Backend.Unary(output, output, new Affine(scale, 0f));
        }
    }
}
