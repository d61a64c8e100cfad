using System.Runtime.CompilerServices;

namespace Ellsa.Kernels.Cpu.Jobs;

/// <summary>
/// output[t, r] = input[t] · weight[r] (+ bias[r]) (+ output[t, r]). Chunks are (row chunk,
/// token block) pairs so a prefill keeps a chunk's weights in cache across its tokens while
/// a single-token decode spreads the rows over every thread.
/// </summary>
internal sealed unsafe class MatMulJob : RowProductJob
{
    public float* Bias;
    public bool Accumulate;

    public override int ChunkCount => Weight.ChunkRows.Length * TokenBlocks;

    public override void Execute(int chunk, int worker) => ExecuteChunk(Claim(chunk, worker));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ExecuteChunk(int chunk)
    {
        int rowChunks = Weight.ChunkRows.Length;
        int rowChunk = chunk % rowChunks;
        int firstToken = chunk / rowChunks * TokensPerBlock;
        int lastToken = Math.Min(Tokens, firstToken + TokensPerBlock);
        int rows = Weight.ChunkRows[rowChunk];
        int outRow = Weight.ChunkOutputRow[rowChunk];
        float* dots = stackalloc float[StoreRows];

        for (int t = firstToken; t < lastToken; t++)
        {
            var x = Row(t);
            float* y = Output + (long)t * OutputStride + outRow;
            float* bias = Bias == null ? null : Bias + outRow;
            for (int r = 0; r < rows; r += StoreRows)
            {
                int count = Math.Min(StoreRows, rows - r);
                MatrixRows.Dot(Isa, Weight, outRow + r, count, x, dots);
                Store(y, bias, r, dots, count);
            }
        }
    }

    /// <summary>Rows a chunk computes between two stores of their results (a multiple of the eight-row kernel's group).</summary>
    private const int StoreRows = 64;

    private void Store(float* y, float* bias, int r, float* dots, int count)
    {
        for (int i = 0; i < count; i++)
        {
            float v = dots[i];
            if (bias != null)
                v += bias[r + i];
            y[r + i] = Accumulate ? y[r + i] + v : v;
        }
    }
}
