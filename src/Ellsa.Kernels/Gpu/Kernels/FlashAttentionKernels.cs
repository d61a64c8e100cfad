using ILGPU;

namespace Ellsa.Kernels.Gpu.Kernels;

/// <summary>Arguments of the tensor-core prefill attention and its packing kernels.</summary>
public struct FlashArgs
{
    public int Rows, Heads, KvHeads, Group;
    /// <summary>Query vectors per kv head (Rows × Group), and that padded to whole 64-vector blocks.</summary>
    public int Vectors, VectorsPadded;
    /// <summary>Keys 0…MaxKey−1 are packed, padded with zeros to KeysPadded (a multiple of 32).</summary>
    public int MaxKey, KeysPadded;
    public int QueryOffset, QueryStride, OutputOffset, OutputStride, PositionOffset;
    public int Layer, Capacity, CacheBf16;
    public float Scale;
    public int Exact;
    /// <summary>16-byte units of one Q plane and of one K or V plane.</summary>
    public int QueryPlaneUnits, KvPlaneUnits;
    public ulong QueryAddress, KvAddress;
}

/// <summary>
/// Causal prefill attention on tensor cores for head dimension 128 (FlashAttention-2 style, at
/// mma.sync level).
/// <list type="bullet">
/// <item>The query vectors of each kv head (every batch row × every query head of that kv head, so
/// a K/V tile loaded once serves the whole GQA group) and the keys and values of the cache up to
/// the largest position are first packed as bf16 hi (and lo) planes, 256-byte rows.</item>
/// <item>A group owns 64 query vectors (4 warps × 16) of one kv head and walks 32-key tiles up to
/// the largest position among its rows: cp.async into swizzled shared tiles, S = Q·Kᵀ on the
/// tensor cores, an online softmax per vector against the vector's own position (rows need not
/// be in order) whose bf16 P tiles reuse the K tile's space, O += P·V with V through
/// ldmatrix.trans, O rescaled in registers.</item>
/// <item>Exact mode (default) computes hi·hi + hi·lo + lo·hi for both products (≈fp32); fast
/// mode one bf16 product (as FlashAttention in bf16).</item>
/// </list>
/// Dynamic shared memory: 43 264 bytes (under the 48 KB that needs no opt-in).
/// </summary>
public static class FlashAttentionKernels
{
    public const int HeadDim = 128;
    public const int Threads = 128;
    public const int VectorsPerGroup = 64;
    public const int KeysPerTile = 32;
    public const int SharedBytes = 43264;
    private const int KeyTile = 0;
    private const int ValueTile = 16384;
    private const int Staging = 32768;
    private const int StagingPerWarp = 2560;
    private const int Alphas = 43008;
    private const int OutputPerWarp = 8704;

    /// <summary>Byte offset of 16-byte chunk <paramref name="chunk"/> of a 256-byte row (chunk c stored at c ^ (row mod 8)).</summary>
    public static int Swizzle256(int row, int chunk) => row * 256 + ((chunk ^ (row & 7)) << 4);

    /// <summary>Work items: KvHeads × VectorsPadded × 64 bf16 pairs. Q × scale as hi (and lo) planes [kv head][vector][128].</summary>
    [GpuKernel]
    public static void PackQueries(ArrayView<float> queries, ArrayView<uint> packed, FlashArgs a)
    {
        int pairs = a.KvHeads * a.VectorsPadded * 64;
        int planeWords = a.QueryPlaneUnits * 4;
        for (int i = Grid.GlobalIndex.X; i < pairs; i += Grid.DimX * Group.DimX)
        {
            int p = i % 64;
            int v = i / 64 % a.VectorsPadded;
            int kvHead = i / 64 / a.VectorsPadded;
            float x0 = 0f, x1 = 0f;
            if (v < a.Vectors)
            {
                int row = v / a.Group;
                int head = kvHead * a.Group + v % a.Group;
                int at = a.QueryOffset + row * a.QueryStride + head * HeadDim + 2 * p;
                x0 = queries[at] * a.Scale;
                x1 = queries[at + 1] * a.Scale;
            }
            Split(packed, i, planeWords, x0, x1, a.Exact != 0);
        }
    }

    /// <summary>Work items: KvHeads × KeysPadded × 64 bf16 pairs. Keys and values of the layer as hi (and lo) planes [kv head][key][128].</summary>
    [GpuKernel]
    public static void PackKeysValues(ArrayView<float> cacheKeys, ArrayView<float> cacheValues, ArrayView<uint> packed, FlashArgs a)
    {
        int pairs = a.KvHeads * a.KeysPadded * 64;
        int planeWords = a.KvPlaneUnits * 4;
        bool bf16 = a.CacheBf16 != 0;
        for (int i = Grid.GlobalIndex.X; i < pairs; i += Grid.DimX * Group.DimX)
        {
            int p = i % 64;
            int key = i / 64 % a.KeysPadded;
            int kvHead = i / 64 / a.KeysPadded;
            float k0 = 0f, k1 = 0f, v0 = 0f, v1 = 0f;
            if (key < a.MaxKey)
            {
                long slot = (((long)a.Layer * a.KvHeads + kvHead) * a.Capacity + key) * HeadDim + 2 * p;
                k0 = KvStore.Read(cacheKeys, slot, bf16);
                k1 = KvStore.Read(cacheKeys, slot + 1, bf16);
                v0 = KvStore.Read(cacheValues, slot, bf16);
                v1 = KvStore.Read(cacheValues, slot + 1, bf16);
            }
            // Planes: K hi, K lo, V hi, V lo.
            Split(packed, i, planeWords, k0, k1, a.Exact != 0);
            Split(packed, i + 2 * planeWords, planeWords, v0, v1, a.Exact != 0);
        }
    }

