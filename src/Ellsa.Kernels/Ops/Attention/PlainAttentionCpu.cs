using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Attention;

namespace Ellsa.Kernels.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void Attention(TensorView q, TensorView k, TensorView v, TensorView output, AttentionSpec spec, TensorView? bias)
    {
        PlainAttention.Check(q, k, v, output, spec, bias);
        lock (_gate)
        {
            var job = Job<PlainAttentionJob>();
            job.Q = Base(q);
            job.K = Base(k);
            job.V = Base(v);
            job.Output = Base(output);
            job.Bias = bias is { } b ? Base(b) : null;
            (job.LQ, job.LK, job.LV, job.LO, job.LB) = (q.Layout, k.Layout, v.Layout, output.Layout, bias?.Layout ?? default);
            job.Spec = spec;
            job.Blocked = Isa == CpuIsa.Avx512 && Vector512.IsHardwareAccelerated && k.Layout.S0 == 1 && v.Layout.S0 == 1;
            EnsureScores(PlainAttentionJob.Block * ((long)k.Dim(0) + q.Dim(2)));
            job.Scratch = _scores;
            _pool.Run(job, (q.Dim(0) + PlainAttentionJob.Block - 1) / PlainAttentionJob.Block * spec.Heads);
        }
    }
}

/// <summary>
/// A block of up to 16 queries of one head per chunk: scores into the worker's scratch, a stable
/// softmax per query, the weighted sums of values. Where keys and values lie along the positions
/// (channel-major maps, as Emu3's attention) the block's products run as small register-tiled
/// GEMMs, so each key and value is read once per 16 queries instead of once per query (the maps
/// of 1024 channels × 625 positions do not fit the core's cache); elsewhere each query takes the
/// vectorised form its layout allows.
/// </summary>
internal sealed unsafe class PlainAttentionJob : IParallelWork
{
    public const int Block = 16;

