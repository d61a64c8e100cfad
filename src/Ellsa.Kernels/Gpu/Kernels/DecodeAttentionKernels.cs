using ILGPU;

namespace Ellsa.Kernels.Gpu.Kernels;

/// <summary>
/// Flash-Decoding attention for a few rows: the context of each (row, kv head) is cut into
/// splits of <c>Chunk</c> keys so even one query fills the device; each split writes an
/// unnormalised partial output with its running max and sum, and <see cref="Merge"/> combines
/// them with a log-sum-exp rescale.
/// <para>GQA: a group owns one kv head and every query head that reads it, so each key and
/// value is loaded once for all of them (any group size: heads are processed four at a time).
/// Scores use eight lanes per key (four keys per warp step, 32-byte coalesced segments, a
/// three-step shuffle reduction); the partial output uses one thread per head dimension.</para>
/// </summary>
public static class DecodeAttentionKernels
{
    /// <summary>The group size on CUDA; any multiple of 32 works (the simulator uses one warp).</summary>
    public const int Threads = 128;

    /// <summary>Dynamic shared floats: the scaled queries of the group and their scores.</summary>
    public static int SharedFloats(int group, int headDim, int chunk) => group * headDim + group * chunk;

    /// <summary>
    /// Work items: splits × rows × kvHeads, one per group (groups stride over them). Partial
    /// layout: [row][head][split] × (HeadDim | max, sum).
    /// </summary>
    [GpuKernel]
    public static void Partial(ArrayView<float> queries, ArrayView<int> positions, ArrayView<float> cacheKeys, ArrayView<float> cacheValues,
        ArrayView<float> partialOut, ArrayView<float> partialStats, AttentionArgs a)
    {
        var shared = SharedMemory.GetDynamic<float>();
        var reducer = new WarpReducer(SharedMemory.Allocate<float>(WarpReducer.ScratchFloats), a.Exchange);
        int items = a.Splits * a.Rows * a.KvHeads;
        for (int item = Grid.IdxX; item < items; item += Grid.DimX)
            Split(queries, positions, cacheKeys, cacheValues, partialOut, partialStats, a, shared, reducer, item % a.Splits, item / a.Splits);
    }

