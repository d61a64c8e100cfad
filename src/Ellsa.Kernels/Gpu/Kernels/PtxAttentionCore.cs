using ILGPU;
using ILGPU.Runtime.Cuda;

namespace Ellsa.Kernels.Gpu.Kernels;

/// <summary>
/// The tensor-core core of <see cref="FlashAttentionKernels"/> in inline PTX, built like
/// <see cref="PtxMmaCore"/>: every value that lives across statements is a PTX register this core
/// declares (S accumulators <c>es*</c>, O accumulators <c>eo*</c>, Q/K/P/V fragments), C# passes
/// only shared-memory addresses and the softmax rescale factors. Head dimension 128: Q is 8 k16
/// steps, O is 16 n8 tiles. V enters as the B operand through <c>ldmatrix.trans</c> of its
/// [key][dim] rows. Exact mode multiplies hi·hi + hi·lo + lo·hi for both products.
/// <para>The PTX literals and <see cref="LoadQuery"/>, <see cref="Scores"/> and
/// <see cref="Values"/>, the switches that pick a literal by k16 step (and tile pair), are the
/// generated half of this struct, built with loops by src/Ellsa.Kernels.PtxText
/// (AttentionCoreText.cs, with the register layout).</para>
/// </summary>
public partial struct PtxAttentionCore : IAttentionCore
{
    public void Begin(ArrayView<uint> shared) => CudaAsm.Emit(Declare);

    public void ResetOutput() => CudaAsm.Emit(ZeroOutput);

    public void Copy16(uint sharedOffset, ArrayView<U4> source, ulong sourceAddress, int unit, bool valid)
    {
        uint bytes = valid ? 16u : 0u;
        ulong address = sourceAddress + (valid ? (ulong)unit * 16ul : 0ul);
        CudaAsm.Emit(CopyChunk, sharedOffset, address, bytes);
    }

    public void Commit() => CudaAsm.Emit("cp.async.commit_group;");

    public void WaitAll() => CudaAsm.Emit("cp.async.wait_group 0;");

    public void ZeroScores() => CudaAsm.Emit(ClearScores);

    public void StoreScores(uint stagingAddress) => CudaAsm.Emit(StoreScoreTile, stagingAddress);

    public void ScaleOutput(float rowLow, float rowHigh) => CudaAsm.Emit(Scale, rowLow, rowHigh);

    public void LoadProbabilities(uint step0, uint step1, bool exact)
    {
        if (exact)
            CudaAsm.Emit(ProbabilitiesExact, step0, step1);
        else
            CudaAsm.Emit(ProbabilitiesFast, step0, step1);
    }

    public void StoreOutput(uint stagingAddress) => CudaAsm.Emit(StoreOutputTile, stagingAddress);
}