    public float* Q, K, V, Output, Bias;
    public ViewLayout LQ, LK, LV, LO, LB;
    public AttentionSpec Spec;
    public bool Blocked;
    public NativeArray<float>[] Scratch = [];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int chunk, int worker)
    {
        var spec = Spec;
        int first = chunk / spec.Heads * Block, h = chunk % spec.Heads, kh = h / (spec.Heads / spec.KvHeads);
        int count = Math.Min(Block, LQ.D0 - first);
        int s = LK.D0, d = LQ.D2;
        float* scores = Scratch[worker].Pointer;
        float* keys = K + LK.Offset + (long)kh * LK.S1;
        float* values = V + LV.Offset + (long)kh * LV.S1;
        if (Blocked)
            BlockScores(first, count, h, keys, scores, scores + (long)Block * s);
        else
        {
            for (int i = 0; i < count; i++)
                RowScores(first + i, h, keys, scores + (long)i * s);
        }
        Span<float> inverse = stackalloc float[Block];
        for (int i = 0; i < count; i++)
            inverse[i] = Softmax(first + i, h, new Span<float>(scores + (long)i * s, s));
        if (Blocked)
            BlockValues(first, count, h, values, scores, inverse);
        else
        {
            for (int i = 0; i < count; i++)
                RowValues(first + i, h, values, scores + (long)i * s, inverse[i]);
        }
    }

    /// <summary>
    /// Scores of the block's queries against every key: the queries packed [d][16] (any layout), then
    /// 16 queries × 16 keys per register tile, a key vector loaded and 16 query values broadcast per channel.
    /// </summary>
    private void BlockScores(int first, int count, int h, float* keys, float* scores, float* packed)
    {
        int s = LK.D0, d = LQ.D2;
        for (int c = 0; c < d; c++)
        {
            for (int i = 0; i < Block; i++)
                packed[c * Block + i] = i < count ? Q[LQ.Offset + (long)(first + i) * LQ.S0 + (long)h * LQ.S1 + (long)c * LQ.S2] : 0f;
        }
        var iota = Vector512<int>.Indices;
        for (int j = 0; j < s; j += 16)
        {
            var mask = Vector512.LessThan(iota, Vector512.Create(s - j)).AsSingle();
            var zero = Vector512<float>.Zero;
            Vector512<float> a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero;
            Vector512<float> a8 = zero, a9 = zero, a10 = zero, a11 = zero, a12 = zero, a13 = zero, a14 = zero, a15 = zero;
            float* key = keys + j;
            float* q = packed;
            for (int c = 0; c < d; c++, q += Block)
            {
                var k = Avx512F.MaskLoad(key + (long)c * LK.S2, mask, zero);
                a0 = Vector512.FusedMultiplyAdd(Vector512.Create(q[0]), k, a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Create(q[1]), k, a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.Create(q[2]), k, a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.Create(q[3]), k, a3);
                a4 = Vector512.FusedMultiplyAdd(Vector512.Create(q[4]), k, a4);
                a5 = Vector512.FusedMultiplyAdd(Vector512.Create(q[5]), k, a5);
                a6 = Vector512.FusedMultiplyAdd(Vector512.Create(q[6]), k, a6);
                a7 = Vector512.FusedMultiplyAdd(Vector512.Create(q[7]), k, a7);
                a8 = Vector512.FusedMultiplyAdd(Vector512.Create(q[8]), k, a8);
                a9 = Vector512.FusedMultiplyAdd(Vector512.Create(q[9]), k, a9);
                a10 = Vector512.FusedMultiplyAdd(Vector512.Create(q[10]), k, a10);
                a11 = Vector512.FusedMultiplyAdd(Vector512.Create(q[11]), k, a11);
                a12 = Vector512.FusedMultiplyAdd(Vector512.Create(q[12]), k, a12);
                a13 = Vector512.FusedMultiplyAdd(Vector512.Create(q[13]), k, a13);
                a14 = Vector512.FusedMultiplyAdd(Vector512.Create(q[14]), k, a14);
                a15 = Vector512.FusedMultiplyAdd(Vector512.Create(q[15]), k, a15);
            }
            float* row = scores + j;
            Avx512F.MaskStore(row, mask, a0); row += s;
            Avx512F.MaskStore(row, mask, a1); row += s;
            Avx512F.MaskStore(row, mask, a2); row += s;
            Avx512F.MaskStore(row, mask, a3); row += s;
            Avx512F.MaskStore(row, mask, a4); row += s;
            Avx512F.MaskStore(row, mask, a5); row += s;
            Avx512F.MaskStore(row, mask, a6); row += s;
            Avx512F.MaskStore(row, mask, a7); row += s;
            Avx512F.MaskStore(row, mask, a8); row += s;
            Avx512F.MaskStore(row, mask, a9); row += s;
            Avx512F.MaskStore(row, mask, a10); row += s;
            Avx512F.MaskStore(row, mask, a11); row += s;
            Avx512F.MaskStore(row, mask, a12); row += s;
            Avx512F.MaskStore(row, mask, a13); row += s;
            Avx512F.MaskStore(row, mask, a14); row += s;
            Avx512F.MaskStore(row, mask, a15);
        }
    }

    /// <summary>
    /// The block's weighted sums: per value channel, the queries' dot products of their weights with
    /// the channel's values, 8 queries at a time so each value vector feeds 8 accumulators (the
    /// block's rows past its queries hold finite scratch and are dropped at the store).
    /// </summary>
    private void BlockValues(int first, int count, int h, float* values, float* weights, ReadOnlySpan<float> inverse)
    {
        int s = LK.D0, dv = LV.D2, whole = s & ~15;
        var zero = Vector512<float>.Zero;
        var tail = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(s - whole)).AsSingle();
        for (int c = 0; c < dv; c++)
        {
            float* column = values + (long)c * LV.S2;
            for (int i = 0; i < count; i += 8)
            {
                float* p = weights + (long)i * s;
                Vector512<float> a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero;
                int j = 0;
                for (; j < whole; j += 16)
                {
                    var v = Vector512.Load(column + j);
                    float* q = p + j;
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Load(q), v, a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.Load(q + s), v, a1);
                    a2 = Vector512.FusedMultiplyAdd(Vector512.Load(q + 2 * s), v, a2);
                    a3 = Vector512.FusedMultiplyAdd(Vector512.Load(q + 3 * s), v, a3);
                    a4 = Vector512.FusedMultiplyAdd(Vector512.Load(q + 4 * s), v, a4);
                    a5 = Vector512.FusedMultiplyAdd(Vector512.Load(q + 5 * s), v, a5);
                    a6 = Vector512.FusedMultiplyAdd(Vector512.Load(q + 6 * s), v, a6);
                    a7 = Vector512.FusedMultiplyAdd(Vector512.Load(q + 7 * s), v, a7);
                }
                if (j < s)
                {
                    var v = Avx512F.MaskLoad(column + j, tail, zero);
                    float* q = p + j;
                    a0 = Vector512.FusedMultiplyAdd(Avx512F.MaskLoad(q, tail, zero), v, a0);
                    a1 = Vector512.FusedMultiplyAdd(Avx512F.MaskLoad(q + s, tail, zero), v, a1);
                    a2 = Vector512.FusedMultiplyAdd(Avx512F.MaskLoad(q + 2 * s, tail, zero), v, a2);
                    a3 = Vector512.FusedMultiplyAdd(Avx512F.MaskLoad(q + 3 * s, tail, zero), v, a3);
                    a4 = Vector512.FusedMultiplyAdd(Avx512F.MaskLoad(q + 4 * s, tail, zero), v, a4);
                    a5 = Vector512.FusedMultiplyAdd(Avx512F.MaskLoad(q + 5 * s, tail, zero), v, a5);
                    a6 = Vector512.FusedMultiplyAdd(Avx512F.MaskLoad(q + 6 * s, tail, zero), v, a6);
                    a7 = Vector512.FusedMultiplyAdd(Avx512F.MaskLoad(q + 7 * s, tail, zero), v, a7);
                }
                Store(first, count, i, h, c, Vector512.Sum(a0), inverse);
                Store(first, count, i + 1, h, c, Vector512.Sum(a1), inverse);
                Store(first, count, i + 2, h, c, Vector512.Sum(a2), inverse);
                Store(first, count, i + 3, h, c, Vector512.Sum(a3), inverse);
                Store(first, count, i + 4, h, c, Vector512.Sum(a4), inverse);
                Store(first, count, i + 5, h, c, Vector512.Sum(a5), inverse);
                Store(first, count, i + 6, h, c, Vector512.Sum(a6), inverse);
                Store(first, count, i + 7, h, c, Vector512.Sum(a7), inverse);
            }
        }
    }

    /// <summary>Query i of the block's weighted sum, normalised; the block's padding queries (i ≥ count) are dropped.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Store(int first, int count, int i, int h, int c, float sum, ReadOnlySpan<float> inverse)
    {
        if (i < count)
            Output[LO.Offset + (long)(first + i) * LO.S0 + (long)h * LO.S1 + (long)c * LO.S2] = sum * inverse[i];
    }

    /// <summary>One query's scores: a channel at a time along contiguous keys, or dot products along contiguous rows.</summary>
    private void RowScores(int t, int h, float* keys, float* scores)
    {
        int s = LK.D0, d = LQ.D2;
        var row = new Span<float>(scores, s);
        float* q = Q + LQ.Offset + (long)t * LQ.S0 + (long)h * LQ.S1;
        if (LK.S0 == 1 && s > 1)
        {
            row.Clear();
            for (int c = 0; c < d; c++)
                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(keys + (long)c * LK.S2, s), q[(long)c * LQ.S2], row, row);
            return;
        }
        for (int j = 0; j < s; j++)
        {
            float* key = keys + (long)j * LK.S0;
            float score = 0f;
            if (LQ.S2 == 1 && LK.S2 == 1)
                score = TensorPrimitives.Dot(new ReadOnlySpan<float>(q, d), new ReadOnlySpan<float>(key, d));
            else
                for (int c = 0; c < d; c++)
                    score += q[(long)c * LQ.S2] * key[(long)c * LK.S2];
            scores[j] = score;
        }
    }

    /// <summary>Scale, bias and mask, then the exponentials in place; returns 1 / their sum.</summary>
    private float Softmax(int t, int h, Span<float> scores)
    {
        var spec = Spec;
        float max = float.NegativeInfinity;
        for (int j = 0; j < scores.Length; j++)
        {
            float score = scores[j] * spec.Scale;
            if (Bias != null)
                score += Bias[LB.Offset + (long)h * LB.S0 + (long)t * LB.S1 + (long)j * LB.S2];
            if (!spec.Visible(t, j))
                score = spec.MaskedScore;
            scores[j] = score;
            max = MathF.Max(max, score);
        }
        float sum = 0f;
        for (int j = 0; j < scores.Length; j++)
        {
            float e = float.IsNegativeInfinity(scores[j]) ? 0f : MathF.Exp(scores[j] - max);
            scores[j] = e;
            sum += e;
        }
        return 1f / sum;
    }

    /// <summary>One query's weighted sum along whichever axis of V is contiguous.</summary>
    private void RowValues(int t, int h, float* values, float* weights, float inverse)
    {
        int s = LK.D0, dv = LV.D2;
        var row = new ReadOnlySpan<float>(weights, s);
        float* o = Output + LO.Offset + (long)t * LO.S0 + (long)h * LO.S1;
        if (LV.S0 == 1)
        {
            for (int c = 0; c < dv; c++)
                o[(long)c * LO.S2] = TensorPrimitives.Dot(row, new ReadOnlySpan<float>(values + (long)c * LV.S2, s)) * inverse;
            return;
        }
        for (int c = 0; c < dv; c++)
        {
            float value = 0f;
            float* column = values + (long)c * LV.S2;
            for (int j = 0; j < s; j++)
                value += weights[j] * column[(long)j * LV.S0];
            o[(long)c * LO.S2] = value * inverse;
        }
    }
}
