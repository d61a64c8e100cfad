using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Ellsa.Kernels.Cpu.Jobs;

/// <summary>
/// output[t, i] = silu(x_t · gate_i) · (x_t · up_i) in one dispatch: a chunk computes a block of
/// gate rows and the matching up rows (gate|up holds ff gate rows, then ff up rows) and applies
/// SwiGLU to them at once, so the [tokens, 2·ff] product never goes to memory and the layer needs
/// no second synchronisation for the activation.
/// </summary>
internal sealed unsafe class GateUpSwiGluJob : RowProductJob
{
    /// <summary>The most gate rows a chunk takes (its stack buffers' size).</summary>
    public const int MaxRowsPerChunk = 64;

    /// <summary>Gate rows per chunk (and as many up rows): see <see cref="Plan"/>.</summary>
    public int RowsPerChunk = 32;

    public int Ff;

    /// <summary>
    /// About 128 KB of gate rows and as many of up rows per chunk, in multiples of eight rows (the
    /// bf16 kernel's group): 32 rows at d = 2048 in bf16 (64 in Q8), the size a prefill's
    /// eight-token block reuses from L2.
    /// </summary>
    public void Plan(CpuMatrix weight)
    {
        int rows = 128 * 1024 / Math.Max(1, weight.Cols * weight.ElementBytes) / 8 * 8;
        RowsPerChunk = Math.Clamp(rows, 8, MaxRowsPerChunk);
    }

    private int RowBlocks => (Ff + RowsPerChunk - 1) / RowsPerChunk;

    public override int ChunkCount => RowBlocks * TokenBlocks;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute(int chunk, int worker)
    {
        chunk = Claim(chunk, worker);
        int rowBlocks = RowBlocks;
        int first = chunk % rowBlocks * RowsPerChunk;
        int rows = Math.Min(RowsPerChunk, Ff - first);
        int firstToken = chunk / rowBlocks * TokensPerBlock;
        int lastToken = Math.Min(Tokens, firstToken + TokensPerBlock);
        float* gate = stackalloc float[MaxRowsPerChunk];
        float* up = stackalloc float[MaxRowsPerChunk];
        for (int t = firstToken; t < lastToken; t++)
        {
            var x = Row(t);
            MatrixRows.Dot(Isa, Weight, first, rows, x, gate);
            MatrixRows.Dot(Isa, Weight, Ff + first, rows, x, up);
            var g = new ReadOnlySpan<float>(gate, rows);
            var y = new Span<float>(Output + (long)t * OutputStride + first, rows);
            TensorPrimitives.Sigmoid(g, y);
            TensorPrimitives.Multiply(y, g, y);
            TensorPrimitives.Multiply(y, new ReadOnlySpan<float>(up, rows), y);
        }
    }
}
