using System.Runtime.CompilerServices;
using System.Numerics.Tensors;

namespace Ellsa.Kernels.Cpu.Jobs;

/// <summary>
/// Causal GQA attention over the fp32 cache, one chunk per (row, kv head): the query heads that
/// share a kv head are scored against each key in one pass so each key is loaded once.
/// </summary>
internal sealed unsafe class AttentionJob : IParallelWork
{
    public CpuKvCache Cache = null!;
    public int Layer;
    public float* Queries;
    public int QueryStride;
    public float* Output;
    public int OutputStride;
    public int[] Positions = null!;
    public int PositionOffset;
    public int Heads;
    public float Scale;
    /// <summary>Per worker: Group × Capacity floats of scores.</summary>
    public NativeArray<float>[] Scratch = null!;

    public int ChunkCount(int rows) => rows * Cache.KvHeads;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int chunk, int worker)
    {
        int kvHeads = Cache.KvHeads;
        int row = chunk / kvHeads;
        int kvHead = chunk % kvHeads;
        int headDim = Cache.HeadDim;
        int group = Heads / kvHeads;
        int position = Positions[PositionOffset + row];
        int keys = position + 1;
        if (position < 0 || position >= Cache.Capacity)
            throw new InvalidOperationException($"attention at position {position} is outside the KV cache (capacity {Cache.Capacity})");

        float* keyBase = Cache.Keys.Pointer + Cache.HeadOffset(Layer, kvHead);
        float* valueBase = Cache.Values.Pointer + Cache.HeadOffset(Layer, kvHead);
        float* scores = Scratch[worker].Pointer;
        float* query = Queries + (long)row * QueryStride + kvHead * group * headDim;
        float* output = Output + (long)row * OutputStride + kvHead * group * headDim;

        for (int j = 0; j < keys; j++)
        {
            float* key = keyBase + (long)j * headDim;
            for (int g = 0; g < group; g++)
                scores[(long)g * keys + j] = SmallVectorOps.Dot(query + g * headDim, key, headDim) * Scale;
        }

        for (int g = 0; g < group; g++)
        {
            var s = new Span<float>(scores + (long)g * keys, keys);
            float max = TensorPrimitives.Max(s);
            TensorPrimitives.Subtract(s, max, s);
            TensorPrimitives.Exp(s, s);
            float inverseSum = 1f / TensorPrimitives.Sum(s);
            TensorPrimitives.Multiply(s, inverseSum, s);
            var o = new Span<float>(output + g * headDim, headDim);
            o.Clear();
        }

        for (int j = 0; j < keys; j++)
        {
            float* value = valueBase + (long)j * headDim;
            for (int g = 0; g < group; g++)
                SmallVectorOps.MultiplyAdd(value, scores[(long)g * keys + j], output + g * headDim, headDim);
        }
    }
}
