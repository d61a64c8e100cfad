using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Gpu.Kernels;
using Ellsa.Kernels.Gpu.Memory;
using ILGPU;
using ILGPU.Runtime;

namespace Ellsa.Kernels.Gpu;

/// <summary>Row-wise operations and the fusion window that may hold RMSNorm and RoPE back for one call.</summary>
public sealed partial class IlgpuBackend
{
    private readonly record struct PendingNorm(TensorSlice Source, GpuVector Weight, float Eps, TensorSlice Destination);

    private readonly record struct PendingRope(TensorSlice Heads, int HeadDim, GpuIndices Positions, int PositionOffset, GpuRopeTable Table);

    public void Embed(DeviceMatrix table, DeviceIndices ids, int idOffset, TensorSlice destination)
    {
        var matrix = Matrix(table);
        var indices = Indices(ids);
        var output = Tensor(destination);
        BackendChecks.Embed(matrix, indices.Shadow, idOffset, destination);
        if (destination.Rows == 0)
            return;
        Launch("Embed", (matrix, indices, output, destination, idOffset), static (b, s) =>
            b._kernels.Embed.Value(b._host.Stream, new KernelConfig(b.Groups(s.destination.Rows), b.Threads(RowKernels.Threads)),
                s.matrix.View, s.matrix.Descriptor, s.indices.View, s.output.View,
                new EmbedArgs
                {
                    Rows = s.destination.Rows, TableRows = s.matrix.Rows, Cols = s.matrix.Cols, IdOffset = s.idOffset,
                    DestinationOffset = s.output.Offset(s.destination), DestinationStride = s.output.Cols,
                }),
            static s => $"{s.matrix.Name}, {s.destination.Rows} rows × {s.matrix.Cols}");
    }

    public void RmsNorm(TensorSlice source, DeviceVector weight, float eps, TensorSlice destination)
    {
        var vector = Vector(weight);
        Tensor(source);
        Tensor(destination);
        BackendChecks.RmsNorm(source, weight, destination);
        lock (_host.Gate)
        {
            Flush();
            if (Options.FuseOperations && !Overlaps(source, destination))
                _pendingNorm = new PendingNorm(source, vector, eps, destination);
            else
                LaunchNorm(new PendingNorm(source, vector, eps, destination));
        }
    }

    public void Rope(TensorSlice heads, int headDim, DeviceIndices positions, int positionOffset, DeviceRopeTable table)
    {
        var indices = Indices(positions);
        var rope = Rope(table);
        Tensor(heads);
        BackendChecks.Rope(heads, headDim, indices.Shadow, positionOffset, rope);
        var pending = new PendingRope(heads, headDim, indices, positionOffset, rope);
        lock (_host.Gate)
        {
            if (_pendingRopes.Count == 1 && Options.FuseOperations && Compatible(_pendingRopes[0], pending))
            {
                _pendingRopes.Add(pending);
                return;
            }
            Flush();
            if (Options.FuseOperations)
                _pendingRopes.Add(pending);
            else
                LaunchRope(pending, null);
        }
    }

    public void WriteKv(DeviceKvCache cache, int layer, TensorSlice keys, TensorSlice values, DeviceIndices positions, int positionOffset)
    {
        var kv = Cache(cache);
        var indices = Indices(positions);
        var keyTensor = Tensor(keys);
        var valueTensor = Tensor(values);
        int headDim = kv.HeadDim;
        BackendChecks.WriteKv(kv, layer, keys, values, indices.Shadow, positionOffset);
        if (keys.Rows == 0)
            return;
        lock (_host.Gate)
        {
            var store = new KvTarget(kv, layer);
            if (_pendingRopes.Count > 0 && CanFuseStore(keys, values, indices, positionOffset, headDim))
            {
                // RoPE of q and k and the store of k and v in one launch.
                // Loops, not LINQ: this runs once per layer of every decode step.
                int keyIndex = SameSlice(_pendingRopes[0].Heads, keys) ? 0 : 1;
                var keyRope = _pendingRopes[keyIndex];
                PendingRope? queryRope = _pendingRopes.Count == 2 ? _pendingRopes[1 - keyIndex] : null;
                _pendingRopes.Clear();
                LaunchRope(keyRope, store, queryRope, values);
                return;
            }
            Launch("WriteKv", (kv, indices, keyTensor, valueTensor, keys, values, positionOffset, layer), static (b, s) =>
                b._kernels.StoreKv.Value(b._host.Stream, new KernelConfig(b.Groups(s.keys.Rows), b.Threads(RopeKernels.Threads)),
                    s.keyTensor.View, s.valueTensor.View, s.indices.View, s.kv.Keys, s.kv.Values,
                    new StoreKvArgs
                    {
                        Rows = s.keys.Rows, KeyOffset = s.keyTensor.Offset(s.keys), KeyStride = s.keyTensor.Cols,
                        ValueOffset = s.valueTensor.Offset(s.values), ValueStride = s.valueTensor.Cols,
                        KvHeads = s.kv.KvHeads, HeadDim = s.kv.HeadDim, PositionOffset = s.positionOffset,
                        Layer = s.layer, CacheCapacity = s.kv.Capacity, CacheBf16 = s.kv.Bf16 ? 1 : 0,
                    }),
                static s => $"{s.keys.Rows} rows × {s.kv.KvHeads} kv heads × {s.kv.HeadDim}, layer {s.layer}");
        }
    }