    private static void Split(ArrayView<uint> packed, int word, int planeWords, float x0, float x1, bool exact)
    {
        uint h0 = DeviceMath.ToBf16Bits(x0);
        uint h1 = DeviceMath.ToBf16Bits(x1);
        packed[word] = h0 | (h1 << 16);
        if (exact)
            packed[word + planeWords] = DeviceMath.ToBf16Bits(x0 - DeviceMath.FromBf16Bits(h0)) | (DeviceMath.ToBf16Bits(x1 - DeviceMath.FromBf16Bits(h1)) << 16);
    }

    /// <summary>Work items: KvHeads × VectorsPadded / 64, one per group of 128 threads; dynamic shared memory <see cref="SharedBytes"/>.</summary>
    [GpuKernel(typeof(PtxAttentionCore), typeof(ExactOperands))]
    [GpuKernel(typeof(PtxAttentionCore), typeof(FastOperands))]
    public static void Flash<TCore, TMode>(ArrayView<U4> queries, ArrayView<U4> keysValues, ArrayView<int> positions, ArrayView<float> output, FlashArgs a)
        where TCore : struct, IAttentionCore
        where TMode : struct, IOperandMode
    {
        bool exact = default(TMode).Exact;
        var shared = SharedMemory.GetDynamic<U4>().Cast<uint>();
        var floats = shared.Cast<float>();
        var core = default(TCore);
        core.Begin(shared);
        int blocksPerHead = a.VectorsPadded / VectorsPerGroup;
        for (int item = Grid.IdxX; item < a.KvHeads * blocksPerHead; item += Grid.DimX)
            Block(ref core, queries, keysValues, positions, output, a, shared, floats, exact, item / blocksPerHead, item % blocksPerHead * VectorsPerGroup);
    }

