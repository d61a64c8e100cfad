using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Ellsa.Kernels.Cpu.Jobs;

/// <summary>
/// output[t, i] = silu(x_t · gate_i) · (x_t · up_i) in one dispatch: a chunk computes a block of
/// gate rows and the matching up rows (gate|up holds ff gate rows, then ff up rows) and applies
/// SwiGLU to them at once, so the [tokens, 2·ff] product never goes to memory and the layer needs
/// no second synchronisation for the activation.
/// </summary>
internal sealed unsafe class GateUpSwiGluJob : IParallelWork
{
    /// <summary>Gate rows per chunk (and as many up rows): 256 KB of bf16 weights at d = 2048.</summary>
    public const int RowsPerChunk = 32;

    public CpuIsa Isa;
    public CpuMatrix Weight = null!;
    public float* Input;
    public int InputStride;
    public float* Split;
    public int SplitStride;
    public float* Output;
    public int OutputStride;
    public int Tokens;
    public int Ff;

    private int RowBlocks => (Ff + RowsPerChunk - 1) / RowsPerChunk;

    /// <summary>When set (a single token), row blocks are taken in contiguous runs per worker.</summary>
    public ContiguousBlocks? Blocks;

    public int ChunkCount => RowBlocks * ((Tokens + MatMulJob.TokensPerBlock - 1) / MatMulJob.TokensPerBlock);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int chunk, int worker)
    {
        if (Blocks is not null)
            chunk = Blocks.Take(worker);
        int rowBlocks = RowBlocks;
        int first = chunk % rowBlocks * RowsPerChunk;
        int rows = Math.Min(RowsPerChunk, Ff - first);
        int firstToken = chunk / rowBlocks * MatMulJob.TokensPerBlock;
        int lastToken = Math.Min(Tokens, firstToken + MatMulJob.TokensPerBlock);
        float* gate = stackalloc float[RowsPerChunk];
        float* up = stackalloc float[RowsPerChunk];
        for (int t = firstToken; t < lastToken; t++)
        {
            float* x = Input + (long)t * InputStride;
            float* split = Split + (long)t * SplitStride;
            MatrixRows.Dot(Isa, Weight, first, rows, x, split, gate);
            MatrixRows.Dot(Isa, Weight, Ff + first, rows, x, split, up);
            var g = new ReadOnlySpan<float>(gate, rows);
            var y = new Span<float>(Output + (long)t * OutputStride + first, rows);
            TensorPrimitives.Sigmoid(g, y);
            TensorPrimitives.Multiply(y, g, y);
            TensorPrimitives.Multiply(y, new ReadOnlySpan<float>(up, rows), y);
        }
    }
}