    public void SwiGlu(TensorSlice gateUp, TensorSlice output)
    {
        var input = Tensor(gateUp);
        var result = Tensor(output);
        BackendChecks.SwiGlu(gateUp, output);
        if (output.Rows == 0)
            return;
        lock (_host.Gate)
        {
            Flush();
            LaunchSwiGlu(input, gateUp, result, output);
        }
    }

    private void LaunchSwiGlu(GpuTensor input, TensorSlice gateUp, GpuTensor result, TensorSlice output) =>
        Launch("SwiGlu", (input, gateUp, result, output), static (b, s) =>
            b._kernels.SwiGlu.Value(b._host.Stream, new KernelConfig(b.Groups(s.output.Rows), b.Threads(RowKernels.Threads)), s.input.View, s.result.View,
                new RowArgs
                {
                    Rows = s.output.Rows, SourceOffset = s.input.Offset(s.gateUp), SourceStride = s.input.Cols,
                    DestinationOffset = s.result.Offset(s.output), DestinationStride = s.result.Cols, Width = s.output.Cols,
                }),
            static s => $"{s.output.Rows}×{s.output.Cols}", flush: false);

    /// <summary>Runs whatever the fusion window holds. Every operation calls it before doing anything else.</summary>
    private void Flush()
    {
        lock (_host.Gate)
        {
            if (_pendingNorm is { } norm)
            {
                _pendingNorm = null;
                LaunchNorm(norm);
            }
            if (_pendingRopes.Count > 0)
            {
                var first = _pendingRopes[0];
                PendingRope? second = _pendingRopes.Count > 1 ? _pendingRopes[1] : null;
                _pendingRopes.Clear();
                LaunchRope(first, null);
                if (second is { } rope)
                    LaunchRope(rope, null);
            }
        }
    }

    /// <summary>Takes the held-back norm when <paramref name="input"/> is exactly its output and <paramref name="output"/> touches neither of its slices.</summary>
    private PendingNorm? TakeNormFor(TensorSlice input, TensorSlice output)
    {
        if (_pendingNorm is { } norm && SameSlice(norm.Destination, input) && !Overlaps(output, norm.Source) && !Overlaps(output, norm.Destination))
        {
            _pendingNorm = null;
            Flush();
            return norm;
        }
        Flush();
        return null;
    }

    private void LaunchNorm(PendingNorm norm)
    {
        var source = Tensor(norm.Source);
        var destination = Tensor(norm.Destination);
        if (norm.Source.Rows == 0)
            return;
        // Not flushed: this runs from Flush itself, in the window's order.
        Launch("RmsNorm", (source, destination, norm), static (b, s) =>
            b._kernels.RmsNorm.Value(b._host.Stream, new KernelConfig(b.Groups(s.norm.Source.Rows), b.Threads(RowKernels.Threads)), s.source.View, s.norm.Weight.View, s.destination.View,
                new RowArgs
                {
                    Rows = s.norm.Source.Rows, Exchange = b.Exchange, SourceOffset = s.source.Offset(s.norm.Source), SourceStride = s.source.Cols,
                    DestinationOffset = s.destination.Offset(s.norm.Destination), DestinationStride = s.destination.Cols,
                    Width = s.norm.Source.Cols, Eps = s.norm.Eps,
                }),
            static s => $"{s.norm.Source.Rows}×{s.norm.Source.Cols}", flush: false);
    }

