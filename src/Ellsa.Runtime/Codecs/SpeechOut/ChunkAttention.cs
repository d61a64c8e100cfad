using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Attention;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// Multi-head self-attention under the flow's static chunk mask (mask.py:L128-160: query i sees
/// key j iff j &lt; (⌊i/c⌋ + 1)·c, positions counted from the sequence's first frame, every left
/// chunk visible), run a group of whole query chunks at a time over only the keys the group may
/// see, so the masked half of the scores is never computed.
/// </summary>
internal static class ChunkAttention
{
    /// <summary>Query rows per group: whole chunks, about 64 rows or one chunk.</summary>
    public static int GroupRows(int chunk) => chunk * Math.Max(1, 64 / chunk);

    /// <summary>
    /// out = softmax(q·k·scale + bias) · v for q, k, v, out: [T, heads·d] row-major slices.
    /// <paramref name="bias"/> gives a group's [heads, queries, keys] score bias (or null for none)
    /// from its first query, query count and key count. With <paramref name="firstQuery"/> (a
    /// multiple of <paramref name="chunk"/>) q and out hold the queries from that position on, k and
    /// v still every key from position 0.
    /// </summary>
    public static void Run(INetworkOps backend, TensorSlice q, TensorSlice k, TensorSlice v, TensorSlice output, int heads, float scale, int chunk,
        Func<int, int, int, TensorView?>? bias = null, int firstQuery = 0)
    {
        if (firstQuery % chunk != 0 || k.Rows < firstQuery + q.Rows)
            throw new ArgumentException($"queries from position {firstQuery} with {k.Rows} keys: the first query must start a chunk of {chunk} and every query have its key");
        int rows = firstQuery + q.Rows, group = GroupRows(chunk);
        for (int first = firstQuery; first < rows; first += group)
        {
            int queries = Math.Min(group, rows - first), keys = first + queries;
            var spec = new AttentionSpec
            {
                Heads = heads, KvHeads = heads, Scale = scale, Mask = AttentionMask.Chunk, ChunkSize = chunk, LeftChunks = -1,
                QueryOffset = first, MaskedScore = float.NegativeInfinity,
            };
            backend.Attention(Heads(q.RowRange(first - firstQuery, queries), heads), Heads(k.RowRange(0, keys), heads), Heads(v.RowRange(0, keys), heads),
                Heads(output.RowRange(first - firstQuery, queries), heads), spec, bias?.Invoke(first, queries, keys));
        }
    }

    /// <summary>[rows, heads·d] as [rows, heads, d].</summary>
    public static TensorView Heads(TensorSlice rows, int heads)
    {
        int d = rows.Cols / heads;
        var layout = new ViewLayout { Rank = 3, Offset = rows.Row * rows.Tensor.Cols + rows.Col };
        layout.Set(0, rows.Rows, rows.Tensor.Cols);
        layout.Set(1, heads, d);
        layout.Set(2, d, 1);
        return new TensorView(rows.Tensor, layout);
    }
}
