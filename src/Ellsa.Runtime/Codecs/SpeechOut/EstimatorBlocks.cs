using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Elementwise;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// CausalBlock1D (cv/flow/decoder.py:L35-48): a causal conv of 3 taps (two zero frames before the
/// first), LayerNorm over the channels (eps 1e-5), Mish. The authors' masks are all ones for one
/// utterance, so they drop out.
/// </summary>
internal sealed class CausalBlock(Conv conv, LayerNorm norm)
{
    public const int Kernel = 3;

    public int OutChannels => conv.OutChannels;

    public static CausalBlock Load(WeightScope scope, int inChannels, int outChannels) => new(
        Conv.Load(scope.Pp("block").Pp(0), inChannels, outChannels, [Kernel]),
        LayerNorm.Load(scope.Pp("block").Pp(2), outChannels, 1e-5f));

    /// <summary>output [F, out] = block(input [F, in]); output must not overlap input.</summary>
    public void Forward(FlowPass pass, TensorSlice input, TensorSlice output)
    {
        pass.CausalConv1d(conv, Kernel, input, output);
        norm.Forward(pass.Backend, output, output, new Mish());
    }
}

/// <summary>
/// CausalResnetBlock1D (decoder.py:L51-55 on Matcha's ResnetBlock1D, decoder.py:L46-61):
/// h = block1(x) + mlp(t) (Mish then Linear of the time embedding, one row added to every frame),
/// h = block2(h), out = h + res_conv(x) (a 1×1 conv).
/// </summary>
internal sealed class CausalResnetBlock(CausalBlock block1, CausalBlock block2, Linear timeProjection, Linear residual)
{
    public int OutChannels => block1.OutChannels;

    public static CausalResnetBlock Load(WeightScope scope, int inChannels, int outChannels, int timeDim) => new(
        CausalBlock.Load(scope.Pp("block1"), inChannels, outChannels),
        CausalBlock.Load(scope.Pp("block2"), outChannels, outChannels),
        Linear.Load(scope.Pp("mlp").Pp(1), timeDim, outChannels),
        PointwiseConv(scope.Pp("res_conv"), inChannels, outChannels));

    /// <summary>A Conv1d of kernel 1 is a Linear over frames: the weight [out, in, 1] as [out, in].</summary>
    public static Linear PointwiseConv(WeightScope scope, int inChannels, int outChannels) =>
        new(scope.Matrix("weight", outChannels, inChannels, 1), scope.Vector("bias", outChannels));

    /// <summary>This block's time row, [1, out] = Linear(mish(embedding)), from the step's Mish'd embedding.</summary>
    public void TimeRow(IComputeBackend backend, TensorSlice mishEmbedding, TensorSlice row) => timeProjection.Forward(backend, mishEmbedding, row);

    /// <summary>output [F, out] = block(input [F, in]) with this step's time row; output must not overlap input.</summary>
    public void Forward(FlowPass pass, TensorSlice input, TensorSlice timeRow, TensorSlice output)
    {
        var backend = pass.Backend;
        int frames = input.Rows, channels = OutChannels;
        var h = pass.Frames("resnet.h", frames, channels);
        block1.Forward(pass, input, h);
        backend.Binary(h, ((TensorView)timeRow).BroadcastTo(frames, channels), h, new Add());
        block2.Forward(pass, h, output);
        residual.AddTo(backend, input, output);
    }
}

/// <summary>
/// Matcha's BasicTransformerBlock as the estimator builds it (mt/models/components/transformer.py:
/// L138-316, self-attention only, layer norms): x += to_out(attn(LN1 x)) with diffusers' Attention
/// (no q/k/v bias, scale head_dim^−½, the chunk mask as a −1e10 score bias, which weighs masked
/// keys exactly 0 as −∞ does), then x += W2·gelu(W1·LN3 x) (exact GELU, inner 4·dim).
/// </summary>
internal sealed class EstimatorTransformer
{
    private readonly LayerNorm _norm1, _norm3;
    private readonly Linear _query, _key, _value, _out, _ff1, _ff2;
    private readonly int _heads, _headDim;

    public EstimatorTransformer(WeightScope scope, int dim, EstimatorConfig config)
    {
        _heads = config.NumHeads;
        _headDim = config.AttentionHeadDim;
        int inner = config.AttentionWidth;
        _norm1 = LayerNorm.Load(scope.Pp("norm1"), dim, 1e-5f);
        _norm3 = LayerNorm.Load(scope.Pp("norm3"), dim, 1e-5f);
        var attention = scope.Pp("attn1");
        _query = Linear.Load(attention.Pp("to_q"), dim, inner, bias: false);
        _key = Linear.Load(attention.Pp("to_k"), dim, inner, bias: false);
        _value = Linear.Load(attention.Pp("to_v"), dim, inner, bias: false);
        _out = Linear.Load(attention.Pp("to_out").Pp(0), inner, dim);
        _ff1 = Linear.Load(scope.Pp("ff").Pp("net").Pp(0).Pp("proj"), dim, 4 * dim);
        _ff2 = Linear.Load(scope.Pp("ff").Pp("net").Pp(2), 4 * dim, dim);
    }

    /// <summary>x = block(x) in place, [F, dim], attention chunks of <paramref name="chunk"/> frames.</summary>
    public void Forward(FlowPass pass, TensorSlice x, int chunk)
    {
        var backend = pass.Backend;
        int frames = x.Rows, dim = x.Cols, inner = _heads * _headDim;
        var normed = pass.Rows("transformer.normed", frames, dim);
        _norm1.Forward(backend, x, normed);
        var q = pass.Rows("transformer.q", frames, inner);
        // Replaying the prompt's stored rows, the keys and values start with theirs.
        int lead = pass.Prefix?.KeyLead ?? 0;
        var k = pass.Rows("transformer.k", lead + frames, inner);
        var v = pass.Rows("transformer.v", lead + frames, inner);
        _query.Forward(backend, normed, q);
        _key.Forward(backend, normed, k.RowRange(lead, frames));
        _value.Forward(backend, normed, v.RowRange(lead, frames));
        pass.Prefix?.KeysAndValues(k, v);
        var attended = pass.Rows("transformer.attended", frames, inner);
        ChunkAttention.Run(backend, q, k, v, attended, _heads, 1f / MathF.Sqrt(_headDim), chunk, firstQuery: lead);
        _out.AddTo(backend, attended, x);
        _norm3.Forward(backend, x, normed);
        var hidden = pass.Rows("transformer.hidden", frames, 4 * dim);
        _ff1.Forward(backend, normed, hidden, new Gelu());
        _ff2.AddTo(backend, hidden, x);
    }
}
