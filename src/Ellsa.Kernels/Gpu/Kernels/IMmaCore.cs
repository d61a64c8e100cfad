using ILGPU;

namespace Ellsa.Kernels.Gpu.Kernels;

/// <summary>
/// The warp-level operations of the tensor-core GEMM: asynchronous 16-byte copies into shared
/// memory, fragment loads (ldmatrix.x4), the bf16 MMAs (m16n8k16, fp32 accumulate) and the
/// accumulator store. Two implementations share one kernel body: inline PTX for CUDA
/// (<see cref="PtxMmaCore"/>) and a C# model of the same instructions for the CPU simulator
/// (<see cref="EmulatedMmaCore"/>), so the tiling, swizzle and fragment mapping of the kernel are
/// tested without a GPU. Offsets are bytes into the group's dynamic shared memory.
/// </summary>
public interface IMmaCore
{
    /// <summary>Prepares the fragment registers and zeroes the accumulators.</summary>
    void Begin(ArrayView<uint> shared);

    /// <summary>16 bytes of <paramref name="source"/> unit <paramref name="unit"/> (zeros when not valid) into shared memory.</summary>
    void Copy16(uint sharedOffset, ArrayView<U4> source, ulong sourceAddress, int unit, bool valid);

    /// <summary>Closes the current group of asynchronous copies.</summary>
    void Commit();

    /// <summary>Waits until at most one group of copies (the newest) is still in flight.</summary>
    void WaitPrevious();

    /// <summary>
    /// Loads the A fragments of four m16 tiles (hi, and lo when exact) from <paramref name="aOffset"/>
    /// (tile i at +1024·i, lo at +8192) and the B fragments of four n8 tiles from <paramref name="bOffset"/>
    /// (tiles 2 and 3 at +1024), each lane giving its ldmatrix row address.
    /// </summary>
    void LoadFragments(uint aOffset, uint bOffset, bool exact);

    /// <summary>accumulator(i, j) += A_i · B_j for the 4 × 4 tiles, and again with A lo when exact.</summary>
    void Multiply(bool exact);

    /// <summary>
    /// Stores the accumulators of m16 tile <paramref name="mTile"/> to a 16 × 32 fp32 staging block
    /// with a row stride of 40 floats, given the lane's base: element (row g + 8h, column 8j + 2t + e)
    /// lands at +1280h + 32j + 4e bytes.
    /// </summary>
    void StoreTile(int mTile, uint stagingOffset);
}

/// <summary>Whether the activations enter the tensor cores as hi + lo (exact) or hi alone (fast).</summary>
public interface IOperandMode
{
    bool Exact { get; }
}

public struct ExactOperands : IOperandMode
{
    public readonly bool Exact => true;
}

public struct FastOperands : IOperandMode
{
    public readonly bool Exact => false;
}
