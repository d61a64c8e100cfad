using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Elementwise;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// ConformerEncoderLayer as CosyVoice2 builds it (cv/transformer/encoder_layer.py:L158-236:
/// normalize_before, no macaron feed-forward, no conv module): x += MHA(LN_mha(x)), then
/// x += W2·swish(W1·LN_ff(x)) (PositionwiseFeedForward); both norms have eps 1e-12.
/// </summary>
internal sealed class ConformerLayer
{
    private const float NormEps = 1e-12f;

    private readonly LayerNorm _normAttention, _normFeedForward;
    private readonly ConformerAttention _attention;
    private readonly Linear _w1, _w2;

    public ConformerLayer(WeightScope scope, ConformerConfig config)
    {
        int d = config.OutputSize;
        _normAttention = LayerNorm.Load(scope.Pp("norm_mha"), d, NormEps);
        _normFeedForward = LayerNorm.Load(scope.Pp("norm_ff"), d, NormEps);
        _attention = new ConformerAttention(scope.Pp("self_attn"), config);
        _w1 = Linear.Load(scope.Pp("feed_forward").Pp("w_1"), d, config.LinearUnits);
        _w2 = Linear.Load(scope.Pp("feed_forward").Pp("w_2"), config.LinearUnits, d);
    }

    /// <summary>x = layer(x) in place, [T, D]; the table and chunk as <see cref="ConformerAttention.AddTo"/> takes them.</summary>
    public void Forward(FlowPass pass, TensorSlice x, TensorSlice table, int chunk)
    {
        var backend = pass.Backend;
        var normed = pass.Rows("conformer.normed", x.Rows, x.Cols);
        _normAttention.Forward(backend, x, normed);
        _attention.AddTo(pass, normed, table, x, chunk);
        _normFeedForward.Forward(backend, x, normed);
        var hidden = pass.Rows("conformer.hidden", x.Rows, _w1.OutFeatures);
        _w1.Forward(backend, normed, hidden);
        backend.Unary(hidden, hidden, new Silu());
        _w2.AddTo(backend, hidden, x, pass.Rows("conformer.out", x.Rows, x.Cols));
    }
}
