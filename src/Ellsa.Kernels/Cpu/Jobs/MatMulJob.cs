using System.Runtime.CompilerServices;
using Ellsa.Kernels.Backend;

namespace Ellsa.Kernels.Cpu.Jobs;

/// <summary>
/// output[t, r] = input[t] · weight[r] (+ bias[r]) (+ output[t, r]). Chunks are (row chunk,
/// token block) pairs so a prefill keeps a chunk's weights in cache across its tokens while
/// a single-token decode spreads the rows over every thread.
/// </summary>
internal sealed unsafe class MatMulJob : IParallelWork
{
    public const int TokensPerBlock = 8;

    public CpuIsa Isa;
    public CpuMatrix Weight = null!;
    public float* Input;
    public int InputStride;
    public float* Split;
    public int SplitStride;
    public float* Output;
    public int OutputStride;
    public int Tokens;
    public float* Bias;
    public bool Accumulate;

    /// <summary>When set (single-token products), chunks are row chunks taken in contiguous runs per worker.</summary>
    public ContiguousBlocks? Blocks;

    public int ChunkCount => Weight.ChunkRows.Length * ((Tokens + TokensPerBlock - 1) / TokensPerBlock);

    /// <summary>The chunk a pool call for <paramref name="chunk"/> on <paramref name="worker"/> computes.</summary>
    public int Claim(int chunk, int worker) => Blocks is null ? chunk : Blocks.Take(worker);

    public void Execute(int chunk, int worker) => ExecuteChunk(Claim(chunk, worker));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ExecuteChunk(int chunk)
    {
        int rowChunks = Weight.ChunkRows.Length;
        int rowChunk = chunk % rowChunks;
        int firstToken = chunk / rowChunks * TokensPerBlock;
        int lastToken = Math.Min(Tokens, firstToken + TokensPerBlock);
        var part = Weight.Parts[Weight.ChunkPart[rowChunk]];
        int partRow = Weight.ChunkPartRow[rowChunk];
        int rows = Weight.ChunkRows[rowChunk];
        int outRow = Weight.ChunkOutputRow[rowChunk];
        int k = part.Cols;
        float* dots = stackalloc float[8];

        for (int t = firstToken; t < lastToken; t++)
        {
            float* x = Input + (long)t * InputStride;
            float* split = Split + (long)t * SplitStride;
            float* y = Output + (long)t * OutputStride + outRow;
            float* bias = Bias == null ? null : Bias + outRow;
            int r = 0;
            if (part.Dtype == WeightDtype.BF16)
            {
                ushort* w = (ushort*)part.Data + (long)partRow * k;
                for (; r + 8 <= rows; r += 8)
                {
                    DotKernels.Bf16Rows8(Isa, w + (long)r * k, k, x, split, k, dots);
                    Store(y, bias, r, dots, 8);
                }
                for (; r + 4 <= rows; r += 4)
                {
                    DotKernels.Bf16Rows4(Isa, w + (long)r * k, k, x, split, k, dots);
                    Store(y, bias, r, dots, 4);
                }
                for (; r < rows; r++)
                {
                    dots[0] = DotKernels.Bf16Row(Isa, w + (long)r * k, x, split, k);
                    Store(y, bias, r, dots, 1);
                }
            }
            else
            {
                float* w = (float*)part.Data + (long)partRow * k;
                for (; r + 4 <= rows; r += 4)
                {
                    DotKernels.F32Rows4(Isa, w + (long)r * k, k, x, k, dots);
                    Store(y, bias, r, dots, 4);
                }
                for (; r < rows; r++)
                {
                    dots[0] = DotKernels.F32Row(Isa, w + (long)r * k, x, k);
                    Store(y, bias, r, dots, 1);
                }
            }
        }
    }

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
