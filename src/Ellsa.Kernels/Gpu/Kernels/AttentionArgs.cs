namespace Ellsa.Kernels.Gpu.Kernels;

/// <summary>Where queries, positions, cache and output are for the attention kernels.</summary>
public struct AttentionArgs
{
    public int QueryOffset, QueryStride, OutputOffset, OutputStride;
    public int PositionOffset, Rows;
    public int Heads, KvHeads, HeadDim;
    public int Layer, Capacity, CacheBf16;
    public float Scale;
    /// <summary>Decode: keys per split. Prefill: keys per shared-memory tile.</summary>
    public int Chunk;
    /// <summary>Decode: splits per (row, kv head) in the partial buffers. Prefill: rows per group.</summary>
    public int Splits;
    /// <summary>Reductions by shared-memory exchange instead of shuffles (simulator only, see <see cref="WarpReducer"/>).</summary>
    public int Exchange;
}
