using Ellsa.Kernels.Backend;

namespace Ellsa.Kernels.Ops.Attention;

/// <summary>Which keys a query may see.</summary>
public enum AttentionMask
{
    None,
    /// <summary>Key s is visible to query t when s ≤ t + <see cref="AttentionSpec.QueryOffset"/>.</summary>
    Causal,
    /// <summary>
    /// Chunk-causal: key s is visible when its chunk is the query's chunk (counting from key 0, the
    /// query at t + QueryOffset) or one of the <see cref="AttentionSpec.LeftChunks"/> before it
    /// (negative: every earlier chunk), as Zipformer and CosyVoice's streaming masks.
    /// </summary>
    Chunk,
}

/// <summary>
/// Attention without a cache: the network blocks' attention (Emu3's single-head spatial
/// attention, Zipformer's and the flow's multi-head attention). Scores are q·k·Scale (+ an
/// optional bias per head, query and key: relative-position terms); masked scores are
/// <see cref="MaskedScore"/> before the softmax (−∞ drops them; Zipformer writes −1000).
/// </summary>
public struct AttentionSpec
{
    public int Heads, KvHeads;
    public float Scale;
    public AttentionMask Mask;
    public int QueryOffset, ChunkSize, LeftChunks;
    public float MaskedScore;

    public static AttentionSpec Full(int heads, float scale) =>
        new() { Heads = heads, KvHeads = heads, Scale = scale, Mask = AttentionMask.None, MaskedScore = float.NegativeInfinity };

    public readonly bool Visible(int t, int s)
    {
        int q = t + QueryOffset;
        return Mask switch
        {
            AttentionMask.Causal => s <= q,
            AttentionMask.Chunk => s / ChunkSize <= q / ChunkSize && (LeftChunks < 0 || s / ChunkSize >= q / ChunkSize - LeftChunks),
            _ => true,
        };
    }

    /// <summary>
    /// The keys query t sees among <paramref name="keys"/>, [first, end): every mask here shows a
    /// query one run of keys (what <see cref="Visible"/> says key by key).
    /// </summary>
    public readonly (int First, int End) VisibleKeys(int t, int keys)
    {
        int q = t + QueryOffset;
        (long first, long end) = Mask switch
        {
            AttentionMask.Causal => (0L, q + 1L),
            // Keys count from 0, so a key's chunk s / ChunkSize is its floor; the query's is Visible's own division.
            AttentionMask.Chunk => (LeftChunks < 0 ? 0L : ((long)(q / ChunkSize) - LeftChunks) * ChunkSize, ((long)(q / ChunkSize) + 1) * ChunkSize),
            _ => (0L, keys),
        };
        int from = (int)Math.Clamp(first, 0, keys);
        return (from, (int)Math.Clamp(end, from, keys));
    }
}

/// <summary>The attention family's contract and its double-precision reference.</summary>
public static class PlainAttention
{
    /// <summary>q [T, H, d], k [S, Hk, d], v [S, Hk, dv], output [T, H, dv], bias [H, T, S]; query head h reads kv head h / (H / Hk).</summary>
    public static void Check(in TensorView q, in TensorView k, in TensorView v, in TensorView output, in AttentionSpec spec, in TensorView? bias)
    {
        if (q.Rank != 3 || k.Rank != 3 || v.Rank != 3 || output.Rank != 3)
            throw new ArgumentException($"attention takes q [T, H, d], k and v [S, Hk, d], output [T, H, dv]; got {q}, {k}, {v}, {output}");
        if (spec.Heads < 1 || spec.KvHeads < 1 || spec.Heads % spec.KvHeads != 0 || q.Dim(1) != spec.Heads || output.Dim(1) != spec.Heads
            || k.Dim(1) != spec.KvHeads || v.Dim(1) != spec.KvHeads)
            throw new ArgumentException($"attention with {spec.Heads} heads over {spec.KvHeads} kv heads: q {q}, k {k}, v {v}, output {output}");
        if (k.Dim(0) != v.Dim(0) || q.Dim(2) != k.Dim(2) || output.Dim(2) != v.Dim(2) || output.Dim(0) != q.Dim(0))
            throw new ArgumentException($"attention shapes disagree: q {q}, k {k}, v {v}, output {output}");
        if (spec.Mask == AttentionMask.Chunk && spec.ChunkSize < 1)
            throw new ArgumentException($"a chunk mask needs a positive chunk size, not {spec.ChunkSize}");
        if (bias is { } b && (b.Rank != 3 || b.Dim(0) != spec.Heads || b.Dim(1) != q.Dim(0) || b.Dim(2) != k.Dim(0)))
            throw new ArgumentException($"attention score bias {b} is not [{spec.Heads}, {q.Dim(0)}, {k.Dim(0)}]");
    }

    /// <summary>The definition in double precision over host buffers with the views' layouts.</summary>
    public static void Reference(ReadOnlySpan<float> q, ViewLayout lq, ReadOnlySpan<float> k, ViewLayout lk, ReadOnlySpan<float> v, ViewLayout lv,
        Span<float> output, ViewLayout lo, AttentionSpec spec, ReadOnlySpan<float> bias, ViewLayout lb)
    {
        int t = lq.D0, s = lk.D0, d = lq.D2, dv = lv.D2, group = spec.Heads / spec.KvHeads;
        var scores = new double[s];
        for (int i = 0; i < t; i++)
        {
            for (int h = 0; h < spec.Heads; h++)
            {
                int kh = h / group;
                double max = double.NegativeInfinity;
                for (int j = 0; j < s; j++)
                {
                    double score = 0;
                    for (int c = 0; c < d; c++)
                        score += (double)q[lq.Offset + i * lq.S0 + h * lq.S1 + c * lq.S2] * k[lk.Offset + j * lk.S0 + kh * lk.S1 + c * lk.S2];
                    score *= spec.Scale;
                    if (!bias.IsEmpty)
                        score += bias[lb.Offset + h * lb.S0 + i * lb.S1 + j * lb.S2];
                    if (!spec.Visible(i, j))
                        score = spec.MaskedScore;
                    scores[j] = score;
                    max = Math.Max(max, score);
                }
                double sum = 0;
                for (int j = 0; j < s; j++)
                {
                    scores[j] = double.IsNegativeInfinity(scores[j]) ? 0 : Math.Exp(scores[j] - max);
                    sum += scores[j];
                }
                for (int c = 0; c < dv; c++)
                {
                    double value = 0;
                    for (int j = 0; j < s; j++)
                        value += scores[j] * v[lv.Offset + j * lv.S0 + kh * lv.S1 + c * lv.S2];
                    output[lo.Offset + i * lo.S0 + h * lo.S1 + c * lo.S2] = (float)(value / sum);
                }
            }
        }
    }
}
