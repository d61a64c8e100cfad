using System.Runtime.CompilerServices;
using Ellsa.Kernels.Numerics;

namespace Ellsa.Kernels.Cpu.Jobs;

/// <summary>
/// output[t, r] = x[t] · weight[r] (+ bias[r]) (+ output[t, r]) for a Q8 weight and activations
/// already quantised (<see cref="Q8Activations"/>). Chunks are (row chunk, token block) pairs as in
/// <see cref="MatMulJob"/>: a prefill keeps a chunk's weights in cache across its tokens, a decode
/// spreads the rows over every thread.
/// </summary>
internal sealed unsafe class Q8MatMulJob : IParallelWork
{
    public const int TokensPerBlock = 8;

    public Q8Path Path;
    public CpuQ8Matrix Weight = null!;
    public Q8Activations Input = null!;
    public float* Output;
    public int OutputStride;
    public int Tokens;
    public float* Bias;
    public bool Accumulate;
    /// <summary>Per worker, 4 × blocks floats for the combined scales.</summary>
    public NativeArray<float>[] Scratch = [];

    public int ChunkCount => Weight.ChunkRows.Length * ((Tokens + TokensPerBlock - 1) / TokensPerBlock);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int chunk, int worker)
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
        int blocks = Q8Format.BlocksPerRow(k);
        sbyte* w = (sbyte*)part.Data + (long)partRow * k;
        ushort* s = part.Scales + (long)partRow * blocks;
        float* combined = Scratch[worker].Pointer;
        float* dots = stackalloc float[4];

        for (int t = firstToken; t < lastToken; t++)
        {
            float* y = Output + (long)t * OutputStride + outRow;
            float* bias = Bias == null ? null : Bias + outRow;
            for (int r = 0; r < rows; r += 4)
            {
                // A part's last rows (fewer than 4) repeat the last one and keep only what they own.
                int r1 = Math.Min(r + 1, rows - 1), r2 = Math.Min(r + 2, rows - 1), r3 = Math.Min(r + 3, rows - 1);
                Q8DotKernels.Rows4(Path,
                    w + (long)r * k, w + (long)r1 * k, w + (long)r2 * k, w + (long)r3 * k,
                    s + (long)r * blocks, s + (long)r1 * blocks, s + (long)r2 * blocks, s + (long)r3 * blocks,
                    Input, t, combined, dots);
                int count = Math.Min(4, rows - r);
                for (int i = 0; i < count; i++)
                {
                    float v = dots[i];
                    if (bias != null)
                        v += bias[r + i];
                    y[r + i] = Accumulate ? y[r + i] + v : v;
                }
            }
        }
    }
}
