using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
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
            EnsureScores(k.Dim(0));
            var job = Job<PlainAttentionJob>();
            job.Q = Base(q);
            job.K = Base(k);
            job.V = Base(v);
            job.Output = Base(output);
            job.Bias = bias is { } b ? Base(b) : null;
            (job.LQ, job.LK, job.LV, job.LO, job.LB) = (q.Layout, k.Layout, v.Layout, output.Layout, bias?.Layout ?? default);
            job.Spec = spec;
            job.Scratch = _scores;
            _pool.Run(job, q.Dim(0) * spec.Heads);
        }
    }
}

/// <summary>One (query, head) per chunk: scores into the worker's scratch, a stable softmax, the weighted sum of values.</summary>
internal sealed unsafe class PlainAttentionJob : IParallelWork
{
    public float* Q, K, V, Output, Bias;
    public ViewLayout LQ, LK, LV, LO, LB;
    public AttentionSpec Spec;
    public NativeArray<float>[] Scratch = [];

    /// <summary>
    /// The products take the vectorised form the layout allows: keys laid out along S (channel-major
    /// maps, as Emu3's attention) accumulate the scores a channel at a time; rows with unit stride
    /// take dot products; the weighted sum runs along whichever axis of V is contiguous.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int chunk, int worker)
    {
        var spec = Spec;
        int t = chunk / spec.Heads, h = chunk % spec.Heads, kh = h / (spec.Heads / spec.KvHeads);
        int s = LK.D0, d = LQ.D2, dv = LV.D2;
        float* scores = Scratch[worker].Pointer;
        var row = new Span<float>(scores, s);
        float* q = Q + LQ.Offset + (long)t * LQ.S0 + (long)h * LQ.S1;
        float* keys = K + LK.Offset + (long)kh * LK.S1;
        if (LK.S0 == 1 && s > 1)
        {
            row.Clear();
            for (int c = 0; c < d; c++)
                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(keys + (long)c * LK.S2, s), q[(long)c * LQ.S2], row, row);
        }
        else
        {
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
        float max = float.NegativeInfinity;
        for (int j = 0; j < s; j++)
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
        for (int j = 0; j < s; j++)
        {
            float e = float.IsNegativeInfinity(scores[j]) ? 0f : MathF.Exp(scores[j] - max);
            scores[j] = e;
            sum += e;
        }
        float inverse = 1f / sum;
        float* o = Output + LO.Offset + (long)t * LO.S0 + (long)h * LO.S1;
        float* values = V + LV.Offset + (long)kh * LV.S1;
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
                value += scores[j] * column[(long)j * LV.S0];
            o[(long)c * LO.S2] = value * inverse;
        }
    }
}
