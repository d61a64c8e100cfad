using Ellsa.Kernels.Backend;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.Speech;

/// <summary>
/// The positional part of a Zipformer layer's attention scores (ZF:1667-1702): for query i and
/// key j, p_i · linear_pos(pe(j − i)) per head, with pe the CompactRelPositionalEncoding
/// (ZF:1449-1497). linear_pos(pe(x)) depends on the weights only, so it is tabulated at load for
/// every offset an attention group can meet, [offset][head·pos_head_dim], and laid out
/// block-diagonally ([head·offsets, head·pos_head_dim]) so one row GEMM gives every query's scores
/// against every offset for all heads at once. The authors' as_strided turn of those rows into a
/// [head, query, key] bias is a strided view here (<see cref="Bias"/>).
/// </summary>
internal sealed class RelativePositionScores
{
    private readonly DeviceMatrix _table;

    private RelativePositionScores(DeviceMatrix table, int heads, int minOffset, int offsets)
    {
        _table = table;
        Heads = heads;
        MinOffset = minOffset;
        Offsets = offsets;
    }

    public int Heads { get; }
    /// <summary>The most negative key − query offset tabulated.</summary>
    public int MinOffset { get; }
    /// <summary>Offsets tabulated: MinOffset … MinOffset + Offsets − 1.</summary>
    public int Offsets { get; }
    /// <summary>Width of a row of scores: every head's offsets.</summary>
    public int Width => Heads * Offsets;

    /// <summary>Tabulates the offsets groups of up to <paramref name="groupRows"/> queries over a <paramref name="history"/>-row left context reach.</summary>
    public static RelativePositionScores Load(WeightScope scope, int posDim, int heads, int posHeadDim, int history, int groupRows)
    {
        int projected = heads * posHeadDim;
        var weight = scope.Floats("weight", projected, posDim);
        // Offsets run from (first key of the widest left context) − (last query of a group) to (last key) − (first query).
        int minOffset = -(history + groupRows - 1), offsets = history + 2 * groupRows - 1;
        var table = new float[(long)heads * offsets * projected];
        for (int r = 0; r < offsets; r++)
        {
            var pe = Encoding(posDim, minOffset + r);
            for (int row = 0; row < projected; row++)
            {
                double sum = 0;
                for (int k = 0; k < posDim; k++)
                    sum += weight[row * posDim + k] * pe[k];
                int head = row / posHeadDim;
                table[((long)head * offsets + r) * projected + row] = (float)sum;
            }
        }
        return new RelativePositionScores(scope.ComputedMatrix("position_scores", table, heads * offsets, projected), heads, minOffset, offsets);
    }

    /// <summary>
    /// pe(x) of CompactRelPositionalEncoding with length_factor 1: x compressed logarithmically
    /// beyond √pos_dim, mapped through atan, then cos/sin at frequencies 1…pos_dim/2; the last
    /// element is 1 (the bias term).
    /// </summary>
    public static double[] Encoding(int posDim, int offset)
    {
        double compression = Math.Sqrt(posDim);
        double x = offset;
        double compressed = compression * Math.Sign(x) * (Math.Log(Math.Abs(x) + compression) - Math.Log(compression));
        double angle = Math.Atan(compressed / (posDim / (2 * Math.PI)));
        var pe = new double[posDim];
        for (int m = 0; m < posDim / 2; m++)
        {
            pe[2 * m] = Math.Cos(angle * (m + 1));
            pe[2 * m + 1] = Math.Sin(angle * (m + 1));
        }
        pe[posDim - 1] = 1;
        return pe;
    }

    /// <summary>scores[i, h·Offsets + r] = p[i, h] · table[h, MinOffset + r], for every row of <paramref name="p"/> ([rows, heads·pos_head_dim]).</summary>
    public void Scores(IComputeBackend backend, TensorSlice p, TensorSlice scores) => backend.WeightGemm(_table, p, scores, null);

    /// <summary>
    /// The [heads, queries, keys] score bias of an attention group over <paramref name="scores"/>:
    /// queries are rows <paramref name="firstQuery"/>… of the scores, key j of query i lies at
    /// offset <paramref name="firstKeyOffset"/> + j − i (the first key's position minus the first
    /// query's). Heads beyond <paramref name="heads"/> are left out (NonlinAttention reads head 0).
    /// </summary>
    public TensorView Bias(TensorSlice scores, int firstQuery, int queries, int keys, int firstKeyOffset, int heads)
    {
        int stride = scores.Tensor.Cols;
        var layout = new ViewLayout
        {
            Rank = 3,
            Offset = (scores.Row + firstQuery) * stride + scores.Col + firstKeyOffset - MinOffset,
        };
        layout.Set(0, heads, Offsets);
        layout.Set(1, queries, stride - 1);
        layout.Set(2, keys, 1);
        return new TensorView(scores.Tensor, layout);
    }
}