    private readonly record struct KvTarget(GpuKvCache Cache, int Layer);

    /// <summary>Rotates <paramref name="rope"/>'s heads (and <paramref name="query"/>'s) and, with a target, stores the keys and <paramref name="values"/>.</summary>
    private void LaunchRope(PendingRope rope, KvTarget? store, PendingRope? query = null, TensorSlice? values = null)
    {
        var tensor = Tensor(rope.Heads);
        int rows = rope.Heads.Rows;
        if (rows == 0)
            return;
        var cache = store?.Cache;
        var args = new RopeArgs
        {
            Rows = rows,
            Stride = tensor.Cols,
            HeadDim = rope.HeadDim,
            PositionOffset = rope.PositionOffset,
            TableCapacity = rope.Table.Capacity,
        };
        if (store is null)
        {
            // Plain RoPE: the slice's heads take the "query" role; nothing is stored.
            args.QueryOffset = tensor.Offset(rope.Heads);
            args.QueryHeads = rope.Heads.Cols / rope.HeadDim;
        }
        else
        {
            args.QueryOffset = query is { } q ? tensor.Offset(q.Heads) : 0;
            args.QueryHeads = query is { } q2 ? q2.Heads.Cols / rope.HeadDim : 0;
            args.KeyOffset = tensor.Offset(rope.Heads);
            args.ValueOffset = tensor.Offset(values!.Value);
            args.KvHeads = rope.Heads.Cols / rope.HeadDim;
            args.WriteCache = 1;
            args.Layer = store.Value.Layer;
            args.CacheCapacity = cache!.Capacity;
            args.CacheBf16 = cache.Bf16 ? 1 : 0;
        }
        var keys = cache?.Keys ?? _workspace.Dummy;
        var cachedValues = cache?.Values ?? _workspace.Dummy;
        // Not flushed: this runs from Flush itself (or takes the held-back RoPE out of the window).
        Launch(store is null ? "Rope" : "Rope+WriteKv", (tensor, rope, keys, cachedValues, args), static (b, s) =>
            b._kernels.RopeAndStore.Value(b._host.Stream, new KernelConfig(b.Groups(s.args.Rows), b.Threads(RopeKernels.Threads)), s.tensor.View, s.rope.Positions.View,
                s.rope.Table.Cos, s.rope.Table.Sin, s.keys, s.cachedValues, s.args),
            static s => $"{s.args.Rows} rows × {s.rope.Heads.Cols} columns, head dim {s.rope.HeadDim}", flush: false);
    }

    private bool CanFuseStore(TensorSlice keys, TensorSlice values, GpuIndices positions, int positionOffset, int headDim)
    {
        bool keysRotated = false;
        foreach (var r in _pendingRopes)
        {
            // One row stride for q, k and v: they must share the tensor and the rows.
            if (r.Heads.Tensor != keys.Tensor || r.Heads.Row != keys.Row || r.Heads.Rows != keys.Rows || Overlaps(r.Heads, values) ||
                r.HeadDim != headDim || r.Positions != positions || r.PositionOffset != positionOffset)
                return false;
            keysRotated |= SameSlice(r.Heads, keys);
        }
        return keysRotated && values.Tensor == keys.Tensor && values.Row == keys.Row && values.Rows == keys.Rows;
    }

    private static bool Compatible(PendingRope a, PendingRope b) =>
        a.Heads.Tensor == b.Heads.Tensor && a.Heads.Row == b.Heads.Row && a.Heads.Rows == b.Heads.Rows && a.HeadDim == b.HeadDim &&
        a.Positions == b.Positions && a.PositionOffset == b.PositionOffset && a.Table == b.Table && !Overlaps(a.Heads, b.Heads);

    private static bool SameSlice(TensorSlice a, TensorSlice b) =>
        a.Tensor == b.Tensor && a.Row == b.Row && a.Rows == b.Rows && a.Col == b.Col && a.Cols == b.Cols;

    private static bool Overlaps(TensorSlice a, TensorSlice b) =>
        a.Tensor == b.Tensor && a.Rows > 0 && b.Rows > 0 && a.Cols > 0 && b.Cols > 0 &&
        a.Row < b.Row + b.Rows && b.Row < a.Row + a.Rows && a.Col < b.Col + b.Cols && b.Col < a.Col + a.Cols;
}
