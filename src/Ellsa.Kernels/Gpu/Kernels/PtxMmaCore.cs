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
/// <para>Fragment layout (PTX ISA, mma.m16n8k16 .bf16): lane L = 4g + t holds A rows g and g+8,
/// k pairs 2t and 2t+8; B column g, k pairs 2t and 2t+8; C/D rows g and g+8, columns 2t, 2t+1.
/// <c>ldmatrix.x4</c> on the swizzled tiles delivers exactly these fragments.</para>
/// </summary>
public struct PtxMmaCore : IMmaCore
{
    private const string Declare =
        ".reg .f32 ea<64>;\n" +
        ".reg .b32 eh<16>;\n" +
        ".reg .b32 el<16>;\n" +
        ".reg .b32 eb<8>;\n";

    private const string Zero =
        "mov.f32 ea0, 0f00000000;\n" +
        "mov.f32 ea1, 0f00000000;\n" +
        "mov.f32 ea2, 0f00000000;\n" +
        "mov.f32 ea3, 0f00000000;\n" +
        "mov.f32 ea4, 0f00000000;\n" +
        "mov.f32 ea5, 0f00000000;\n" +
        "mov.f32 ea6, 0f00000000;\n" +
        "mov.f32 ea7, 0f00000000;\n" +
        "mov.f32 ea8, 0f00000000;\n" +
        "mov.f32 ea9, 0f00000000;\n" +
        "mov.f32 ea10, 0f00000000;\n" +
        "mov.f32 ea11, 0f00000000;\n" +
        "mov.f32 ea12, 0f00000000;\n" +
        "mov.f32 ea13, 0f00000000;\n" +
        "mov.f32 ea14, 0f00000000;\n" +
        "mov.f32 ea15, 0f00000000;\n" +
        "mov.f32 ea16, 0f00000000;\n" +
        "mov.f32 ea17, 0f00000000;\n" +
        "mov.f32 ea18, 0f00000000;\n" +
        "mov.f32 ea19, 0f00000000;\n" +
        "mov.f32 ea20, 0f00000000;\n" +
        "mov.f32 ea21, 0f00000000;\n" +
        "mov.f32 ea22, 0f00000000;\n" +
        "mov.f32 ea23, 0f00000000;\n" +
        "mov.f32 ea24, 0f00000000;\n" +
        "mov.f32 ea25, 0f00000000;\n" +
        "mov.f32 ea26, 0f00000000;\n" +
        "mov.f32 ea27, 0f00000000;\n" +
        "mov.f32 ea28, 0f00000000;\n" +
        "mov.f32 ea29, 0f00000000;\n" +
        "mov.f32 ea30, 0f00000000;\n" +
        "mov.f32 ea31, 0f00000000;\n" +
        "mov.f32 ea32, 0f00000000;\n" +
        "mov.f32 ea33, 0f00000000;\n" +
        "mov.f32 ea34, 0f00000000;\n" +
        "mov.f32 ea35, 0f00000000;\n" +
        "mov.f32 ea36, 0f00000000;\n" +
        "mov.f32 ea37, 0f00000000;\n" +
        "mov.f32 ea38, 0f00000000;\n" +
        "mov.f32 ea39, 0f00000000;\n" +
        "mov.f32 ea40, 0f00000000;\n" +
        "mov.f32 ea41, 0f00000000;\n" +
        "mov.f32 ea42, 0f00000000;\n" +
        "mov.f32 ea43, 0f00000000;\n" +
        "mov.f32 ea44, 0f00000000;\n" +
        "mov.f32 ea45, 0f00000000;\n" +
        "mov.f32 ea46, 0f00000000;\n" +
        "mov.f32 ea47, 0f00000000;\n" +
        "mov.f32 ea48, 0f00000000;\n" +
        "mov.f32 ea49, 0f00000000;\n" +
        "mov.f32 ea50, 0f00000000;\n" +
        "mov.f32 ea51, 0f00000000;\n" +
        "mov.f32 ea52, 0f00000000;\n" +
        "mov.f32 ea53, 0f00000000;\n" +
        "mov.f32 ea54, 0f00000000;\n" +
        "mov.f32 ea55, 0f00000000;\n" +
        "mov.f32 ea56, 0f00000000;\n" +
        "mov.f32 ea57, 0f00000000;\n" +
        "mov.f32 ea58, 0f00000000;\n" +
        "mov.f32 ea59, 0f00000000;\n" +
        "mov.f32 ea60, 0f00000000;\n" +
        "mov.f32 ea61, 0f00000000;\n" +
        "mov.f32 ea62, 0f00000000;\n" +
        "mov.f32 ea63, 0f00000000;\n";

