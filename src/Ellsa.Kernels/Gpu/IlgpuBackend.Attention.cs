using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Gpu.Kernels;
using Ellsa.Kernels.Gpu.Memory;
using ILGPU;
using ILGPU.Runtime;

namespace Ellsa.Kernels.Gpu;

/// <summary>
/// Attention over the shared cache. A few rows (decode) take the split-K kernel, sized from the
/// rows' positions (known on the host, see <see cref="GpuIndices"/>) so that the splits fill
/// the device; more rows take the tiled prefill kernel.
/// </summary>
public sealed partial class IlgpuBackend
{
    /// <summary>Rows up to which attention runs as Flash-Decoding.</summary>
    public const int DecodeAttentionRows = 4;

    private const int MaxSharedFloats = 48 * 1024 / 4;

    public void Attention(DeviceKvCache cache, int layer, TensorSlice queries, DeviceIndices positions, int positionOffset, TensorSlice output)
    {
        var kv = Cache(cache);
        var q = Tensor(queries);
        var o = Tensor(output);
        var indices = Indices(positions);
        int hd = kv.HeadDim;
        BackendChecks.Attention(kv, layer, queries, indices.Shadow, positionOffset, output);
        if (queries.Rows == 0)
            return;
        int heads = queries.Cols / hd;
        int group = heads / kv.KvHeads;
        int maxPosition = 0;
        for (int r = 0; r < queries.Rows; r++)
            maxPosition = Math.Max(maxPosition, indices.Shadow[positionOffset + r]);
        var args = new AttentionArgs
        {
            QueryOffset = q.Offset(queries), QueryStride = q.Cols,
            OutputOffset = o.Offset(output), OutputStride = o.Cols,
            PositionOffset = positionOffset, Rows = queries.Rows,
            Heads = heads, KvHeads = kv.KvHeads, HeadDim = hd,
            Layer = layer, Capacity = kv.Capacity, CacheBf16 = kv.Bf16 ? 1 : 0,
            Scale = 1f / MathF.Sqrt(hd),
            Exchange = Exchange,
        };
        lock (_host.Gate)
        {
            Flush();
            if (queries.Rows <= DecodeAttentionRows)
                LaunchDecodeAttention(kv, q, o, indices, args, maxPosition, group);
            else
                LaunchPrefillAttention(kv, q, o, indices, args, group, maxPosition);
        }
    }

    private void LaunchDecodeAttention(GpuKvCache kv, GpuTensor q, GpuTensor o, GpuIndices positions, AttentionArgs args, int maxPosition, int group)
    {
        int keys = maxPosition + 1;
        int hd = args.HeadDim;
        // Enough splits for two groups per multiprocessor, in chunks of 32 keys, within shared memory
        // (on the simulator: as few splits as the chunk limit allows).
        int target = _host.IsCuda ? 2 * _host.Multiprocessors : 1;
        int wanted = Math.Max(1, (target + args.Rows * args.KvHeads - 1) / (args.Rows * args.KvHeads));
        int chunk = Math.Max(32, ((keys + wanted - 1) / wanted + 31) / 32 * 32);
        int maxChunk = Math.Max(32, (MaxSharedFloats / group - hd) / 32 * 32);
        chunk = Math.Min(chunk, maxChunk);
        if (group * (hd + chunk) > MaxSharedFloats)
            throw new NotSupportedException($"decode attention with {group} query heads per kv head of {hd} does not fit in 48 KB of shared memory");
        int splits = (keys + chunk - 1) / chunk;
        args.Chunk = chunk;
        args.Splits = splits;
        long partials = (long)args.Rows * args.Heads * splits;
        var partialOut = _workspace.Floats("attention.partial", partials * hd);
        var partialStats = _workspace.Floats("attention.stats", partials * 2);
        var shared = SharedMemoryConfig.RequestDynamic<float>(DecodeAttentionKernels.SharedFloats(group, hd, chunk));
        Launch("Attention (decode)", (kv, q, positions, partialOut, partialStats, shared, args, keys), static (b, s) =>
                b._kernels.DecodeAttention.Value(b._host.Stream,
                    new KernelConfig(b.Groups((long)s.args.Splits * s.args.Rows * s.args.KvHeads), b.Threads(DecodeAttentionKernels.Threads), s.shared),
                    s.q.View, s.positions.View, s.kv.Keys, s.kv.Values, s.partialOut, s.partialStats, s.args),
            static s => $"{s.args.Rows} rows, {s.args.Heads} heads over {s.args.KvHeads} kv heads of {s.args.HeadDim}, {s.keys} keys in {s.args.Splits} splits",
            flush: false);
        Launch("Attention (merge)", (positions, partialOut, partialStats, o, args), static (b, s) =>
                b._kernels.MergeAttention.Value(b._host.Stream, new KernelConfig(b.Groups(s.args.Rows * s.args.Heads), b.Threads(128)),
                    s.positions.View, s.partialOut, s.partialStats, s.o.View, s.args),
            static s => $"{s.args.Rows} rows, {s.args.Heads} heads of {s.args.HeadDim}, {s.args.Splits} splits", flush: false);
    }