    private static void Block<TCore>(ref TCore core, ArrayView<U4> queries, ArrayView<U4> keysValues, ArrayView<int> positions, ArrayView<float> output,
        FlashArgs a, ArrayView<uint> shared, ArrayView<float> floats, bool exact, int kvHead, int firstVector)
        where TCore : struct, IAttentionCore
    {
        int tid = Group.IdxX;
        int warp = Warp.WarpIdx;
        int lane = Warp.LaneIdx;
        int planes = exact ? 2 : 1;
        core.ResetOutput();

        // The largest position among the block's rows bounds its key loop.
        int maxPosition = -1;
        int lastVector = IntrinsicMath.Min(firstVector + VectorsPerGroup, a.Vectors) - 1;
        for (int row = firstVector / a.Group; row <= lastVector / a.Group; row++)
            maxPosition = IntrinsicMath.Max(maxPosition, positions[a.PositionOffset + row]);

        // Q tile: 64 vectors × 16 chunks per plane.
        for (int i = tid; i < planes * VectorsPerGroup * 16; i += Threads)
        {
            int plane = i / (VectorsPerGroup * 16);
            int row = i / 16 % VectorsPerGroup;
            int chunk = i % 16;
            int unit = plane * a.QueryPlaneUnits + (kvHead * a.VectorsPadded + firstVector + row) * 16 + chunk;
            core.Copy16((uint)(plane * 16384 + Swizzle256(row, chunk)), queries, a.QueryAddress, unit, true);
        }
        core.Commit();
        core.WaitAll();
        Group.Barrier();
        int queryRow = 16 * warp + (lane & 15);
        for (int step = 0; step < 8; step++)
            core.LoadQuery(step, (uint)Swizzle256(queryRow, 2 * step + (lane >> 4)), exact);
        Group.Barrier();

        // Softmax state: lane r < 16 owns vector 16·warp + r.
        int vector = firstVector + 16 * warp + (lane & 15);
        int position = lane < 16 && vector < a.Vectors ? positions[a.PositionOffset + vector / a.Group] : -1;
        float runningMax = float.NegativeInfinity;
        float runningSum = 0f;
        int staging = Staging + warp * StagingPerWarp;
        int g = lane >> 2;
        int t = lane & 3;
        int keyRow = 8 * (lane >> 4) + (lane & 7);

        for (int k0 = 0; k0 <= maxPosition; k0 += KeysPerTile)
        {
            // K and V tiles: 32 keys × 16 chunks per plane (K hi, K lo, V hi, V lo).
            for (int i = tid; i < 2 * planes * KeysPerTile * 16; i += Threads)
            {
                int slot = i / (KeysPerTile * 16);
                int plane = exact ? slot : 2 * slot;
                int key = i / 16 % KeysPerTile;
                int chunk = i % 16;
                int unit = plane * a.KvPlaneUnits + (kvHead * a.KeysPadded + k0 + key) * 16 + chunk;
                core.Copy16((uint)(plane * 8192 + Swizzle256(key, chunk)), keysValues, a.KvAddress, unit, true);
            }
            core.Commit();
            core.WaitAll();
            Group.Barrier();

            core.ZeroScores();
            for (int step = 0; step < 8; step++)
                core.Scores(step, (uint)(KeyTile + Swizzle256(keyRow, 2 * step + ((lane >> 3) & 1))), exact);
            core.StoreScores((uint)(staging + 4 * (g * 40 + 2 * t)));
            // Every warp is done with the K tile: its space now holds the warps' P tiles.
            Group.Barrier();
            int probabilities = KeyTile + warp * 2048;

            float alpha = 1f;
            if (lane < 16)
            {
                int rowWords = staging / 4 + lane * 40;
                float tileMax = float.NegativeInfinity;
                for (int j = 0; j < KeysPerTile; j++)
                {
                    if (k0 + j <= position)
                        tileMax = IntrinsicMath.Max(tileMax, floats[rowWords + j]);
                }
                float newMax = IntrinsicMath.Max(runningMax, tileMax);
                alpha = runningMax == float.NegativeInfinity ? 0f : DeviceMath.Exp(runningMax - newMax);
                float sum = 0f;
                for (int chunk = 0; chunk < 4; chunk++)
                {
                    for (int i = 0; i < 4; i++)
                    {
                        int j = 8 * chunk + 2 * i;
                        float p0 = k0 + j <= position ? DeviceMath.Exp(floats[rowWords + j] - newMax) : 0f;
                        float p1 = k0 + j + 1 <= position ? DeviceMath.Exp(floats[rowWords + j + 1] - newMax) : 0f;
                        sum += p0 + p1;
                        uint h0 = DeviceMath.ToBf16Bits(p0);
                        uint h1 = DeviceMath.ToBf16Bits(p1);
                        ProbabilityWords(shared, probabilities, lane, chunk, i, h0 | (h1 << 16),
                            DeviceMath.ToBf16Bits(p0 - DeviceMath.FromBf16Bits(h0)) | (DeviceMath.ToBf16Bits(p1 - DeviceMath.FromBf16Bits(h1)) << 16));
                    }
                }
                if (newMax == float.NegativeInfinity)
                    alpha = 1f;
                runningSum = runningSum * alpha + sum;
                runningMax = newMax;
                floats[Alphas / 4 + warp * 16 + lane] = alpha;
            }
            Warp.Barrier();
            core.ScaleOutput(floats[Alphas / 4 + warp * 16 + g], floats[Alphas / 4 + warp * 16 + g + 8]);
            core.LoadProbabilities((uint)(probabilities + MmaGemmKernels.Swizzle(lane & 15, lane >> 4)), (uint)(probabilities + MmaGemmKernels.Swizzle(lane & 15, 2 + (lane >> 4))), exact);
            for (int step = 0; step < 2; step++)
            {
                int valueKey = 16 * step + ((lane >> 3) & 1) * 8 + (lane & 7);
                for (int pair = 0; pair < 8; pair++)
                    core.Values(step, pair, (uint)(ValueTile + Swizzle256(valueKey, 2 * pair + (lane >> 4))), exact);
            }
            // Every warp is done with the K/V tiles and its P tile before the next tile lands.
            Group.Barrier();
        }

        if (lane < 16)
            floats[Alphas / 4 + warp * 16 + lane] = runningSum;
        Group.Barrier();
        int outputStaging = warp * OutputPerWarp;
        core.StoreOutput((uint)(outputStaging + 4 * (g * 136 + 2 * t)));
        Warp.Barrier();
        for (int q = 0; q < 16; q++)
        {
            int v = firstVector + 16 * warp + q;
            if (v >= a.Vectors)
                continue;
            float sum = floats[Alphas / 4 + warp * 16 + q];
            int row = v / a.Group;
            int head = kvHead * a.Group + v % a.Group;
            for (int d = lane; d < HeadDim; d += 32)
                output[a.OutputOffset + row * a.OutputStride + head * HeadDim + d] = floats[outputStaging / 4 + q * 136 + d] / sum;
        }
        // The next work item reloads the Q tile over this output staging.
        Group.Barrier();
    }

    /// <summary>Writes bf16 pair <paramref name="i"/> of chunk <paramref name="chunk"/> of P row <paramref name="row"/> (hi plane, lo plane at +1024).</summary>
    private static void ProbabilityWords(ArrayView<uint> shared, int tile, int row, int chunk, int i, uint high, uint low)
    {
        int word = (tile + MmaGemmKernels.Swizzle(row, chunk)) / 4 + i;
        shared[word] = high;
        shared[word + 256] = low;
    }
}
