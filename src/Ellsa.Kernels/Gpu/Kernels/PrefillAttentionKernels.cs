using ILGPU;

namespace Ellsa.Kernels.Gpu.Kernels;

/// <summary>
/// Tiled causal attention for many rows on CUDA cores (the fallback of the tensor-core path and
/// the CPU simulator's kernel). A group owns <c>Splits</c> consecutive batch rows × every query
/// head of one kv head; keys and values stream through shared memory in tiles of <c>Chunk</c>
/// with an online softmax. Rows carry their own positions and need not be in order: each query
/// masks the tile against its own position, and the group stops at the largest position it holds.
/// </summary>
public static class PrefillAttentionKernels
{
    /// <summary>The group size on CUDA; any size works (the simulator uses one warp).</summary>
    public const int Threads = 128;

    public static int QueryVectors(int rowsPerGroup, int group) => rowsPerGroup * group;

    /// <summary>Dynamic shared floats for <paramref name="queries"/> query vectors and tiles of <paramref name="tile"/> keys.</summary>
    public static int SharedFloats(int queries, int tile, int headDim) => 2 * queries * headDim + 2 * tile * headDim + queries * tile + 3 * queries;

    /// <summary>Work items: ceil(Rows / Splits) row tiles × KvHeads, one per group (groups stride over them).</summary>
    [GpuKernel]
    public static void Tiled(ArrayView<float> queries, ArrayView<int> positions, ArrayView<float> cacheKeys, ArrayView<float> cacheValues,
        ArrayView<float> output, AttentionArgs a)
    {
        var shared = SharedMemory.GetDynamic<float>();
        int rowTiles = (a.Rows + a.Splits - 1) / a.Splits;
        for (int item = Grid.IdxX; item < rowTiles * a.KvHeads; item += Grid.DimX)
            Tile(queries, positions, cacheKeys, cacheValues, output, a, shared, item % rowTiles * a.Splits, item / rowTiles);
    }

    private static void Tile(ArrayView<float> queries, ArrayView<int> positions, ArrayView<float> cacheKeys, ArrayView<float> cacheValues,
        ArrayView<float> output, AttentionArgs a, ArrayView<float> shared, int firstRow, int kvHead)
    {
        int group = a.Heads / a.KvHeads;
        int hd = a.HeadDim;
        int tile = a.Chunk;
        int nq = a.Splits * group;
        bool bf16 = a.CacheBf16 != 0;
        int tid = Group.IdxX;
        int threads = Group.DimX;
        var qs = shared.SubView(0, nq * hd);
        var os = shared.SubView(nq * hd, nq * hd);
        var ks = shared.SubView(2 * nq * hd, tile * hd);
        var vs = shared.SubView(2 * nq * hd + tile * hd, tile * hd);
        var ss = shared.SubView(2 * nq * hd + 2 * tile * hd, nq * tile);
        int statsAt = 2 * nq * hd + 2 * tile * hd + nq * tile;
        var ms = shared.SubView(statsAt, nq);
        var ls = shared.SubView(statsAt + nq, nq);
        var alphas = shared.SubView(statsAt + 2 * nq, nq);

        // Every thread finds the positions it needs itself: at most Splits rows.
        int maxPosition = -1;
        for (int r = 0; r < a.Splits; r++)
        {
            int p = PositionOf(positions, a, firstRow + r);
            maxPosition = IntrinsicMath.Max(maxPosition, p);
        }

        for (int idx = tid; idx < nq * hd; idx += threads)
        {
            int qi = idx / hd;
            int d = idx - qi * hd;
            int row = firstRow + qi / group;
            int head = kvHead * group + qi % group;
            qs[idx] = row < a.Rows ? queries[a.QueryOffset + row * a.QueryStride + head * hd + d] * a.Scale : 0f;
            os[idx] = 0f;
        }
        for (int qi = tid; qi < nq; qi += threads)
        {
            ms[qi] = float.NegativeInfinity;
            ls[qi] = 0f;
        }
        long kvBase = ((long)a.Layer * a.KvHeads + kvHead) * a.Capacity * hd;
        Group.Barrier();

        for (int k0 = 0; k0 <= maxPosition; k0 += tile)
        {
            for (int idx = tid; idx < tile * hd; idx += threads)
            {
                int j = idx / hd;
                bool inside = k0 + j <= maxPosition;
                long at = kvBase + (long)(k0 + j) * hd + (idx - j * hd);
                ks[idx] = inside ? KvStore.Read(cacheKeys, at, bf16) : 0f;
                vs[idx] = inside ? KvStore.Read(cacheValues, at, bf16) : 0f;
            }
            Group.Barrier();

            for (int idx = tid; idx < nq * tile; idx += threads)
            {
                int qi = idx / tile;
                int j = idx - qi * tile;
                int p = PositionOf(positions, a, firstRow + qi / group);
                float s = float.NegativeInfinity;
                if (k0 + j <= p)
                {
                    s = 0f;
                    for (int d = 0; d < hd; d++)
                        s += qs[qi * hd + d] * ks[j * hd + d];
                }
                ss[idx] = s;
            }
            Group.Barrier();

            for (int qi = tid; qi < nq; qi += threads)
            {
                float old = ms[qi];
                float max = old;
                for (int j = 0; j < tile; j++)
                    max = IntrinsicMath.Max(max, ss[qi * tile + j]);
                float alpha = 1f;
                float sum = 0f;
                if (max != float.NegativeInfinity)
                {
                    alpha = old == float.NegativeInfinity ? 0f : DeviceMath.Exp(old - max);
                    for (int j = 0; j < tile; j++)
                    {
                        float s = ss[qi * tile + j];
                        float p = s == float.NegativeInfinity ? 0f : DeviceMath.Exp(s - max);
                        ss[qi * tile + j] = p;
                        sum += p;
                    }
                }
                else
                {
                    for (int j = 0; j < tile; j++)
                        ss[qi * tile + j] = 0f;
                }
                ms[qi] = max;
                ls[qi] = ls[qi] * alpha + sum;
                alphas[qi] = alpha;
            }
            Group.Barrier();

            for (int idx = tid; idx < nq * hd; idx += threads)
            {
                int qi = idx / hd;
                int d = idx - qi * hd;
                float o = os[idx] * alphas[qi];
                for (int j = 0; j < tile; j++)
                    o += ss[qi * tile + j] * vs[j * hd + d];
                os[idx] = o;
            }
            Group.Barrier();
        }

        for (int idx = tid; idx < nq * hd; idx += threads)
        {
            int qi = idx / hd;
            int d = idx - qi * hd;
            int row = firstRow + qi / group;
            if (row >= a.Rows)
                continue;
            int head = kvHead * group + qi % group;
            float l = ls[qi];
            output[a.OutputOffset + row * a.OutputStride + head * hd + d] = l > 0f ? os[idx] / l : float.NaN;
        }
        // The next work item of this group reuses the shared tiles.
        Group.Barrier();
    }

    /// <summary>The row's position, or −1 for a row past the batch or outside the cache (it then sees no key).</summary>
    private static int PositionOf(ArrayView<int> positions, AttentionArgs a, int row)
    {
        if (row >= a.Rows)
            return -1;
        int p = positions[a.PositionOffset + row];
        return p >= 0 && p < a.Capacity ? p : -1;
    }
}