    /// <summary>Packs Q and the layer's keys and values as bf16 planes, then runs the tensor-core flash kernel.</summary>
    private void LaunchFlashAttention(GpuKvCache kv, GpuTensor q, GpuTensor o, GpuIndices positions, AttentionArgs args, int group, int maxPosition)
    {
        bool exact = Options.Precision == GemmPrecision.Exact;
        bool emulated = !_host.IsCuda;
        int vectors = args.Rows * group;
        int vectorsPadded = (vectors + FlashAttentionKernels.VectorsPerGroup - 1) / FlashAttentionKernels.VectorsPerGroup * FlashAttentionKernels.VectorsPerGroup;
        int maxKey = maxPosition + 1;
        int keysPadded = (maxKey + FlashAttentionKernels.KeysPerTile - 1) / FlashAttentionKernels.KeysPerTile * FlashAttentionKernels.KeysPerTile;
        int queryPlane = args.KvHeads * vectorsPadded * 16;
        int kvPlane = args.KvHeads * keysPadded * 16;
        var packedQueries = _workspace.Words("flash.queries", 2L * queryPlane * 4);
        var packedKv = _workspace.Words("flash.kv", 4L * kvPlane * 4);
        var queryUnits = packedQueries.Cast<U4>();
        var kvUnits = packedKv.Cast<U4>();
        var flash = new FlashArgs
        {
            Rows = args.Rows, Heads = args.Heads, KvHeads = args.KvHeads, Group = group,
            Vectors = vectors, VectorsPadded = vectorsPadded, MaxKey = maxKey, KeysPadded = keysPadded,
            QueryOffset = args.QueryOffset, QueryStride = args.QueryStride, OutputOffset = args.OutputOffset, OutputStride = args.OutputStride,
            PositionOffset = args.PositionOffset, Layer = args.Layer, Capacity = args.Capacity, CacheBf16 = args.CacheBf16,
            Scale = args.Scale, Exact = exact ? 1 : 0, QueryPlaneUnits = queryPlane, KvPlaneUnits = kvPlane,
            QueryAddress = emulated ? 0 : DeviceAddress(queryUnits),
            KvAddress = emulated ? 0 : DeviceAddress(kvUnits),
        };
        int threads = Threads(256);
        Launch("Attention (pack queries)", (q, packedQueries, flash, args, threads), static (b, s) =>
                b._kernels.PackQueries.Value(b._host.Stream, new KernelConfig(b.Groups(Math.Max(1, (long)s.args.KvHeads * s.flash.VectorsPadded * 64 / s.threads)), s.threads),
                    s.q.View, s.packedQueries, s.flash),
            static s => FlashSizes(s.args, s.flash.MaxKey, s.flash.Exact != 0), flush: false);
        Launch("Attention (pack keys and values)", (kv, packedKv, flash, args, threads), static (b, s) =>
                b._kernels.PackKeysValues.Value(b._host.Stream, new KernelConfig(b.Groups(Math.Max(1, (long)s.args.KvHeads * s.flash.KeysPadded * 64 / s.threads)), s.threads),
                    s.kv.Keys, s.kv.Values, s.packedKv, s.flash),
            static s => FlashSizes(s.args, s.flash.MaxKey, s.flash.Exact != 0), flush: false);
        var kernel = (exact, emulated) switch
        {
            (true, false) => _kernels.FlashExact.Value,
            (false, false) => _kernels.FlashFast.Value,
            (true, true) => _kernels.FlashEmulatedExact.Value,
            _ => _kernels.FlashEmulatedFast.Value,
        };
        int blocks = args.KvHeads * vectorsPadded / FlashAttentionKernels.VectorsPerGroup;
        var config = new KernelConfig(Groups(blocks), FlashAttentionKernels.Threads, SharedMemoryConfig.RequestDynamic<U4>(FlashAttentionKernels.SharedBytes / 16));
        Launch("Attention (tensor cores)", (kernel, config, queryUnits, kvUnits, positions, o, flash, args), static (b, s) =>
                s.kernel(b._host.Stream, s.config, s.queryUnits, s.kvUnits, s.positions.View, s.o.View, s.flash),
            static s => FlashSizes(s.args, s.flash.MaxKey, s.flash.Exact != 0), flush: false);
    }

