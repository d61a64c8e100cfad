using ILGPU;

namespace Ellsa.Kernels.Gpu.Kernels;

/// <summary>Where the heads to rotate and the cache to fill are, for <see cref="RopeKernels"/>.</summary>
public struct RopeArgs
{
    /// <summary>Row stride of the tensor holding the heads (q, k and v share one tensor when fused).</summary>
    public int Stride;
    public int QueryOffset, QueryHeads;
    public int KeyOffset, ValueOffset, KvHeads;
    public int HeadDim, PositionOffset, TableCapacity;
    /// <summary>1 to also store keys (after rotation) and values into the cache.</summary>
    public int WriteCache;
    public int Layer, CacheCapacity, CacheBf16;
    public int Rows;
}

/// <summary>
/// Half-split rotary embedding from the cos/sin table (the llama3 and plain variants differ
/// only in the table's frequencies), optionally fused with the KV write: one launch rotates q
/// and k of every row and stores k and v into the cache slot of the row's position.
/// </summary>
public static class RopeKernels
{
    public const int Threads = 128;

    /// <summary>One group per row.</summary>
    [GpuKernel]
    public static void RopeAndStore(ArrayView<float> heads, ArrayView<int> positions, ArrayView<float> cos, ArrayView<float> sin,
        ArrayView<float> cacheKeys, ArrayView<float> cacheValues, RopeArgs a)
    {
        int half = a.HeadDim / 2;
        int rotated = (a.QueryHeads + a.KvHeads) * half;
        int width = a.KvHeads * a.HeadDim;
        for (int row = Grid.IdxX; row < a.Rows; row += Grid.DimX)
        {
            int position = positions[a.PositionOffset + row];
            bool valid = position >= 0 && position < a.TableCapacity;
            int rowBase = row * a.Stride;
            for (int idx = Group.IdxX; idx < rotated; idx += Group.DimX)
            {
                int head = idx / half;
                int i = idx - head * half;
                int at = rowBase + (head < a.QueryHeads ? a.QueryOffset + head * a.HeadDim : a.KeyOffset + (head - a.QueryHeads) * a.HeadDim) + i;
                float x0 = heads[at];
                float x1 = heads[at + half];
                float c = valid ? cos[position * half + i] : float.NaN;
                float s = valid ? sin[position * half + i] : float.NaN;
                heads[at] = x0 * c - x1 * s;
                heads[at + half] = x1 * c + x0 * s;
            }
            if (a.WriteCache == 0)
                continue;
            // The rotated keys were written by other threads of this group.
            Group.Barrier();
            if (position >= 0 && position < a.CacheCapacity)
            {
                for (int idx = Group.IdxX; idx < width; idx += Group.DimX)
                {
                    int head = idx / a.HeadDim;
                    int d = idx - head * a.HeadDim;
                    long slot = (((long)a.Layer * a.KvHeads + head) * a.CacheCapacity + position) * a.HeadDim + d;
                    KvStore.Write(cacheKeys, slot, heads[rowBase + a.KeyOffset + idx], a.CacheBf16 != 0);
                    KvStore.Write(cacheValues, slot, heads[rowBase + a.ValueOffset + idx], a.CacheBf16 != 0);
                }
            }
        }
    }

    /// <summary>WriteKv on its own (keys and values may sit in different tensors). One group per row.</summary>
    [GpuKernel]
    public static void StoreKv(ArrayView<float> keys, ArrayView<float> values, ArrayView<int> positions,
        ArrayView<float> cacheKeys, ArrayView<float> cacheValues, StoreKvArgs a)
    {
        int width = a.KvHeads * a.HeadDim;
        for (int row = Grid.IdxX; row < a.Rows; row += Grid.DimX)
        {
            int position = positions[a.PositionOffset + row];
            if (position < 0 || position >= a.CacheCapacity)
                continue;
            for (int idx = Group.IdxX; idx < width; idx += Group.DimX)
            {
                int head = idx / a.HeadDim;
                int d = idx - head * a.HeadDim;
                long slot = (((long)a.Layer * a.KvHeads + head) * a.CacheCapacity + position) * a.HeadDim + d;
                KvStore.Write(cacheKeys, slot, keys[a.KeyOffset + row * a.KeyStride + idx], a.CacheBf16 != 0);
                KvStore.Write(cacheValues, slot, values[a.ValueOffset + row * a.ValueStride + idx], a.CacheBf16 != 0);
            }
        }
    }
}

public struct StoreKvArgs
{
    public int Rows, KeyOffset, KeyStride, ValueOffset, ValueStride, KvHeads, HeadDim, PositionOffset, Layer, CacheCapacity, CacheBf16;
}

/// <summary>Reads and writes one cache element in either layout (fp32, or bf16 pairs in 32-bit words).</summary>
public static class KvStore
{
    public static void Write(ArrayView<float> cache, long slot, float value, bool bf16)
    {
        if (!bf16)
        {
            cache[slot] = value;
            return;
        }
        // Two threads own the two halves of a word; an atomic read-modify-write keeps both.
        var words = cache.Cast<int>();
        long word = slot >> 1;
        int shift = (int)(slot & 1) * 16;
        int bits = (int)DeviceMath.ToBf16Bits(value) << shift;
        int mask = ~(0xFFFF << shift);
        Atomic.And(ref words[word], mask);
        Atomic.Or(ref words[word], bits);
    }

    public static float Read(ArrayView<float> cache, long slot, bool bf16)
    {
        if (!bf16)
            return cache[slot];
        uint word = ILGPU.Interop.FloatAsInt(cache[slot >> 1]);
        return (slot & 1) == 0 ? DeviceMath.Bf16Low(word) : DeviceMath.Bf16High(word);
    }
}
