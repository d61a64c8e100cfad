namespace Ellsa.Kernels.Backend;

/// <summary>
/// The device operations the SA-MoE graph is written against. CPU, CUDA and ILGPU's CPU
/// accelerator implement the same set, so one model code path runs on all of them.
/// Row-wise operations carry each row's position explicitly, so a batch may list its rows
/// in any order (the model groups them by expert).
/// </summary>
public interface IComputeBackend : INetworkOps, IDisposable
{
    /// <summary>What the backend runs on, for logs and benchmark tables.</summary>
    string Description { get; }

    /// <summary>
    /// True when uploaded matrices keep pointing into the host memory they came from (the CPU
    /// backend uses mapped weights in place); false when they were copied, so the host copy may go.
    /// </summary>
    bool UsesHostWeightsInPlace { get; }

    /// <summary>
    /// Whether weights read in place (<see cref="UsesHostWeightsInPlace"/>), <paramref name="bytes"/>
    /// of them, are better copied out of a checkpoint's file mapping into memory of their own at
    /// load: the CPU streams them every token, and its own buffers sit on huge pages.
    /// </summary>
    bool PrefersOwnedWeights(long bytes);

    /// <summary>
    /// Positions one prefill pass should take: each pass reads every weight once, so a GPU wants
    /// whole blocks in one pass while the CPU keeps its activations cache-sized.
    /// </summary>
    int PreferredPrefillRows { get; }

    DeviceMatrix UploadMatrix(HostMatrix matrix);
    DeviceVector UploadVector(ReadOnlySpan<float> values);
    DeviceTensor AllocateTensor(int rows, int cols);
    DeviceIndices AllocateIndices(int length);
    DeviceKvCache AllocateKvCache(int layers, int kvHeads, int headDim, int capacity);

    /// <summary>Builds cos/sin tables from inverse frequencies given in double precision.</summary>
    DeviceRopeTable CreateRopeTable(ReadOnlySpan<double> inverseFrequencies, int capacity);

    void Upload(ReadOnlySpan<float> source, TensorSlice destination);
    void Upload(ReadOnlySpan<int> source, DeviceIndices destination, int offset);
    void Download(TensorSlice source, Span<float> destination);

    /// <summary>destination row r = table row ids[idOffset + r].</summary>
    void Embed(DeviceMatrix table, DeviceIndices ids, int idOffset, TensorSlice destination);

    /// <summary>destination = source · rsqrt(mean(source²) + eps) · weight, per row.</summary>
    void RmsNorm(TensorSlice source, DeviceVector weight, float eps, TensorSlice destination);

    /// <summary>output = input · weightᵀ (+ bias) (+ output when accumulate): the projection and the residual add in one pass.</summary>
    void MatMul(DeviceMatrix weight, TensorSlice input, TensorSlice output, DeviceVector? bias, bool accumulate);

    /// <summary>Half-split rotary embedding, in place, on every head of every row, at positions[positionOffset + r].</summary>
    void Rope(TensorSlice heads, int headDim, DeviceIndices positions, int positionOffset, DeviceRopeTable table);

    /// <summary>Stores each row's k and v heads into the cache slot of its position.</summary>
    void WriteKv(DeviceKvCache cache, int layer, TensorSlice keys, TensorSlice values, DeviceIndices positions, int positionOffset);

    /// <summary>
    /// Causal GQA attention: the row at position p attends to cache slots 0…p of its layer with
    /// scale 1/√headDim; query head h reads kv head h / (heads / kvHeads).
    /// </summary>
    void Attention(DeviceKvCache cache, int layer, TensorSlice queries, DeviceIndices positions, int positionOffset, TensorSlice output);

    /// <summary>output = silu(gate) · up where gateUp holds gate in its first half of columns and up in the second.</summary>
    void SwiGlu(TensorSlice gateUp, TensorSlice output);

    /// <summary>
    /// The MLP's first half in one operation: with g|u = input · gateUpᵀ (gate rows first, then as
    /// many up rows), output = silu(g) · u. Backends may fuse it so the [rows, 2·ff] product never
    /// reaches memory.
    /// </summary>
    void GateUpSwiGlu(DeviceMatrix gateUp, TensorSlice input, TensorSlice output);

    /// <summary>The index of the largest value of a single row within the allowed ranges; ties go to the lowest index.</summary>
    int ArgMax(TensorSlice row, ReadOnlySpan<IdRange> allowed);

    /// <summary>
    /// A head's greedy step: <see cref="MatMul"/> of one row into <paramref name="output"/> (not
    /// accumulated), then <see cref="ArgMax"/> of it. Backends may fuse both into one pass over the
    /// head's rows; the logits are written either way.
    /// </summary>
    int MatMulArgMax(DeviceMatrix weight, TensorSlice input, TensorSlice output, DeviceVector? bias, ReadOnlySpan<IdRange> allowed)
    {
        MatMul(weight, input, output, bias, accumulate: false);
        return ArgMax(output, allowed);
    }

    /// <summary>Waits until queued work is done (a no-op on synchronous backends).</summary>
    void Synchronize();
}
