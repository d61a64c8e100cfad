using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Elementwise;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// RelPositionMultiHeadedAttention (cv/transformer/attention.py:L200-330) in eval over a whole
/// sequence: scores[i, j] = ((q_i + u)·k_j + (q_i + v)·p_{i−j}) / √d_k, with p = linear_pos of the
/// espnet table (no bias) and rel_shift's bookkeeping done by a strided view: for a group of
/// queries the product of (q + v) with the table rows it meets is one [heads, queries, width]
/// block, and query a's key j lies at column (queries − 1 − a) + j of it. Chunk-masked scores
/// are −∞ (their softmax weights 0, as the authors' masked_fill after it).
/// </summary>
internal sealed class ConformerAttention
{
    private readonly Linear _query, _key, _value, _out, _position;
    private readonly DeviceTensor _biasU, _biasV;
    private readonly int _dim, _heads;

    public ConformerAttention(WeightScope scope, ConformerConfig config)
    {
        int d = config.OutputSize;
        _dim = d;
        _heads = config.AttentionHeads;
        _query = Linear.Load(scope.Pp("linear_q"), d, d);
        _key = Linear.Load(scope.Pp("linear_k"), d, d, bias: config.KeyBias);
        _value = Linear.Load(scope.Pp("linear_v"), d, d);
        _out = Linear.Load(scope.Pp("linear_out"), d, d);
        _position = Linear.Load(scope.Pp("linear_pos"), d, d, bias: false);
        _biasU = scope.Tensor("pos_bias_u", _heads, config.HeadDim);
        _biasV = scope.Tensor("pos_bias_v", _heads, config.HeadDim);
    }

    /// <summary>
    /// residual += attention(x) for x [T, D] (already normalised); <paramref name="table"/> is the
    /// espnet table for T frames ([2T − 1, D], row k ↔ r = T − 1 − k); <paramref name="chunk"/> the mask's chunk.
    /// </summary>
    public void AddTo(FlowPass pass, TensorSlice x, TensorSlice table, TensorSlice residual, int chunk)
    {
        var backend = pass.Backend;
        int t = x.Rows, d = _dim, dk = d / _heads;
        var q = pass.Rows("conformer.q", t, d);
        var k = pass.Rows("conformer.k", t, d);
        var v = pass.Rows("conformer.v", t, d);
        _query.Forward(backend, x, q);
        _key.Forward(backend, x, k);
        _value.Forward(backend, x, v);
        var withU = pass.Rows("conformer.q+u", t, d);
        var withV = pass.Rows("conformer.q+v", t, d);
        backend.Binary(q, TensorView.Of(_biasU, d).BroadcastTo(t, d), withU, new Add());
        backend.Binary(q, TensorView.Of(_biasV, d).BroadcastTo(t, d), withV, new Add());
        var p = pass.Rows("conformer.p", 2 * t - 1, d);
        _position.Forward(backend, table, p);

        float scale = 1f / MathF.Sqrt(dk);
        int group = ChunkAttention.GroupRows(chunk);
        // One block per group, [heads, group, width] in rows of the widest width (T + group − 1).
        int stride = t + group - 1;
        var block = pass.Rows("conformer.position-scores", _heads * group, stride);
        TensorView? PositionScores(int first, int queries, int keys)
        {
            int width = keys + queries - 1;
            var products = new ViewLayout { Rank = 3, Offset = block.Row * stride };
            products.Set(0, _heads, group * stride);
            products.Set(1, queries, stride);
            products.Set(2, width, 1);
            // Table rows from r = (first + queries − 1) − 0 down to r = first − (keys − 1).
            int firstRow = t - first - queries;
            backend.MatrixProduct(ChunkAttention.Heads(withV.RowRange(first, queries), _heads).Permute(1, 0, 2),
                ChunkAttention.Heads(p.RowRange(firstRow, width), _heads).Permute(1, 0, 2), new TensorView(block.Tensor, products), scale);
            var bias = new ViewLayout { Rank = 3, Offset = block.Row * stride + queries - 1 };
            bias.Set(0, _heads, group * stride);
            bias.Set(1, queries, stride - 1);
            bias.Set(2, keys, 1);
            return new TensorView(block.Tensor, bias);
        }
        var attended = pass.Rows("conformer.attended", t, d);
        ChunkAttention.Run(backend, withU, k, v, attended, _heads, scale, chunk, PositionScores);
        _out.AddTo(backend, attended, residual, pass.Rows("conformer.out", t, d));
    }
}
