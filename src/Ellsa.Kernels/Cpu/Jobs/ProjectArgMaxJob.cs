using System.Runtime.CompilerServices;
using Ellsa.Kernels.Backend;

namespace Ellsa.Kernels.Cpu.Jobs;

/// <summary>
/// The head's GEMV and the greedy choice in one dispatch: each row chunk writes its logits and
/// the best allowed one among them while they are still in cache, so choosing a token needs no
/// second pass over the vocabulary. The caller merges the per-chunk winners (largest value,
/// lowest id on ties, as <see cref="CpuBackend.ArgMax"/> does).
/// </summary>
internal sealed unsafe class ProjectArgMaxJob : IParallelWork
{
    public readonly MatMulJob Product = new();
    private IdRange[] _allowed = new IdRange[4];
    private int _allowedCount;
    private int[] _bestIndex = [];
    private float[] _bestValue = [];
    private bool[] _sawNaN = [];

    public int ChunkCount => Product.ChunkCount;

    /// <summary>Copies the allowed ranges and sizes the per-chunk results (growing only for a larger matrix than before).</summary>
    public void Prepare(ReadOnlySpan<IdRange> allowed)
    {
        if (_allowed.Length < allowed.Length)
            _allowed = new IdRange[allowed.Length];
        allowed.CopyTo(_allowed);
        _allowedCount = allowed.Length;
        int chunks = ChunkCount;
        if (_bestIndex.Length < chunks)
        {
            _bestIndex = new int[chunks];
            _bestValue = new float[chunks];
            _sawNaN = new bool[chunks];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int chunk, int worker)
    {
        chunk = Product.Claim(chunk, worker);
        Product.ExecuteChunk(chunk);
        var weight = Product.Weight;
        int begin = weight.ChunkOutputRow[chunk];
        int end = begin + weight.ChunkRows[chunk];
        float* logits = Product.Output;
        int best = -1;
        float bestValue = float.NegativeInfinity;
        bool sawNaN = false;
        for (int a = 0; a < _allowedCount; a++)
        {
            int first = Math.Max(begin, _allowed[a].First);
            int last = Math.Min(end - 1, _allowed[a].Last);
            for (int i = first; i <= last; i++)
            {
                float v = logits[i];
                sawNaN |= float.IsNaN(v);
                if (best < 0 || v > bestValue || (v == bestValue && i < best))
                {
                    best = i;
                    bestValue = v;
                }
            }
        }
        _bestIndex[chunk] = best;
        _bestValue[chunk] = bestValue;
        _sawNaN[chunk] = sawNaN;
    }

    /// <summary>The winner over all chunks, or -1 when some logit is NaN (the caller then applies the serial rule to the whole row).</summary>
    public int Merge()
    {
        int best = -1;
        float bestValue = float.NegativeInfinity;
        for (int c = 0; c < ChunkCount; c++)
        {
            if (_sawNaN[c])
                return -1;
            int i = _bestIndex[c];
            if (i < 0)
                continue;
            float v = _bestValue[c];
            if (best < 0 || v > bestValue || (v == bestValue && i < best))
            {
                best = i;
                bestValue = v;
            }
        }
        return best;
    }
}
