namespace Ellsa.Kernels.Cpu.Jobs;

/// <summary>
/// The operands every product over a matrix's rows reads: the weight, the input rows in the forms
/// its parts need (<see cref="ActivationRow"/>), the output, and how a single token's chunks are
/// handed out. <see cref="MatMulJob"/> and <see cref="GateUpSwiGluJob"/> differ only in what a
/// chunk computes from them.
/// </summary>
internal abstract unsafe class RowProductJob : IParallelWork
{
    /// <summary>Tokens a chunk takes together: a prefill reuses a chunk's weights from cache across them.</summary>
    public const int TokensPerBlock = 8;

    public CpuIsa Isa;
    public CpuMatrix Weight = null!;
    public float* Input;
    public int InputStride;
    public float* Split;
    public int SplitStride;
    /// <summary>The input rows quantised, when the matrix has Q8 rows.</summary>
    public Q8Activations? Quantized;
    public float* Output;
    public int OutputStride;
    public int Tokens;

    /// <summary>When set (single-token products), chunks are row chunks taken in contiguous runs per worker.</summary>
    public ContiguousBlocks? Blocks;

    public abstract int ChunkCount { get; }

    protected int TokenBlocks => (Tokens + TokensPerBlock - 1) / TokensPerBlock;

    /// <summary>The chunk a pool call for <paramref name="chunk"/> on <paramref name="worker"/> computes.</summary>
    public int Claim(int chunk, int worker) => Blocks is null ? chunk : Blocks.Take(worker);

    /// <summary>Token t's activation row in the forms the matrix's parts read.</summary>
    public ActivationRow Row(int t) =>
        new(Input + (long)t * InputStride, Split + (long)t * SplitStride, Quantized, t, Tokens == 1);

    public abstract void Execute(int chunk, int worker);
}