    private static string FlashSizes(AttentionArgs args, int keys, bool exact) =>
        $"{args.Rows} rows, {args.Heads} heads over {args.KvHeads} kv heads of {args.HeadDim}, {keys} keys, {(exact ? "exact" : "fast")}";

    private void LaunchPrefillAttention(GpuKvCache kv, GpuTensor q, GpuTensor o, GpuIndices positions, AttentionArgs args, int group, int maxPosition)
    {
        if (args.HeadDim == FlashAttentionKernels.HeadDim && Options.TensorCores && (_host.IsCuda || Options.EmulateTensorCores))
        {
            LaunchFlashAttention(kv, q, o, positions, args, group, maxPosition);
            return;
        }
        int hd = args.HeadDim;
        int tile = hd <= 128 ? 16 : 8;
        int target = hd <= 128 ? 16 : 8;
        int rowsPerGroup = Math.Max(1, target / group);
        while (rowsPerGroup > 1 && PrefillAttentionKernels.SharedFloats(rowsPerGroup * group, tile, hd) > MaxSharedFloats)
            rowsPerGroup--;
        while (tile > 1 && PrefillAttentionKernels.SharedFloats(rowsPerGroup * group, tile, hd) > MaxSharedFloats)
            tile /= 2;
        int floats = PrefillAttentionKernels.SharedFloats(rowsPerGroup * group, tile, hd);
        if (floats > MaxSharedFloats)
            throw new NotSupportedException($"prefill attention with {group} query heads per kv head of {hd} does not fit in 48 KB of shared memory");
        args.Chunk = tile;
        args.Splits = rowsPerGroup;
        long items = (long)((args.Rows + rowsPerGroup - 1) / rowsPerGroup) * args.KvHeads;
        Launch("Attention (prefill)", (kv, q, positions, o, args, items, floats), static (b, s) =>
                b._kernels.PrefillAttention.Value(b._host.Stream,
                    new KernelConfig(b.Groups(s.items), b.Threads(PrefillAttentionKernels.Threads), SharedMemoryConfig.RequestDynamic<float>(s.floats)),
                    s.q.View, s.positions.View, s.kv.Keys, s.kv.Values, s.o.View, s.args),
            static s => $"{s.args.Rows} rows, {s.args.Heads} heads over {s.args.KvHeads} kv heads of {s.args.HeadDim}", flush: false);
    }
}