    private static void Split(ArrayView<float> queries, ArrayView<int> positions, ArrayView<float> cacheKeys, ArrayView<float> cacheValues,
        ArrayView<float> partialOut, ArrayView<float> partialStats, AttentionArgs a, ArrayView<float> shared, WarpReducer reducer, int split, int rowHead)
    {
        int row = rowHead / a.KvHeads;
        int kvHead = rowHead - row * a.KvHeads;
        int position = positions[a.PositionOffset + row];
        int start = split * a.Chunk;
        if (position < 0 || position >= a.Capacity || start > position)
            return;
        int count = IntrinsicMath.Min(a.Chunk, position + 1 - start);
        int group = a.Heads / a.KvHeads;
        int hd = a.HeadDim;
        bool bf16 = a.CacheBf16 != 0;
        var q = shared.SubView(0, group * hd);
        var scores = shared.SubView(group * hd, group * a.Chunk);
        int tid = Group.IdxX;
        int threads = Group.DimX;
        int warps = threads / 32;

        int queryBase = a.QueryOffset + row * a.QueryStride + kvHead * group * hd;
        for (int idx = tid; idx < group * hd; idx += threads)
            q[idx] = queries[queryBase + idx] * a.Scale;
        Group.Barrier();

        long kvBase = ((long)a.Layer * a.KvHeads + kvHead) * a.Capacity * hd;
        int lane8 = Warp.LaneIdx & 7;
        int keyInWarp = Warp.LaneIdx >> 3;
        // The loop bound is the same for the whole warp so every lane reaches the shuffles.
        for (int warpKey = Warp.WarpIdx * 4; warpKey < count; warpKey += warps * 4)
        {
            int j = warpKey + keyInWarp;
            bool valid = j < count;
            long keyAt = kvBase + (long)(start + (valid ? j : 0)) * hd;
            for (int h0 = 0; h0 < group; h0 += 4)
            {
                float d0 = 0f, d1 = 0f, d2 = 0f, d3 = 0f;
                for (int d = lane8; d < hd; d += 8)
                {
                    float k = KvStore.Read(cacheKeys, keyAt + d, bf16);
                    d0 += q[h0 * hd + d] * k;
                    if (h0 + 1 < group) d1 += q[(h0 + 1) * hd + d] * k;
                    if (h0 + 2 < group) d2 += q[(h0 + 2) * hd + d] * k;
                    if (h0 + 3 < group) d3 += q[(h0 + 3) * hd + d] * k;
                }
                d0 = reducer.Sum8(d0);
                d1 = reducer.Sum8(d1);
                d2 = reducer.Sum8(d2);
                d3 = reducer.Sum8(d3);
                if (valid && lane8 == 0)
                {
                    scores[h0 * a.Chunk + j] = d0;
                    if (h0 + 1 < group) scores[(h0 + 1) * a.Chunk + j] = d1;
                    if (h0 + 2 < group) scores[(h0 + 2) * a.Chunk + j] = d2;
                    if (h0 + 3 < group) scores[(h0 + 3) * a.Chunk + j] = d3;
                }
            }
        }
        Group.Barrier();

        for (int h = Warp.WarpIdx; h < group; h += warps)
        {
            float max = float.NegativeInfinity;
            for (int j = Warp.LaneIdx; j < count; j += 32)
                max = IntrinsicMath.Max(max, scores[h * a.Chunk + j]);
            max = reducer.Max(max);
            float sum = 0f;
            for (int j = Warp.LaneIdx; j < count; j += 32)
            {
                float p = DeviceMath.Exp(scores[h * a.Chunk + j] - max);
                scores[h * a.Chunk + j] = p;
                sum += p;
            }
            sum = reducer.Sum(sum);
            if (Warp.LaneIdx == 0)
            {
                int stat = ((row * a.Heads + kvHead * group + h) * a.Splits + split) * 2;
                partialStats[stat] = max;
                partialStats[stat + 1] = sum;
            }
        }
        Group.Barrier();

        for (int d = tid; d < hd; d += threads)
        {
            for (int h0 = 0; h0 < group; h0 += 4)
            {
                float o0 = 0f, o1 = 0f, o2 = 0f, o3 = 0f;
                for (int j = 0; j < count; j++)
                {
                    float v = KvStore.Read(cacheValues, kvBase + (long)(start + j) * hd + d, bf16);
                    o0 += scores[h0 * a.Chunk + j] * v;
                    if (h0 + 1 < group) o1 += scores[(h0 + 1) * a.Chunk + j] * v;
                    if (h0 + 2 < group) o2 += scores[(h0 + 2) * a.Chunk + j] * v;
                    if (h0 + 3 < group) o3 += scores[(h0 + 3) * a.Chunk + j] * v;
                }
                int head = kvHead * group + h0;
                long at = ((long)(row * a.Heads + head) * a.Splits + split) * hd + d;
                partialOut[at] = o0;
                if (h0 + 1 < group) partialOut[at + (long)a.Splits * hd] = o1;
                if (h0 + 2 < group) partialOut[at + 2L * a.Splits * hd] = o2;
                if (h0 + 3 < group) partialOut[at + 3L * a.Splits * hd] = o3;
            }
        }
        // The next work item of this group reuses the shared queries and scores.
        Group.Barrier();
    }

    /// <summary>Work items: rows × heads. Combines the splits of one (row, head) into the output.</summary>
    [GpuKernel]
    public static void Merge(ArrayView<int> positions, ArrayView<float> partialOut, ArrayView<float> partialStats, ArrayView<float> output, AttentionArgs a)
    {
        for (int item = Grid.IdxX; item < a.Rows * a.Heads; item += Grid.DimX)
            MergeOne(positions, partialOut, partialStats, output, a, item / a.Heads, item % a.Heads);
    }

    private static void MergeOne(ArrayView<int> positions, ArrayView<float> partialOut, ArrayView<float> partialStats, ArrayView<float> output,
        AttentionArgs a, int row, int head)
    {
        int position = positions[a.PositionOffset + row];
        int outBase = a.OutputOffset + row * a.OutputStride + head * a.HeadDim;
        if (position < 0 || position >= a.Capacity)
        {
            for (int d = Group.IdxX; d < a.HeadDim; d += Group.DimX)
                output[outBase + d] = float.NaN;
            return;
        }
        int splits = position / a.Chunk + 1;
        int stats = (row * a.Heads + head) * a.Splits * 2;
        float max = float.NegativeInfinity;
        for (int s = 0; s < splits; s++)
            max = IntrinsicMath.Max(max, partialStats[stats + 2 * s]);
        float total = 0f;
        for (int s = 0; s < splits; s++)
            total += DeviceMath.Exp(partialStats[stats + 2 * s] - max) * partialStats[stats + 2 * s + 1];
        float inverse = 1f / total;
        long partialBase = (long)(row * a.Heads + head) * a.Splits * a.HeadDim;
        for (int d = Group.IdxX; d < a.HeadDim; d += Group.DimX)
        {
            float o = 0f;
            for (int s = 0; s < splits; s++)
                o += DeviceMath.Exp(partialStats[stats + 2 * s] - max) * partialOut[partialBase + (long)s * a.HeadDim + d];
            output[outBase + d] = o * inverse;
        }
    }
}