    private const string CopyChunk =
        "{\n" +
        ".reg .u64 eT64, eSrc;\n" +
        ".reg .u32 eBase, eDst;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eDst, eBase, %0;\n" +
        "cvta.to.global.u64 eSrc, %1;\n" +
        "cp.async.cg.shared.global [eDst], [eSrc], 16, %2;\n" +
        "}\n";

    private const string LoadExact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eA, eB;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eA, eBase, %0;\n" +
        "add.u32 eB, eBase, %1;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {eh0, eh1, eh2, eh3}, [eA];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {eh4, eh5, eh6, eh7}, [eA+1024];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {eh8, eh9, eh10, eh11}, [eA+2048];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {eh12, eh13, eh14, eh15}, [eA+3072];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {el0, el1, el2, el3}, [eA+8192];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {el4, el5, el6, el7}, [eA+9216];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {el8, el9, el10, el11}, [eA+10240];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {el12, el13, el14, el15}, [eA+11264];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {eb0, eb1, eb2, eb3}, [eB];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {eb4, eb5, eb6, eb7}, [eB+1024];\n" +
        "}\n";

    private const string LoadFast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eA, eB;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eA, eBase, %0;\n" +
        "add.u32 eB, eBase, %1;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {eh0, eh1, eh2, eh3}, [eA];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {eh4, eh5, eh6, eh7}, [eA+1024];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {eh8, eh9, eh10, eh11}, [eA+2048];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {eh12, eh13, eh14, eh15}, [eA+3072];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {eb0, eb1, eb2, eb3}, [eB];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {eb4, eb5, eb6, eb7}, [eB+1024];\n" +
        "}\n";

