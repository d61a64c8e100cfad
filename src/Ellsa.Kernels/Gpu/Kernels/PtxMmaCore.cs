using ILGPU;
using ILGPU.Runtime.Cuda;

namespace Ellsa.Kernels.Gpu.Kernels;

/// <summary>
/// The tensor-core core of <see cref="MmaGemmKernels.Gemm{TCore, TMode}"/> in inline PTX
/// (sm_80 level: ILGPU 1.5.3 emits <c>.target sm_80</c>, which rules out wgmma/TMA).
/// <para>ILGPU passes every inline-PTX output through a local variable, so values that live
/// across statements (the 64 fp32 accumulators and the A/B fragments) are PTX registers this
/// core declares itself at kernel scope (<c>ea*</c>, <c>eh*</c>, <c>el*</c>, <c>eb*</c>) and
/// names in every statement; C# passes only inputs (shared and global addresses). Register
/// names cannot be indexed, hence one literal per fragment group. Shared addresses are offsets
/// from ILGPU's dynamic shared-memory symbol <c>__dyn_shared_alloca</c> (ILGPU 1.5.3's name;
/// the PTX test checks it is still there).</para>
/// <para>The PTX literals (<c>Declare</c>, <c>Zero</c>, <c>CopyChunk</c>, <c>Load*</c>,
/// <c>Multiply*</c>, <c>Store0…3</c>) and <see cref="StoreTile"/>, the switch that picks a store
/// literal by m tile, are the generated half of this struct: the source generator
/// src/Ellsa.Kernels.PtxText builds them with loops (MmaCoreText.cs, with the fragment layout),
/// because <c>CudaAsm.Emit</c> takes its PTX only as a compile-time constant.</para>
/// </summary>
public partial struct PtxMmaCore : IMmaCore
{
    public void Begin(ArrayView<uint> shared)
    {
        CudaAsm.Emit(Declare);
        CudaAsm.Emit(Zero);
    }

    public void Copy16(uint sharedOffset, ArrayView<U4> source, ulong sourceAddress, int unit, bool valid)
    {
        // src-size 0 makes cp.async write zeros and read nothing: the tails of M, N and K.
        uint bytes = valid ? 16u : 0u;
        ulong address = sourceAddress + (valid ? (ulong)unit * 16ul : 0ul);
        CudaAsm.Emit(CopyChunk, sharedOffset, address, bytes);
    }

    public void Commit() => CudaAsm.Emit("cp.async.commit_group;");

    public void WaitPrevious() => CudaAsm.Emit("cp.async.wait_group 1;");

    public void LoadFragments(uint aOffset, uint bOffset, bool exact)
    {
        if (exact)
            CudaAsm.Emit(LoadExact, aOffset, bOffset);
        else
            CudaAsm.Emit(LoadFast, aOffset, bOffset);
    }

    public void Multiply(bool exact)
    {
        CudaAsm.Emit(MultiplyHi);
        if (exact)
            CudaAsm.Emit(MultiplyLo);
    }
}
