using ILGPU;

namespace Ellsa.Kernels.Gpu.Kernels;

/// <summary>
/// The warp-level operations of <see cref="FlashAttentionKernels.Flash{TCore, TMode}"/> (head
/// dimension 128): a warp owns 16 query vectors, S = Q·Kᵀ over a 32-key tile is 8 k16 steps × 4 n8
/// tiles, O += P·V is 2 k16 steps × 16 n8 tiles. As with <see cref="IMmaCore"/>, inline PTX on CUDA
/// (<see cref="PtxAttentionCore"/>) and a C# model of the same instructions on the simulator
/// (<see cref="EmulatedAttentionCore"/>) run one kernel body. Addresses are byte offsets into the
/// group's dynamic shared memory; the lo planes sit at fixed offsets (Q +16384, K and V +8192, P +1024).
/// </summary>
public interface IAttentionCore
{
    /// <summary>Declares the registers (once per kernel).</summary>
    void Begin(ArrayView<uint> shared);

    /// <summary>Zeroes the O accumulators (once per work item).</summary>
    void ResetOutput();

    void Copy16(uint sharedOffset, ArrayView<U4> source, ulong sourceAddress, int unit, bool valid);

    void Commit();

    /// <summary>Waits for every copy this thread issued.</summary>
    void WaitAll();

    /// <summary>ldmatrix.x4 of Q k16 step <paramref name="step"/> (and its lo plane when exact) into registers kept for the whole key loop.</summary>
    void LoadQuery(int step, uint address, bool exact);

    void ZeroScores();

    /// <summary>S(16 × 32) += Q_step · K_stepᵀ; K rows 0–15 at the lane's address, rows 16–31 at +4096.</summary>
    void Scores(int step, uint keyAddress, bool exact);

    /// <summary>S to a 16 × 32 fp32 block with 40-float rows (element (g + 8h, 8j + 2t + e) at +1280h + 32j + 4e from the lane's base).</summary>
    void StoreScores(uint stagingAddress);

    /// <summary>O rows g and g + 8 of the lane times the online-softmax rescale factors.</summary>
    void ScaleOutput(float rowLow, float rowHigh);

    /// <summary>ldmatrix.x4 of the P tile's two k16 steps (16 vectors × 32 keys, bf16 hi and lo).</summary>
    void LoadProbabilities(uint step0, uint step1, bool exact);

    /// <summary>O n8 tiles 2·pair and 2·pair + 1 += P_step · V_step, V through ldmatrix.trans of its [key][dim] rows.</summary>
    void Values(int step, int pair, uint valueAddress, bool exact);

    /// <summary>O to a 16 × 128 fp32 block with 136-float rows (element (g + 8h, 8j + 2t + e) at +4352h + 32j + 4e).</summary>
    void StoreOutput(uint stagingAddress);
}