    private const string MultiplyHi =
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea0,ea1,ea2,ea3}, {eh0,eh1,eh2,eh3}, {eb0,eb1}, {ea0,ea1,ea2,ea3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea4,ea5,ea6,ea7}, {eh0,eh1,eh2,eh3}, {eb2,eb3}, {ea4,ea5,ea6,ea7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea8,ea9,ea10,ea11}, {eh0,eh1,eh2,eh3}, {eb4,eb5}, {ea8,ea9,ea10,ea11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea12,ea13,ea14,ea15}, {eh0,eh1,eh2,eh3}, {eb6,eb7}, {ea12,ea13,ea14,ea15};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea16,ea17,ea18,ea19}, {eh4,eh5,eh6,eh7}, {eb0,eb1}, {ea16,ea17,ea18,ea19};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea20,ea21,ea22,ea23}, {eh4,eh5,eh6,eh7}, {eb2,eb3}, {ea20,ea21,ea22,ea23};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea24,ea25,ea26,ea27}, {eh4,eh5,eh6,eh7}, {eb4,eb5}, {ea24,ea25,ea26,ea27};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea28,ea29,ea30,ea31}, {eh4,eh5,eh6,eh7}, {eb6,eb7}, {ea28,ea29,ea30,ea31};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea32,ea33,ea34,ea35}, {eh8,eh9,eh10,eh11}, {eb0,eb1}, {ea32,ea33,ea34,ea35};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea36,ea37,ea38,ea39}, {eh8,eh9,eh10,eh11}, {eb2,eb3}, {ea36,ea37,ea38,ea39};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea40,ea41,ea42,ea43}, {eh8,eh9,eh10,eh11}, {eb4,eb5}, {ea40,ea41,ea42,ea43};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea44,ea45,ea46,ea47}, {eh8,eh9,eh10,eh11}, {eb6,eb7}, {ea44,ea45,ea46,ea47};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea48,ea49,ea50,ea51}, {eh12,eh13,eh14,eh15}, {eb0,eb1}, {ea48,ea49,ea50,ea51};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea52,ea53,ea54,ea55}, {eh12,eh13,eh14,eh15}, {eb2,eb3}, {ea52,ea53,ea54,ea55};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea56,ea57,ea58,ea59}, {eh12,eh13,eh14,eh15}, {eb4,eb5}, {ea56,ea57,ea58,ea59};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea60,ea61,ea62,ea63}, {eh12,eh13,eh14,eh15}, {eb6,eb7}, {ea60,ea61,ea62,ea63};\n";

    private const string MultiplyLo =
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea0,ea1,ea2,ea3}, {el0,el1,el2,el3}, {eb0,eb1}, {ea0,ea1,ea2,ea3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea4,ea5,ea6,ea7}, {el0,el1,el2,el3}, {eb2,eb3}, {ea4,ea5,ea6,ea7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea8,ea9,ea10,ea11}, {el0,el1,el2,el3}, {eb4,eb5}, {ea8,ea9,ea10,ea11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea12,ea13,ea14,ea15}, {el0,el1,el2,el3}, {eb6,eb7}, {ea12,ea13,ea14,ea15};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea16,ea17,ea18,ea19}, {el4,el5,el6,el7}, {eb0,eb1}, {ea16,ea17,ea18,ea19};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea20,ea21,ea22,ea23}, {el4,el5,el6,el7}, {eb2,eb3}, {ea20,ea21,ea22,ea23};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea24,ea25,ea26,ea27}, {el4,el5,el6,el7}, {eb4,eb5}, {ea24,ea25,ea26,ea27};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea28,ea29,ea30,ea31}, {el4,el5,el6,el7}, {eb6,eb7}, {ea28,ea29,ea30,ea31};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea32,ea33,ea34,ea35}, {el8,el9,el10,el11}, {eb0,eb1}, {ea32,ea33,ea34,ea35};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea36,ea37,ea38,ea39}, {el8,el9,el10,el11}, {eb2,eb3}, {ea36,ea37,ea38,ea39};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea40,ea41,ea42,ea43}, {el8,el9,el10,el11}, {eb4,eb5}, {ea40,ea41,ea42,ea43};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea44,ea45,ea46,ea47}, {el8,el9,el10,el11}, {eb6,eb7}, {ea44,ea45,ea46,ea47};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea48,ea49,ea50,ea51}, {el12,el13,el14,el15}, {eb0,eb1}, {ea48,ea49,ea50,ea51};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea52,ea53,ea54,ea55}, {el12,el13,el14,el15}, {eb2,eb3}, {ea52,ea53,ea54,ea55};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea56,ea57,ea58,ea59}, {el12,el13,el14,el15}, {eb4,eb5}, {ea56,ea57,ea58,ea59};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {ea60,ea61,ea62,ea63}, {el12,el13,el14,el15}, {eb6,eb7}, {ea60,ea61,ea62,ea63};\n";

    private const string Store0 =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eS;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eS, eT64;\n" +
        "add.u32 eS, eS, %0;\n" +
        "st.shared.f32 [eS], ea0;\n" +
        "st.shared.f32 [eS+4], ea1;\n" +
        "st.shared.f32 [eS+1280], ea2;\n" +
        "st.shared.f32 [eS+1284], ea3;\n" +
        "st.shared.f32 [eS+32], ea4;\n" +
        "st.shared.f32 [eS+36], ea5;\n" +
        "st.shared.f32 [eS+1312], ea6;\n" +
        "st.shared.f32 [eS+1316], ea7;\n" +
        "st.shared.f32 [eS+64], ea8;\n" +
        "st.shared.f32 [eS+68], ea9;\n" +
        "st.shared.f32 [eS+1344], ea10;\n" +
        "st.shared.f32 [eS+1348], ea11;\n" +
        "st.shared.f32 [eS+96], ea12;\n" +
        "st.shared.f32 [eS+100], ea13;\n" +
        "st.shared.f32 [eS+1376], ea14;\n" +
        "st.shared.f32 [eS+1380], ea15;\n" +
        "}\n";

    private const string Store1 =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eS;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eS, eT64;\n" +
        "add.u32 eS, eS, %0;\n" +
        "st.shared.f32 [eS], ea16;\n" +
        "st.shared.f32 [eS+4], ea17;\n" +
        "st.shared.f32 [eS+1280], ea18;\n" +
        "st.shared.f32 [eS+1284], ea19;\n" +
        "st.shared.f32 [eS+32], ea20;\n" +
        "st.shared.f32 [eS+36], ea21;\n" +
        "st.shared.f32 [eS+1312], ea22;\n" +
        "st.shared.f32 [eS+1316], ea23;\n" +
        "st.shared.f32 [eS+64], ea24;\n" +
        "st.shared.f32 [eS+68], ea25;\n" +
        "st.shared.f32 [eS+1344], ea26;\n" +
        "st.shared.f32 [eS+1348], ea27;\n" +
        "st.shared.f32 [eS+96], ea28;\n" +
        "st.shared.f32 [eS+100], ea29;\n" +
        "st.shared.f32 [eS+1376], ea30;\n" +
        "st.shared.f32 [eS+1380], ea31;\n" +
        "}\n";

    private const string Store2 =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eS;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eS, eT64;\n" +
        "add.u32 eS, eS, %0;\n" +
        "st.shared.f32 [eS], ea32;\n" +
        "st.shared.f32 [eS+4], ea33;\n" +
        "st.shared.f32 [eS+1280], ea34;\n" +
        "st.shared.f32 [eS+1284], ea35;\n" +
        "st.shared.f32 [eS+32], ea36;\n" +
        "st.shared.f32 [eS+36], ea37;\n" +
        "st.shared.f32 [eS+1312], ea38;\n" +
        "st.shared.f32 [eS+1316], ea39;\n" +
        "st.shared.f32 [eS+64], ea40;\n" +
        "st.shared.f32 [eS+68], ea41;\n" +
        "st.shared.f32 [eS+1344], ea42;\n" +
        "st.shared.f32 [eS+1348], ea43;\n" +
        "st.shared.f32 [eS+96], ea44;\n" +
        "st.shared.f32 [eS+100], ea45;\n" +
        "st.shared.f32 [eS+1376], ea46;\n" +
        "st.shared.f32 [eS+1380], ea47;\n" +
        "}\n";

    private const string Store3 =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eS;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eS, eT64;\n" +
        "add.u32 eS, eS, %0;\n" +
        "st.shared.f32 [eS], ea48;\n" +
        "st.shared.f32 [eS+4], ea49;\n" +
        "st.shared.f32 [eS+1280], ea50;\n" +
        "st.shared.f32 [eS+1284], ea51;\n" +
        "st.shared.f32 [eS+32], ea52;\n" +
        "st.shared.f32 [eS+36], ea53;\n" +
        "st.shared.f32 [eS+1312], ea54;\n" +
        "st.shared.f32 [eS+1316], ea55;\n" +
        "st.shared.f32 [eS+64], ea56;\n" +
        "st.shared.f32 [eS+68], ea57;\n" +
        "st.shared.f32 [eS+1344], ea58;\n" +
        "st.shared.f32 [eS+1348], ea59;\n" +
        "st.shared.f32 [eS+96], ea60;\n" +
        "st.shared.f32 [eS+100], ea61;\n" +
        "st.shared.f32 [eS+1376], ea62;\n" +
        "st.shared.f32 [eS+1380], ea63;\n" +
        "}\n";

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

    public void StoreTile(int mTile, uint stagingOffset)
    {
        switch (mTile)
        {
            case 0: CudaAsm.Emit(Store0, stagingOffset); break;
            case 1: CudaAsm.Emit(Store1, stagingOffset); break;
            case 2: CudaAsm.Emit(Store2, stagingOffset); break;
            default: CudaAsm.Emit(Store3, stagingOffset); break;
        }
    }
}
