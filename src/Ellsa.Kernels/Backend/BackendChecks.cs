namespace Ellsa.Kernels.Backend;

/// <summary>
/// The argument contracts of the fused <see cref="IComputeBackend"/> operations, checked by every
/// backend before any work starts, with the same messages. Ids and positions are checked on the
/// host, from the values each backend keeps of its index buffers, so a bad one is an exception on
/// every backend, never a NaN or a write outside the cache. Nothing here allocates unless it throws.
/// </summary>
internal static class BackendChecks
{
    public static void Upload(int values, TensorSlice destination)
    {
        if (values != destination.Rows * destination.Cols)
            throw new ArgumentException($"upload of {values} values into a {destination.Rows}×{destination.Cols} slice");
    }

    public static void Upload(int values, int offset, DeviceIndices destination)
    {
        if (offset < 0 || offset + values > destination.Length)
            throw new ArgumentException($"upload of {values} indices at {offset} into {destination.Length}");
    }

    public static void Download(TensorSlice source, int values)
    {
        if (values < source.Rows * source.Cols)
            throw new ArgumentException($"download of a {source.Rows}×{source.Cols} slice into {values} values");
    }

    /// <param name="ids">The host values of the whole index buffer.</param>
    public static void Embed(DeviceMatrix table, ReadOnlySpan<int> ids, int idOffset, TensorSlice destination)
    {
        if (destination.Cols != table.Cols)
            throw new ArgumentException($"{table.Name} rows have {table.Cols} values, the destination {destination.Cols}");
        if (idOffset < 0 || idOffset + destination.Rows > ids.Length)
            throw new ArgumentException($"embedding of {destination.Rows} ids from offset {idOffset} of {ids.Length}");
        for (int r = 0; r < destination.Rows; r++)
        {
            int id = ids[idOffset + r];
            if (id < 0 || id >= table.Rows)
                throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is outside {table.Name} ({table.Rows} rows)");
        }
    }

    public static void RmsNorm(TensorSlice source, DeviceVector weight, TensorSlice destination)
    {
        if (source.Cols != weight.Length || destination.Cols != weight.Length || source.Rows != destination.Rows)
            throw new ArgumentException($"RMSNorm of {source.Rows}×{source.Cols} into {destination.Rows}×{destination.Cols} with a weight of {weight.Length}");
    }

    public static void MatMul(DeviceMatrix weight, TensorSlice input, TensorSlice output, DeviceVector? bias)
    {
        if (input.Cols != weight.Cols || output.Cols != weight.Rows || input.Rows != output.Rows)
            throw new ArgumentException(
                $"{weight.Name} is {weight.Rows}×{weight.Cols}: cannot map {input.Rows}×{input.Cols} to {output.Rows}×{output.Cols}");
        if (bias is not null && bias.Length != weight.Rows)
            throw new ArgumentException($"{weight.Name}: bias has {bias.Length} values for {weight.Rows} rows");
    }

    /// <param name="positions">The host values of the whole position buffer.</param>
    public static void Rope(TensorSlice heads, int headDim, ReadOnlySpan<int> positions, int positionOffset, DeviceRopeTable table)
    {
        if (headDim % 2 != 0 || heads.Cols % headDim != 0 || table.HalfDim * 2 != headDim)
            throw new ArgumentException($"RoPE over {heads.Cols} columns with head dim {headDim} and a table of {table.HalfDim} frequencies");
        Positions(positions, positionOffset, heads.Rows, table.Capacity, "RoPE", "the table");
    }

    /// <param name="positions">The host values of the whole position buffer.</param>
    public static void WriteKv(DeviceKvCache cache, int layer, TensorSlice keys, TensorSlice values, ReadOnlySpan<int> positions, int positionOffset)
    {
        if (keys.Cols != cache.KvHeads * cache.HeadDim || values.Cols != keys.Cols || keys.Rows != values.Rows)
            throw new ArgumentException($"KV write of {keys.Rows}×{keys.Cols} / {values.Rows}×{values.Cols} into {cache.KvHeads} heads of {cache.HeadDim}");
        Layer(cache, layer);
        Positions(positions, positionOffset, keys.Rows, cache.Capacity, "KV write", "the cache");
    }

    /// <param name="positions">The host values of the whole position buffer.</param>
    public static void Attention(DeviceKvCache cache, int layer, TensorSlice queries, ReadOnlySpan<int> positions, int positionOffset, TensorSlice output)
    {
        int hd = cache.HeadDim;
        if (queries.Cols % hd != 0 || output.Cols != queries.Cols || (queries.Cols / hd) % cache.KvHeads != 0 || output.Rows != queries.Rows)
            throw new ArgumentException($"attention of {queries.Rows}×{queries.Cols} query columns over {cache.KvHeads} kv heads of {hd} into {output.Rows}×{output.Cols}");
        Layer(cache, layer);
        Positions(positions, positionOffset, queries.Rows, cache.Capacity, "attention", "the KV cache");
    }

    public static void SwiGlu(TensorSlice gateUp, TensorSlice output)
    {
        if (gateUp.Cols != 2 * output.Cols || gateUp.Rows != output.Rows)
            throw new ArgumentException($"SwiGLU of {gateUp.Rows}×{gateUp.Cols} into {output.Rows}×{output.Cols}");
    }

    public static void GateUpSwiGlu(DeviceMatrix gateUp, TensorSlice input, TensorSlice output)
    {
        if (gateUp.Rows != 2 * output.Cols || input.Rows != output.Rows || input.Cols != gateUp.Cols)
            throw new ArgumentException($"{gateUp.Name} has {gateUp.Rows}×{gateUp.Cols}: cannot produce {output.Rows}×{output.Cols} from {input.Rows}×{input.Cols}");
    }

    /// <summary>One row, and at least one allowed id inside it.</summary>
    public static void ArgMax(TensorSlice row, ReadOnlySpan<IdRange> allowed)
    {
        if (row.Rows != 1)
            throw new ArgumentException($"argmax takes one row, not {row.Rows}");
        foreach (var range in allowed)
        {
            if (Math.Max(0, range.First) <= Math.Min(row.Cols - 1, range.Last))
                return;
        }
        throw new ArgumentException($"argmax over a row of {row.Cols}: no allowed id lies inside it");
    }

    private static void Layer(DeviceKvCache cache, int layer)
    {
        if (layer < 0 || layer >= cache.Layers)
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"the cache has {cache.Layers} layers");
    }

    /// <summary>Rows' positions from <paramref name="offset"/> on: inside the buffer, and each inside [0, <paramref name="capacity"/>).</summary>
    private static void Positions(ReadOnlySpan<int> positions, int offset, int rows, int capacity, string operation, string what)
    {
        if (offset < 0 || offset + rows > positions.Length)
            throw new ArgumentException($"{operation}: {rows} positions from offset {offset} of {positions.Length}");
        for (int r = 0; r < rows; r++)
        {
            int p = positions[offset + r];
            if (p < 0 || p >= capacity)
                throw new InvalidOperationException($"{operation} at position {p} is outside {what} (capacity {capacity})");
        }
    }
}
