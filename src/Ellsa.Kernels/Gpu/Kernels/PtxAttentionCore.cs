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
/// </summary>
public struct PtxAttentionCore : IAttentionCore
{
    private const string Declare =
        ".reg .f32 es<16>;\n" +
        ".reg .f32 eo<64>;\n" +
        ".reg .b32 qh<32>;\n" +
        ".reg .b32 ql<32>;\n" +
        ".reg .b32 kh<8>;\n" +
        ".reg .b32 kl<8>;\n" +
        ".reg .b32 ph<8>;\n" +
        ".reg .b32 pl<8>;\n" +
        ".reg .b32 vh<4>;\n" +
        ".reg .b32 vl<4>;\n";

    private const string ZeroOutput =
        "mov.f32 eo0, 0f00000000;\n" +
        "mov.f32 eo1, 0f00000000;\n" +
        "mov.f32 eo2, 0f00000000;\n" +
        "mov.f32 eo3, 0f00000000;\n" +
        "mov.f32 eo4, 0f00000000;\n" +
        "mov.f32 eo5, 0f00000000;\n" +
        "mov.f32 eo6, 0f00000000;\n" +
        "mov.f32 eo7, 0f00000000;\n" +
        "mov.f32 eo8, 0f00000000;\n" +
        "mov.f32 eo9, 0f00000000;\n" +
        "mov.f32 eo10, 0f00000000;\n" +
        "mov.f32 eo11, 0f00000000;\n" +
        "mov.f32 eo12, 0f00000000;\n" +
        "mov.f32 eo13, 0f00000000;\n" +
        "mov.f32 eo14, 0f00000000;\n" +
        "mov.f32 eo15, 0f00000000;\n" +
        "mov.f32 eo16, 0f00000000;\n" +
        "mov.f32 eo17, 0f00000000;\n" +
        "mov.f32 eo18, 0f00000000;\n" +
        "mov.f32 eo19, 0f00000000;\n" +
        "mov.f32 eo20, 0f00000000;\n" +
        "mov.f32 eo21, 0f00000000;\n" +
        "mov.f32 eo22, 0f00000000;\n" +
        "mov.f32 eo23, 0f00000000;\n" +
        "mov.f32 eo24, 0f00000000;\n" +
        "mov.f32 eo25, 0f00000000;\n" +
        "mov.f32 eo26, 0f00000000;\n" +
        "mov.f32 eo27, 0f00000000;\n" +
        "mov.f32 eo28, 0f00000000;\n" +
        "mov.f32 eo29, 0f00000000;\n" +
        "mov.f32 eo30, 0f00000000;\n" +
        "mov.f32 eo31, 0f00000000;\n" +
        "mov.f32 eo32, 0f00000000;\n" +
        "mov.f32 eo33, 0f00000000;\n" +
        "mov.f32 eo34, 0f00000000;\n" +
        "mov.f32 eo35, 0f00000000;\n" +
        "mov.f32 eo36, 0f00000000;\n" +
        "mov.f32 eo37, 0f00000000;\n" +
        "mov.f32 eo38, 0f00000000;\n" +
        "mov.f32 eo39, 0f00000000;\n" +
        "mov.f32 eo40, 0f00000000;\n" +
        "mov.f32 eo41, 0f00000000;\n" +
        "mov.f32 eo42, 0f00000000;\n" +
        "mov.f32 eo43, 0f00000000;\n" +
        "mov.f32 eo44, 0f00000000;\n" +
        "mov.f32 eo45, 0f00000000;\n" +
        "mov.f32 eo46, 0f00000000;\n" +
        "mov.f32 eo47, 0f00000000;\n" +
        "mov.f32 eo48, 0f00000000;\n" +
        "mov.f32 eo49, 0f00000000;\n" +
        "mov.f32 eo50, 0f00000000;\n" +
        "mov.f32 eo51, 0f00000000;\n" +
        "mov.f32 eo52, 0f00000000;\n" +
        "mov.f32 eo53, 0f00000000;\n" +
        "mov.f32 eo54, 0f00000000;\n" +
        "mov.f32 eo55, 0f00000000;\n" +
        "mov.f32 eo56, 0f00000000;\n" +
        "mov.f32 eo57, 0f00000000;\n" +
        "mov.f32 eo58, 0f00000000;\n" +
        "mov.f32 eo59, 0f00000000;\n" +
        "mov.f32 eo60, 0f00000000;\n" +
        "mov.f32 eo61, 0f00000000;\n" +
        "mov.f32 eo62, 0f00000000;\n" +
        "mov.f32 eo63, 0f00000000;\n";

    private const string ClearScores =
        "mov.f32 es0, 0f00000000;\n" +
        "mov.f32 es1, 0f00000000;\n" +
        "mov.f32 es2, 0f00000000;\n" +
        "mov.f32 es3, 0f00000000;\n" +
        "mov.f32 es4, 0f00000000;\n" +
        "mov.f32 es5, 0f00000000;\n" +
        "mov.f32 es6, 0f00000000;\n" +
        "mov.f32 es7, 0f00000000;\n" +
        "mov.f32 es8, 0f00000000;\n" +
        "mov.f32 es9, 0f00000000;\n" +
        "mov.f32 es10, 0f00000000;\n" +
        "mov.f32 es11, 0f00000000;\n" +
        "mov.f32 es12, 0f00000000;\n" +
        "mov.f32 es13, 0f00000000;\n" +
        "mov.f32 es14, 0f00000000;\n" +
        "mov.f32 es15, 0f00000000;\n";

    private const string Query0Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eA;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eA, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {qh0, qh1, qh2, qh3}, [eA];\n" +
        "}\n";

    private const string Query0Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eA;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eA, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {qh0, qh1, qh2, qh3}, [eA];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {ql0, ql1, ql2, ql3}, [eA+16384];\n" +
        "}\n";

    private const string Query1Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eA;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eA, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {qh4, qh5, qh6, qh7}, [eA];\n" +
        "}\n";

    private const string Query1Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eA;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eA, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {qh4, qh5, qh6, qh7}, [eA];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {ql4, ql5, ql6, ql7}, [eA+16384];\n" +
        "}\n";

    private const string Query2Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eA;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eA, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {qh8, qh9, qh10, qh11}, [eA];\n" +
        "}\n";

    private const string Query2Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eA;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eA, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {qh8, qh9, qh10, qh11}, [eA];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {ql8, ql9, ql10, ql11}, [eA+16384];\n" +
        "}\n";

    private const string Query3Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eA;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eA, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {qh12, qh13, qh14, qh15}, [eA];\n" +
        "}\n";

    private const string Query3Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eA;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eA, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {qh12, qh13, qh14, qh15}, [eA];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {ql12, ql13, ql14, ql15}, [eA+16384];\n" +
        "}\n";

    private const string Query4Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eA;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eA, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {qh16, qh17, qh18, qh19}, [eA];\n" +
        "}\n";

    private const string Query4Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eA;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eA, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {qh16, qh17, qh18, qh19}, [eA];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {ql16, ql17, ql18, ql19}, [eA+16384];\n" +
        "}\n";

    private const string Query5Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eA;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eA, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {qh20, qh21, qh22, qh23}, [eA];\n" +
        "}\n";

    private const string Query5Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eA;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eA, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {qh20, qh21, qh22, qh23}, [eA];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {ql20, ql21, ql22, ql23}, [eA+16384];\n" +
        "}\n";

    private const string Query6Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eA;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eA, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {qh24, qh25, qh26, qh27}, [eA];\n" +
        "}\n";

    private const string Query6Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eA;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eA, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {qh24, qh25, qh26, qh27}, [eA];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {ql24, ql25, ql26, ql27}, [eA+16384];\n" +
        "}\n";

    private const string Query7Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eA;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eA, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {qh28, qh29, qh30, qh31}, [eA];\n" +
        "}\n";

    private const string Query7Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eA;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eA, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {qh28, qh29, qh30, qh31}, [eA];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {ql28, ql29, ql30, ql31}, [eA+16384];\n" +
        "}\n";

    private const string Scores0Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eK;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eK, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh0, kh1, kh2, kh3}, [eK];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh4, kh5, kh6, kh7}, [eK+4096];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {qh0,qh1,qh2,qh3}, {kh0,kh1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {qh0,qh1,qh2,qh3}, {kh2,kh3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {qh0,qh1,qh2,qh3}, {kh4,kh5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {qh0,qh1,qh2,qh3}, {kh6,kh7}, {es12,es13,es14,es15};\n";

    private const string Scores0Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eK;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eK, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh0, kh1, kh2, kh3}, [eK];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh4, kh5, kh6, kh7}, [eK+4096];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kl0, kl1, kl2, kl3}, [eK+8192];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kl4, kl5, kl6, kl7}, [eK+12288];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {qh0,qh1,qh2,qh3}, {kh0,kh1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {qh0,qh1,qh2,qh3}, {kl0,kl1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {ql0,ql1,ql2,ql3}, {kh0,kh1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {qh0,qh1,qh2,qh3}, {kh2,kh3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {qh0,qh1,qh2,qh3}, {kl2,kl3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {ql0,ql1,ql2,ql3}, {kh2,kh3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {qh0,qh1,qh2,qh3}, {kh4,kh5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {qh0,qh1,qh2,qh3}, {kl4,kl5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {ql0,ql1,ql2,ql3}, {kh4,kh5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {qh0,qh1,qh2,qh3}, {kh6,kh7}, {es12,es13,es14,es15};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {qh0,qh1,qh2,qh3}, {kl6,kl7}, {es12,es13,es14,es15};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {ql0,ql1,ql2,ql3}, {kh6,kh7}, {es12,es13,es14,es15};\n";

    private const string Scores1Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eK;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eK, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh0, kh1, kh2, kh3}, [eK];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh4, kh5, kh6, kh7}, [eK+4096];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {qh4,qh5,qh6,qh7}, {kh0,kh1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {qh4,qh5,qh6,qh7}, {kh2,kh3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {qh4,qh5,qh6,qh7}, {kh4,kh5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {qh4,qh5,qh6,qh7}, {kh6,kh7}, {es12,es13,es14,es15};\n";

    private const string Scores1Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eK;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eK, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh0, kh1, kh2, kh3}, [eK];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh4, kh5, kh6, kh7}, [eK+4096];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kl0, kl1, kl2, kl3}, [eK+8192];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kl4, kl5, kl6, kl7}, [eK+12288];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {qh4,qh5,qh6,qh7}, {kh0,kh1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {qh4,qh5,qh6,qh7}, {kl0,kl1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {ql4,ql5,ql6,ql7}, {kh0,kh1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {qh4,qh5,qh6,qh7}, {kh2,kh3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {qh4,qh5,qh6,qh7}, {kl2,kl3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {ql4,ql5,ql6,ql7}, {kh2,kh3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {qh4,qh5,qh6,qh7}, {kh4,kh5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {qh4,qh5,qh6,qh7}, {kl4,kl5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {ql4,ql5,ql6,ql7}, {kh4,kh5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {qh4,qh5,qh6,qh7}, {kh6,kh7}, {es12,es13,es14,es15};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {qh4,qh5,qh6,qh7}, {kl6,kl7}, {es12,es13,es14,es15};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {ql4,ql5,ql6,ql7}, {kh6,kh7}, {es12,es13,es14,es15};\n";

    private const string Scores2Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eK;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eK, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh0, kh1, kh2, kh3}, [eK];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh4, kh5, kh6, kh7}, [eK+4096];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {qh8,qh9,qh10,qh11}, {kh0,kh1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {qh8,qh9,qh10,qh11}, {kh2,kh3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {qh8,qh9,qh10,qh11}, {kh4,kh5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {qh8,qh9,qh10,qh11}, {kh6,kh7}, {es12,es13,es14,es15};\n";

    private const string Scores2Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eK;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eK, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh0, kh1, kh2, kh3}, [eK];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh4, kh5, kh6, kh7}, [eK+4096];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kl0, kl1, kl2, kl3}, [eK+8192];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kl4, kl5, kl6, kl7}, [eK+12288];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {qh8,qh9,qh10,qh11}, {kh0,kh1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {qh8,qh9,qh10,qh11}, {kl0,kl1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {ql8,ql9,ql10,ql11}, {kh0,kh1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {qh8,qh9,qh10,qh11}, {kh2,kh3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {qh8,qh9,qh10,qh11}, {kl2,kl3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {ql8,ql9,ql10,ql11}, {kh2,kh3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {qh8,qh9,qh10,qh11}, {kh4,kh5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {qh8,qh9,qh10,qh11}, {kl4,kl5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {ql8,ql9,ql10,ql11}, {kh4,kh5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {qh8,qh9,qh10,qh11}, {kh6,kh7}, {es12,es13,es14,es15};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {qh8,qh9,qh10,qh11}, {kl6,kl7}, {es12,es13,es14,es15};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {ql8,ql9,ql10,ql11}, {kh6,kh7}, {es12,es13,es14,es15};\n";

    private const string Scores3Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eK;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eK, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh0, kh1, kh2, kh3}, [eK];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh4, kh5, kh6, kh7}, [eK+4096];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {qh12,qh13,qh14,qh15}, {kh0,kh1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {qh12,qh13,qh14,qh15}, {kh2,kh3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {qh12,qh13,qh14,qh15}, {kh4,kh5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {qh12,qh13,qh14,qh15}, {kh6,kh7}, {es12,es13,es14,es15};\n";

    private const string Scores3Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eK;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eK, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh0, kh1, kh2, kh3}, [eK];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh4, kh5, kh6, kh7}, [eK+4096];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kl0, kl1, kl2, kl3}, [eK+8192];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kl4, kl5, kl6, kl7}, [eK+12288];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {qh12,qh13,qh14,qh15}, {kh0,kh1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {qh12,qh13,qh14,qh15}, {kl0,kl1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {ql12,ql13,ql14,ql15}, {kh0,kh1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {qh12,qh13,qh14,qh15}, {kh2,kh3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {qh12,qh13,qh14,qh15}, {kl2,kl3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {ql12,ql13,ql14,ql15}, {kh2,kh3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {qh12,qh13,qh14,qh15}, {kh4,kh5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {qh12,qh13,qh14,qh15}, {kl4,kl5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {ql12,ql13,ql14,ql15}, {kh4,kh5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {qh12,qh13,qh14,qh15}, {kh6,kh7}, {es12,es13,es14,es15};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {qh12,qh13,qh14,qh15}, {kl6,kl7}, {es12,es13,es14,es15};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {ql12,ql13,ql14,ql15}, {kh6,kh7}, {es12,es13,es14,es15};\n";

    private const string Scores4Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eK;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eK, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh0, kh1, kh2, kh3}, [eK];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh4, kh5, kh6, kh7}, [eK+4096];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {qh16,qh17,qh18,qh19}, {kh0,kh1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {qh16,qh17,qh18,qh19}, {kh2,kh3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {qh16,qh17,qh18,qh19}, {kh4,kh5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {qh16,qh17,qh18,qh19}, {kh6,kh7}, {es12,es13,es14,es15};\n";

    private const string Scores4Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eK;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eK, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh0, kh1, kh2, kh3}, [eK];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh4, kh5, kh6, kh7}, [eK+4096];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kl0, kl1, kl2, kl3}, [eK+8192];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kl4, kl5, kl6, kl7}, [eK+12288];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {qh16,qh17,qh18,qh19}, {kh0,kh1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {qh16,qh17,qh18,qh19}, {kl0,kl1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {ql16,ql17,ql18,ql19}, {kh0,kh1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {qh16,qh17,qh18,qh19}, {kh2,kh3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {qh16,qh17,qh18,qh19}, {kl2,kl3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {ql16,ql17,ql18,ql19}, {kh2,kh3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {qh16,qh17,qh18,qh19}, {kh4,kh5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {qh16,qh17,qh18,qh19}, {kl4,kl5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {ql16,ql17,ql18,ql19}, {kh4,kh5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {qh16,qh17,qh18,qh19}, {kh6,kh7}, {es12,es13,es14,es15};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {qh16,qh17,qh18,qh19}, {kl6,kl7}, {es12,es13,es14,es15};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {ql16,ql17,ql18,ql19}, {kh6,kh7}, {es12,es13,es14,es15};\n";

    private const string Scores5Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eK;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eK, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh0, kh1, kh2, kh3}, [eK];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh4, kh5, kh6, kh7}, [eK+4096];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {qh20,qh21,qh22,qh23}, {kh0,kh1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {qh20,qh21,qh22,qh23}, {kh2,kh3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {qh20,qh21,qh22,qh23}, {kh4,kh5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {qh20,qh21,qh22,qh23}, {kh6,kh7}, {es12,es13,es14,es15};\n";

    private const string Scores5Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eK;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eK, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh0, kh1, kh2, kh3}, [eK];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh4, kh5, kh6, kh7}, [eK+4096];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kl0, kl1, kl2, kl3}, [eK+8192];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kl4, kl5, kl6, kl7}, [eK+12288];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {qh20,qh21,qh22,qh23}, {kh0,kh1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {qh20,qh21,qh22,qh23}, {kl0,kl1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {ql20,ql21,ql22,ql23}, {kh0,kh1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {qh20,qh21,qh22,qh23}, {kh2,kh3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {qh20,qh21,qh22,qh23}, {kl2,kl3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {ql20,ql21,ql22,ql23}, {kh2,kh3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {qh20,qh21,qh22,qh23}, {kh4,kh5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {qh20,qh21,qh22,qh23}, {kl4,kl5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {ql20,ql21,ql22,ql23}, {kh4,kh5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {qh20,qh21,qh22,qh23}, {kh6,kh7}, {es12,es13,es14,es15};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {qh20,qh21,qh22,qh23}, {kl6,kl7}, {es12,es13,es14,es15};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {ql20,ql21,ql22,ql23}, {kh6,kh7}, {es12,es13,es14,es15};\n";

    private const string Scores6Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eK;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eK, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh0, kh1, kh2, kh3}, [eK];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh4, kh5, kh6, kh7}, [eK+4096];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {qh24,qh25,qh26,qh27}, {kh0,kh1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {qh24,qh25,qh26,qh27}, {kh2,kh3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {qh24,qh25,qh26,qh27}, {kh4,kh5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {qh24,qh25,qh26,qh27}, {kh6,kh7}, {es12,es13,es14,es15};\n";

    private const string Scores6Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eK;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eK, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh0, kh1, kh2, kh3}, [eK];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh4, kh5, kh6, kh7}, [eK+4096];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kl0, kl1, kl2, kl3}, [eK+8192];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kl4, kl5, kl6, kl7}, [eK+12288];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {qh24,qh25,qh26,qh27}, {kh0,kh1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {qh24,qh25,qh26,qh27}, {kl0,kl1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {ql24,ql25,ql26,ql27}, {kh0,kh1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {qh24,qh25,qh26,qh27}, {kh2,kh3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {qh24,qh25,qh26,qh27}, {kl2,kl3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {ql24,ql25,ql26,ql27}, {kh2,kh3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {qh24,qh25,qh26,qh27}, {kh4,kh5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {qh24,qh25,qh26,qh27}, {kl4,kl5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {ql24,ql25,ql26,ql27}, {kh4,kh5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {qh24,qh25,qh26,qh27}, {kh6,kh7}, {es12,es13,es14,es15};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {qh24,qh25,qh26,qh27}, {kl6,kl7}, {es12,es13,es14,es15};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {ql24,ql25,ql26,ql27}, {kh6,kh7}, {es12,es13,es14,es15};\n";

    private const string Scores7Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eK;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eK, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh0, kh1, kh2, kh3}, [eK];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh4, kh5, kh6, kh7}, [eK+4096];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {qh28,qh29,qh30,qh31}, {kh0,kh1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {qh28,qh29,qh30,qh31}, {kh2,kh3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {qh28,qh29,qh30,qh31}, {kh4,kh5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {qh28,qh29,qh30,qh31}, {kh6,kh7}, {es12,es13,es14,es15};\n";

    private const string Scores7Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eK;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eK, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh0, kh1, kh2, kh3}, [eK];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kh4, kh5, kh6, kh7}, [eK+4096];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kl0, kl1, kl2, kl3}, [eK+8192];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {kl4, kl5, kl6, kl7}, [eK+12288];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {qh28,qh29,qh30,qh31}, {kh0,kh1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {qh28,qh29,qh30,qh31}, {kl0,kl1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es0,es1,es2,es3}, {ql28,ql29,ql30,ql31}, {kh0,kh1}, {es0,es1,es2,es3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {qh28,qh29,qh30,qh31}, {kh2,kh3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {qh28,qh29,qh30,qh31}, {kl2,kl3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es4,es5,es6,es7}, {ql28,ql29,ql30,ql31}, {kh2,kh3}, {es4,es5,es6,es7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {qh28,qh29,qh30,qh31}, {kh4,kh5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {qh28,qh29,qh30,qh31}, {kl4,kl5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es8,es9,es10,es11}, {ql28,ql29,ql30,ql31}, {kh4,kh5}, {es8,es9,es10,es11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {qh28,qh29,qh30,qh31}, {kh6,kh7}, {es12,es13,es14,es15};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {qh28,qh29,qh30,qh31}, {kl6,kl7}, {es12,es13,es14,es15};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {es12,es13,es14,es15}, {ql28,ql29,ql30,ql31}, {kh6,kh7}, {es12,es13,es14,es15};\n";

    private const string StoreScoreTile =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eS;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eS, eBase, %0;\n" +
        "st.shared.f32 [eS], es0;\n" +
        "st.shared.f32 [eS+4], es1;\n" +
        "st.shared.f32 [eS+1280], es2;\n" +
        "st.shared.f32 [eS+1284], es3;\n" +
        "st.shared.f32 [eS+32], es4;\n" +
        "st.shared.f32 [eS+36], es5;\n" +
        "st.shared.f32 [eS+1312], es6;\n" +
        "st.shared.f32 [eS+1316], es7;\n" +
        "st.shared.f32 [eS+64], es8;\n" +
        "st.shared.f32 [eS+68], es9;\n" +
        "st.shared.f32 [eS+1344], es10;\n" +
        "st.shared.f32 [eS+1348], es11;\n" +
        "st.shared.f32 [eS+96], es12;\n" +
        "st.shared.f32 [eS+100], es13;\n" +
        "st.shared.f32 [eS+1376], es14;\n" +
        "st.shared.f32 [eS+1380], es15;\n" +
        "}\n";

    private const string Scale =
        "mul.f32 eo0, eo0, %0;\n" +
        "mul.f32 eo1, eo1, %0;\n" +
        "mul.f32 eo2, eo2, %1;\n" +
        "mul.f32 eo3, eo3, %1;\n" +
        "mul.f32 eo4, eo4, %0;\n" +
        "mul.f32 eo5, eo5, %0;\n" +
        "mul.f32 eo6, eo6, %1;\n" +
        "mul.f32 eo7, eo7, %1;\n" +
        "mul.f32 eo8, eo8, %0;\n" +
        "mul.f32 eo9, eo9, %0;\n" +
        "mul.f32 eo10, eo10, %1;\n" +
        "mul.f32 eo11, eo11, %1;\n" +
        "mul.f32 eo12, eo12, %0;\n" +
        "mul.f32 eo13, eo13, %0;\n" +
        "mul.f32 eo14, eo14, %1;\n" +
        "mul.f32 eo15, eo15, %1;\n" +
        "mul.f32 eo16, eo16, %0;\n" +
        "mul.f32 eo17, eo17, %0;\n" +
        "mul.f32 eo18, eo18, %1;\n" +
        "mul.f32 eo19, eo19, %1;\n" +
        "mul.f32 eo20, eo20, %0;\n" +
        "mul.f32 eo21, eo21, %0;\n" +
        "mul.f32 eo22, eo22, %1;\n" +
        "mul.f32 eo23, eo23, %1;\n" +
        "mul.f32 eo24, eo24, %0;\n" +
        "mul.f32 eo25, eo25, %0;\n" +
        "mul.f32 eo26, eo26, %1;\n" +
        "mul.f32 eo27, eo27, %1;\n" +
        "mul.f32 eo28, eo28, %0;\n" +
        "mul.f32 eo29, eo29, %0;\n" +
        "mul.f32 eo30, eo30, %1;\n" +
        "mul.f32 eo31, eo31, %1;\n" +
        "mul.f32 eo32, eo32, %0;\n" +
        "mul.f32 eo33, eo33, %0;\n" +
        "mul.f32 eo34, eo34, %1;\n" +
        "mul.f32 eo35, eo35, %1;\n" +
        "mul.f32 eo36, eo36, %0;\n" +
        "mul.f32 eo37, eo37, %0;\n" +
        "mul.f32 eo38, eo38, %1;\n" +
        "mul.f32 eo39, eo39, %1;\n" +
        "mul.f32 eo40, eo40, %0;\n" +
        "mul.f32 eo41, eo41, %0;\n" +
        "mul.f32 eo42, eo42, %1;\n" +
        "mul.f32 eo43, eo43, %1;\n" +
        "mul.f32 eo44, eo44, %0;\n" +
        "mul.f32 eo45, eo45, %0;\n" +
        "mul.f32 eo46, eo46, %1;\n" +
        "mul.f32 eo47, eo47, %1;\n" +
        "mul.f32 eo48, eo48, %0;\n" +
        "mul.f32 eo49, eo49, %0;\n" +
        "mul.f32 eo50, eo50, %1;\n" +
        "mul.f32 eo51, eo51, %1;\n" +
        "mul.f32 eo52, eo52, %0;\n" +
        "mul.f32 eo53, eo53, %0;\n" +
        "mul.f32 eo54, eo54, %1;\n" +
        "mul.f32 eo55, eo55, %1;\n" +
        "mul.f32 eo56, eo56, %0;\n" +
        "mul.f32 eo57, eo57, %0;\n" +
        "mul.f32 eo58, eo58, %1;\n" +
        "mul.f32 eo59, eo59, %1;\n" +
        "mul.f32 eo60, eo60, %0;\n" +
        "mul.f32 eo61, eo61, %0;\n" +
        "mul.f32 eo62, eo62, %1;\n" +
        "mul.f32 eo63, eo63, %1;\n";

    private const string ProbabilitiesFast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eP0, eP1;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eP0, eBase, %0;\n" +
        "add.u32 eP1, eBase, %1;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {ph0, ph1, ph2, ph3}, [eP0];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {ph4, ph5, ph6, ph7}, [eP1];\n" +
        "}\n";

    private const string ProbabilitiesExact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eP0, eP1;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eP0, eBase, %0;\n" +
        "add.u32 eP1, eBase, %1;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {ph0, ph1, ph2, ph3}, [eP0];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {ph4, ph5, ph6, ph7}, [eP1];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {pl0, pl1, pl2, pl3}, [eP0+1024];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {pl4, pl5, pl6, pl7}, [eP1+1024];\n" +
        "}\n";

    private const string Values00Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo0,eo1,eo2,eo3}, {ph0,ph1,ph2,ph3}, {vh0,vh1}, {eo0,eo1,eo2,eo3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo4,eo5,eo6,eo7}, {ph0,ph1,ph2,ph3}, {vh2,vh3}, {eo4,eo5,eo6,eo7};\n";

    private const string Values00Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vl0, vl1, vl2, vl3}, [eV+8192];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo0,eo1,eo2,eo3}, {ph0,ph1,ph2,ph3}, {vh0,vh1}, {eo0,eo1,eo2,eo3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo0,eo1,eo2,eo3}, {ph0,ph1,ph2,ph3}, {vl0,vl1}, {eo0,eo1,eo2,eo3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo0,eo1,eo2,eo3}, {pl0,pl1,pl2,pl3}, {vh0,vh1}, {eo0,eo1,eo2,eo3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo4,eo5,eo6,eo7}, {ph0,ph1,ph2,ph3}, {vh2,vh3}, {eo4,eo5,eo6,eo7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo4,eo5,eo6,eo7}, {ph0,ph1,ph2,ph3}, {vl2,vl3}, {eo4,eo5,eo6,eo7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo4,eo5,eo6,eo7}, {pl0,pl1,pl2,pl3}, {vh2,vh3}, {eo4,eo5,eo6,eo7};\n";

    private const string Values01Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo8,eo9,eo10,eo11}, {ph0,ph1,ph2,ph3}, {vh0,vh1}, {eo8,eo9,eo10,eo11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo12,eo13,eo14,eo15}, {ph0,ph1,ph2,ph3}, {vh2,vh3}, {eo12,eo13,eo14,eo15};\n";

    private const string Values01Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vl0, vl1, vl2, vl3}, [eV+8192];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo8,eo9,eo10,eo11}, {ph0,ph1,ph2,ph3}, {vh0,vh1}, {eo8,eo9,eo10,eo11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo8,eo9,eo10,eo11}, {ph0,ph1,ph2,ph3}, {vl0,vl1}, {eo8,eo9,eo10,eo11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo8,eo9,eo10,eo11}, {pl0,pl1,pl2,pl3}, {vh0,vh1}, {eo8,eo9,eo10,eo11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo12,eo13,eo14,eo15}, {ph0,ph1,ph2,ph3}, {vh2,vh3}, {eo12,eo13,eo14,eo15};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo12,eo13,eo14,eo15}, {ph0,ph1,ph2,ph3}, {vl2,vl3}, {eo12,eo13,eo14,eo15};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo12,eo13,eo14,eo15}, {pl0,pl1,pl2,pl3}, {vh2,vh3}, {eo12,eo13,eo14,eo15};\n";

    private const string Values02Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo16,eo17,eo18,eo19}, {ph0,ph1,ph2,ph3}, {vh0,vh1}, {eo16,eo17,eo18,eo19};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo20,eo21,eo22,eo23}, {ph0,ph1,ph2,ph3}, {vh2,vh3}, {eo20,eo21,eo22,eo23};\n";

    private const string Values02Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vl0, vl1, vl2, vl3}, [eV+8192];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo16,eo17,eo18,eo19}, {ph0,ph1,ph2,ph3}, {vh0,vh1}, {eo16,eo17,eo18,eo19};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo16,eo17,eo18,eo19}, {ph0,ph1,ph2,ph3}, {vl0,vl1}, {eo16,eo17,eo18,eo19};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo16,eo17,eo18,eo19}, {pl0,pl1,pl2,pl3}, {vh0,vh1}, {eo16,eo17,eo18,eo19};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo20,eo21,eo22,eo23}, {ph0,ph1,ph2,ph3}, {vh2,vh3}, {eo20,eo21,eo22,eo23};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo20,eo21,eo22,eo23}, {ph0,ph1,ph2,ph3}, {vl2,vl3}, {eo20,eo21,eo22,eo23};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo20,eo21,eo22,eo23}, {pl0,pl1,pl2,pl3}, {vh2,vh3}, {eo20,eo21,eo22,eo23};\n";

    private const string Values03Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo24,eo25,eo26,eo27}, {ph0,ph1,ph2,ph3}, {vh0,vh1}, {eo24,eo25,eo26,eo27};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo28,eo29,eo30,eo31}, {ph0,ph1,ph2,ph3}, {vh2,vh3}, {eo28,eo29,eo30,eo31};\n";

    private const string Values03Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vl0, vl1, vl2, vl3}, [eV+8192];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo24,eo25,eo26,eo27}, {ph0,ph1,ph2,ph3}, {vh0,vh1}, {eo24,eo25,eo26,eo27};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo24,eo25,eo26,eo27}, {ph0,ph1,ph2,ph3}, {vl0,vl1}, {eo24,eo25,eo26,eo27};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo24,eo25,eo26,eo27}, {pl0,pl1,pl2,pl3}, {vh0,vh1}, {eo24,eo25,eo26,eo27};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo28,eo29,eo30,eo31}, {ph0,ph1,ph2,ph3}, {vh2,vh3}, {eo28,eo29,eo30,eo31};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo28,eo29,eo30,eo31}, {ph0,ph1,ph2,ph3}, {vl2,vl3}, {eo28,eo29,eo30,eo31};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo28,eo29,eo30,eo31}, {pl0,pl1,pl2,pl3}, {vh2,vh3}, {eo28,eo29,eo30,eo31};\n";

    private const string Values04Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo32,eo33,eo34,eo35}, {ph0,ph1,ph2,ph3}, {vh0,vh1}, {eo32,eo33,eo34,eo35};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo36,eo37,eo38,eo39}, {ph0,ph1,ph2,ph3}, {vh2,vh3}, {eo36,eo37,eo38,eo39};\n";

    private const string Values04Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vl0, vl1, vl2, vl3}, [eV+8192];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo32,eo33,eo34,eo35}, {ph0,ph1,ph2,ph3}, {vh0,vh1}, {eo32,eo33,eo34,eo35};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo32,eo33,eo34,eo35}, {ph0,ph1,ph2,ph3}, {vl0,vl1}, {eo32,eo33,eo34,eo35};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo32,eo33,eo34,eo35}, {pl0,pl1,pl2,pl3}, {vh0,vh1}, {eo32,eo33,eo34,eo35};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo36,eo37,eo38,eo39}, {ph0,ph1,ph2,ph3}, {vh2,vh3}, {eo36,eo37,eo38,eo39};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo36,eo37,eo38,eo39}, {ph0,ph1,ph2,ph3}, {vl2,vl3}, {eo36,eo37,eo38,eo39};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo36,eo37,eo38,eo39}, {pl0,pl1,pl2,pl3}, {vh2,vh3}, {eo36,eo37,eo38,eo39};\n";

    private const string Values05Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo40,eo41,eo42,eo43}, {ph0,ph1,ph2,ph3}, {vh0,vh1}, {eo40,eo41,eo42,eo43};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo44,eo45,eo46,eo47}, {ph0,ph1,ph2,ph3}, {vh2,vh3}, {eo44,eo45,eo46,eo47};\n";

    private const string Values05Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vl0, vl1, vl2, vl3}, [eV+8192];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo40,eo41,eo42,eo43}, {ph0,ph1,ph2,ph3}, {vh0,vh1}, {eo40,eo41,eo42,eo43};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo40,eo41,eo42,eo43}, {ph0,ph1,ph2,ph3}, {vl0,vl1}, {eo40,eo41,eo42,eo43};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo40,eo41,eo42,eo43}, {pl0,pl1,pl2,pl3}, {vh0,vh1}, {eo40,eo41,eo42,eo43};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo44,eo45,eo46,eo47}, {ph0,ph1,ph2,ph3}, {vh2,vh3}, {eo44,eo45,eo46,eo47};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo44,eo45,eo46,eo47}, {ph0,ph1,ph2,ph3}, {vl2,vl3}, {eo44,eo45,eo46,eo47};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo44,eo45,eo46,eo47}, {pl0,pl1,pl2,pl3}, {vh2,vh3}, {eo44,eo45,eo46,eo47};\n";

    private const string Values06Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo48,eo49,eo50,eo51}, {ph0,ph1,ph2,ph3}, {vh0,vh1}, {eo48,eo49,eo50,eo51};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo52,eo53,eo54,eo55}, {ph0,ph1,ph2,ph3}, {vh2,vh3}, {eo52,eo53,eo54,eo55};\n";

    private const string Values06Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vl0, vl1, vl2, vl3}, [eV+8192];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo48,eo49,eo50,eo51}, {ph0,ph1,ph2,ph3}, {vh0,vh1}, {eo48,eo49,eo50,eo51};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo48,eo49,eo50,eo51}, {ph0,ph1,ph2,ph3}, {vl0,vl1}, {eo48,eo49,eo50,eo51};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo48,eo49,eo50,eo51}, {pl0,pl1,pl2,pl3}, {vh0,vh1}, {eo48,eo49,eo50,eo51};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo52,eo53,eo54,eo55}, {ph0,ph1,ph2,ph3}, {vh2,vh3}, {eo52,eo53,eo54,eo55};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo52,eo53,eo54,eo55}, {ph0,ph1,ph2,ph3}, {vl2,vl3}, {eo52,eo53,eo54,eo55};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo52,eo53,eo54,eo55}, {pl0,pl1,pl2,pl3}, {vh2,vh3}, {eo52,eo53,eo54,eo55};\n";

    private const string Values07Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo56,eo57,eo58,eo59}, {ph0,ph1,ph2,ph3}, {vh0,vh1}, {eo56,eo57,eo58,eo59};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo60,eo61,eo62,eo63}, {ph0,ph1,ph2,ph3}, {vh2,vh3}, {eo60,eo61,eo62,eo63};\n";

    private const string Values07Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vl0, vl1, vl2, vl3}, [eV+8192];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo56,eo57,eo58,eo59}, {ph0,ph1,ph2,ph3}, {vh0,vh1}, {eo56,eo57,eo58,eo59};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo56,eo57,eo58,eo59}, {ph0,ph1,ph2,ph3}, {vl0,vl1}, {eo56,eo57,eo58,eo59};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo56,eo57,eo58,eo59}, {pl0,pl1,pl2,pl3}, {vh0,vh1}, {eo56,eo57,eo58,eo59};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo60,eo61,eo62,eo63}, {ph0,ph1,ph2,ph3}, {vh2,vh3}, {eo60,eo61,eo62,eo63};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo60,eo61,eo62,eo63}, {ph0,ph1,ph2,ph3}, {vl2,vl3}, {eo60,eo61,eo62,eo63};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo60,eo61,eo62,eo63}, {pl0,pl1,pl2,pl3}, {vh2,vh3}, {eo60,eo61,eo62,eo63};\n";

    private const string Values10Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo0,eo1,eo2,eo3}, {ph4,ph5,ph6,ph7}, {vh0,vh1}, {eo0,eo1,eo2,eo3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo4,eo5,eo6,eo7}, {ph4,ph5,ph6,ph7}, {vh2,vh3}, {eo4,eo5,eo6,eo7};\n";

    private const string Values10Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vl0, vl1, vl2, vl3}, [eV+8192];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo0,eo1,eo2,eo3}, {ph4,ph5,ph6,ph7}, {vh0,vh1}, {eo0,eo1,eo2,eo3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo0,eo1,eo2,eo3}, {ph4,ph5,ph6,ph7}, {vl0,vl1}, {eo0,eo1,eo2,eo3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo0,eo1,eo2,eo3}, {pl4,pl5,pl6,pl7}, {vh0,vh1}, {eo0,eo1,eo2,eo3};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo4,eo5,eo6,eo7}, {ph4,ph5,ph6,ph7}, {vh2,vh3}, {eo4,eo5,eo6,eo7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo4,eo5,eo6,eo7}, {ph4,ph5,ph6,ph7}, {vl2,vl3}, {eo4,eo5,eo6,eo7};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo4,eo5,eo6,eo7}, {pl4,pl5,pl6,pl7}, {vh2,vh3}, {eo4,eo5,eo6,eo7};\n";

    private const string Values11Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo8,eo9,eo10,eo11}, {ph4,ph5,ph6,ph7}, {vh0,vh1}, {eo8,eo9,eo10,eo11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo12,eo13,eo14,eo15}, {ph4,ph5,ph6,ph7}, {vh2,vh3}, {eo12,eo13,eo14,eo15};\n";

    private const string Values11Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vl0, vl1, vl2, vl3}, [eV+8192];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo8,eo9,eo10,eo11}, {ph4,ph5,ph6,ph7}, {vh0,vh1}, {eo8,eo9,eo10,eo11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo8,eo9,eo10,eo11}, {ph4,ph5,ph6,ph7}, {vl0,vl1}, {eo8,eo9,eo10,eo11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo8,eo9,eo10,eo11}, {pl4,pl5,pl6,pl7}, {vh0,vh1}, {eo8,eo9,eo10,eo11};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo12,eo13,eo14,eo15}, {ph4,ph5,ph6,ph7}, {vh2,vh3}, {eo12,eo13,eo14,eo15};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo12,eo13,eo14,eo15}, {ph4,ph5,ph6,ph7}, {vl2,vl3}, {eo12,eo13,eo14,eo15};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo12,eo13,eo14,eo15}, {pl4,pl5,pl6,pl7}, {vh2,vh3}, {eo12,eo13,eo14,eo15};\n";

    private const string Values12Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo16,eo17,eo18,eo19}, {ph4,ph5,ph6,ph7}, {vh0,vh1}, {eo16,eo17,eo18,eo19};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo20,eo21,eo22,eo23}, {ph4,ph5,ph6,ph7}, {vh2,vh3}, {eo20,eo21,eo22,eo23};\n";

    private const string Values12Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vl0, vl1, vl2, vl3}, [eV+8192];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo16,eo17,eo18,eo19}, {ph4,ph5,ph6,ph7}, {vh0,vh1}, {eo16,eo17,eo18,eo19};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo16,eo17,eo18,eo19}, {ph4,ph5,ph6,ph7}, {vl0,vl1}, {eo16,eo17,eo18,eo19};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo16,eo17,eo18,eo19}, {pl4,pl5,pl6,pl7}, {vh0,vh1}, {eo16,eo17,eo18,eo19};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo20,eo21,eo22,eo23}, {ph4,ph5,ph6,ph7}, {vh2,vh3}, {eo20,eo21,eo22,eo23};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo20,eo21,eo22,eo23}, {ph4,ph5,ph6,ph7}, {vl2,vl3}, {eo20,eo21,eo22,eo23};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo20,eo21,eo22,eo23}, {pl4,pl5,pl6,pl7}, {vh2,vh3}, {eo20,eo21,eo22,eo23};\n";

    private const string Values13Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo24,eo25,eo26,eo27}, {ph4,ph5,ph6,ph7}, {vh0,vh1}, {eo24,eo25,eo26,eo27};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo28,eo29,eo30,eo31}, {ph4,ph5,ph6,ph7}, {vh2,vh3}, {eo28,eo29,eo30,eo31};\n";

    private const string Values13Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vl0, vl1, vl2, vl3}, [eV+8192];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo24,eo25,eo26,eo27}, {ph4,ph5,ph6,ph7}, {vh0,vh1}, {eo24,eo25,eo26,eo27};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo24,eo25,eo26,eo27}, {ph4,ph5,ph6,ph7}, {vl0,vl1}, {eo24,eo25,eo26,eo27};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo24,eo25,eo26,eo27}, {pl4,pl5,pl6,pl7}, {vh0,vh1}, {eo24,eo25,eo26,eo27};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo28,eo29,eo30,eo31}, {ph4,ph5,ph6,ph7}, {vh2,vh3}, {eo28,eo29,eo30,eo31};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo28,eo29,eo30,eo31}, {ph4,ph5,ph6,ph7}, {vl2,vl3}, {eo28,eo29,eo30,eo31};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo28,eo29,eo30,eo31}, {pl4,pl5,pl6,pl7}, {vh2,vh3}, {eo28,eo29,eo30,eo31};\n";

    private const string Values14Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo32,eo33,eo34,eo35}, {ph4,ph5,ph6,ph7}, {vh0,vh1}, {eo32,eo33,eo34,eo35};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo36,eo37,eo38,eo39}, {ph4,ph5,ph6,ph7}, {vh2,vh3}, {eo36,eo37,eo38,eo39};\n";

    private const string Values14Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vl0, vl1, vl2, vl3}, [eV+8192];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo32,eo33,eo34,eo35}, {ph4,ph5,ph6,ph7}, {vh0,vh1}, {eo32,eo33,eo34,eo35};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo32,eo33,eo34,eo35}, {ph4,ph5,ph6,ph7}, {vl0,vl1}, {eo32,eo33,eo34,eo35};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo32,eo33,eo34,eo35}, {pl4,pl5,pl6,pl7}, {vh0,vh1}, {eo32,eo33,eo34,eo35};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo36,eo37,eo38,eo39}, {ph4,ph5,ph6,ph7}, {vh2,vh3}, {eo36,eo37,eo38,eo39};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo36,eo37,eo38,eo39}, {ph4,ph5,ph6,ph7}, {vl2,vl3}, {eo36,eo37,eo38,eo39};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo36,eo37,eo38,eo39}, {pl4,pl5,pl6,pl7}, {vh2,vh3}, {eo36,eo37,eo38,eo39};\n";

    private const string Values15Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo40,eo41,eo42,eo43}, {ph4,ph5,ph6,ph7}, {vh0,vh1}, {eo40,eo41,eo42,eo43};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo44,eo45,eo46,eo47}, {ph4,ph5,ph6,ph7}, {vh2,vh3}, {eo44,eo45,eo46,eo47};\n";

    private const string Values15Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vl0, vl1, vl2, vl3}, [eV+8192];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo40,eo41,eo42,eo43}, {ph4,ph5,ph6,ph7}, {vh0,vh1}, {eo40,eo41,eo42,eo43};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo40,eo41,eo42,eo43}, {ph4,ph5,ph6,ph7}, {vl0,vl1}, {eo40,eo41,eo42,eo43};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo40,eo41,eo42,eo43}, {pl4,pl5,pl6,pl7}, {vh0,vh1}, {eo40,eo41,eo42,eo43};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo44,eo45,eo46,eo47}, {ph4,ph5,ph6,ph7}, {vh2,vh3}, {eo44,eo45,eo46,eo47};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo44,eo45,eo46,eo47}, {ph4,ph5,ph6,ph7}, {vl2,vl3}, {eo44,eo45,eo46,eo47};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo44,eo45,eo46,eo47}, {pl4,pl5,pl6,pl7}, {vh2,vh3}, {eo44,eo45,eo46,eo47};\n";

    private const string Values16Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo48,eo49,eo50,eo51}, {ph4,ph5,ph6,ph7}, {vh0,vh1}, {eo48,eo49,eo50,eo51};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo52,eo53,eo54,eo55}, {ph4,ph5,ph6,ph7}, {vh2,vh3}, {eo52,eo53,eo54,eo55};\n";

    private const string Values16Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vl0, vl1, vl2, vl3}, [eV+8192];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo48,eo49,eo50,eo51}, {ph4,ph5,ph6,ph7}, {vh0,vh1}, {eo48,eo49,eo50,eo51};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo48,eo49,eo50,eo51}, {ph4,ph5,ph6,ph7}, {vl0,vl1}, {eo48,eo49,eo50,eo51};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo48,eo49,eo50,eo51}, {pl4,pl5,pl6,pl7}, {vh0,vh1}, {eo48,eo49,eo50,eo51};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo52,eo53,eo54,eo55}, {ph4,ph5,ph6,ph7}, {vh2,vh3}, {eo52,eo53,eo54,eo55};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo52,eo53,eo54,eo55}, {ph4,ph5,ph6,ph7}, {vl2,vl3}, {eo52,eo53,eo54,eo55};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo52,eo53,eo54,eo55}, {pl4,pl5,pl6,pl7}, {vh2,vh3}, {eo52,eo53,eo54,eo55};\n";

    private const string Values17Fast =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo56,eo57,eo58,eo59}, {ph4,ph5,ph6,ph7}, {vh0,vh1}, {eo56,eo57,eo58,eo59};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo60,eo61,eo62,eo63}, {ph4,ph5,ph6,ph7}, {vh2,vh3}, {eo60,eo61,eo62,eo63};\n";

    private const string Values17Exact =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eV;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eV, eBase, %0;\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vh0, vh1, vh2, vh3}, [eV];\n" +
        "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {vl0, vl1, vl2, vl3}, [eV+8192];\n" +
        "}\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo56,eo57,eo58,eo59}, {ph4,ph5,ph6,ph7}, {vh0,vh1}, {eo56,eo57,eo58,eo59};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo56,eo57,eo58,eo59}, {ph4,ph5,ph6,ph7}, {vl0,vl1}, {eo56,eo57,eo58,eo59};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo56,eo57,eo58,eo59}, {pl4,pl5,pl6,pl7}, {vh0,vh1}, {eo56,eo57,eo58,eo59};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo60,eo61,eo62,eo63}, {ph4,ph5,ph6,ph7}, {vh2,vh3}, {eo60,eo61,eo62,eo63};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo60,eo61,eo62,eo63}, {ph4,ph5,ph6,ph7}, {vl2,vl3}, {eo60,eo61,eo62,eo63};\n" +
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {eo60,eo61,eo62,eo63}, {pl4,pl5,pl6,pl7}, {vh2,vh3}, {eo60,eo61,eo62,eo63};\n";

    private const string StoreOutputTile =
        "{\n" +
        ".reg .u64 eT64;\n" +
        ".reg .u32 eBase, eO;\n" +
        "mov.u64 eT64, __dyn_shared_alloca;\n" +
        "cvt.u32.u64 eBase, eT64;\n" +
        "add.u32 eO, eBase, %0;\n" +
        "st.shared.f32 [eO], eo0;\n" +
        "st.shared.f32 [eO+4], eo1;\n" +
        "st.shared.f32 [eO+4352], eo2;\n" +
        "st.shared.f32 [eO+4356], eo3;\n" +
        "st.shared.f32 [eO+32], eo4;\n" +
        "st.shared.f32 [eO+36], eo5;\n" +
        "st.shared.f32 [eO+4384], eo6;\n" +
        "st.shared.f32 [eO+4388], eo7;\n" +
        "st.shared.f32 [eO+64], eo8;\n" +
        "st.shared.f32 [eO+68], eo9;\n" +
        "st.shared.f32 [eO+4416], eo10;\n" +
        "st.shared.f32 [eO+4420], eo11;\n" +
        "st.shared.f32 [eO+96], eo12;\n" +
        "st.shared.f32 [eO+100], eo13;\n" +
        "st.shared.f32 [eO+4448], eo14;\n" +
        "st.shared.f32 [eO+4452], eo15;\n" +
        "st.shared.f32 [eO+128], eo16;\n" +
        "st.shared.f32 [eO+132], eo17;\n" +
        "st.shared.f32 [eO+4480], eo18;\n" +
        "st.shared.f32 [eO+4484], eo19;\n" +
        "st.shared.f32 [eO+160], eo20;\n" +
        "st.shared.f32 [eO+164], eo21;\n" +
        "st.shared.f32 [eO+4512], eo22;\n" +
        "st.shared.f32 [eO+4516], eo23;\n" +
        "st.shared.f32 [eO+192], eo24;\n" +
        "st.shared.f32 [eO+196], eo25;\n" +
        "st.shared.f32 [eO+4544], eo26;\n" +
        "st.shared.f32 [eO+4548], eo27;\n" +
        "st.shared.f32 [eO+224], eo28;\n" +
        "st.shared.f32 [eO+228], eo29;\n" +
        "st.shared.f32 [eO+4576], eo30;\n" +
        "st.shared.f32 [eO+4580], eo31;\n" +
        "st.shared.f32 [eO+256], eo32;\n" +
        "st.shared.f32 [eO+260], eo33;\n" +
        "st.shared.f32 [eO+4608], eo34;\n" +
        "st.shared.f32 [eO+4612], eo35;\n" +
        "st.shared.f32 [eO+288], eo36;\n" +
        "st.shared.f32 [eO+292], eo37;\n" +
        "st.shared.f32 [eO+4640], eo38;\n" +
        "st.shared.f32 [eO+4644], eo39;\n" +
        "st.shared.f32 [eO+320], eo40;\n" +
        "st.shared.f32 [eO+324], eo41;\n" +
        "st.shared.f32 [eO+4672], eo42;\n" +
        "st.shared.f32 [eO+4676], eo43;\n" +
        "st.shared.f32 [eO+352], eo44;\n" +
        "st.shared.f32 [eO+356], eo45;\n" +
        "st.shared.f32 [eO+4704], eo46;\n" +
        "st.shared.f32 [eO+4708], eo47;\n" +
        "st.shared.f32 [eO+384], eo48;\n" +
        "st.shared.f32 [eO+388], eo49;\n" +
        "st.shared.f32 [eO+4736], eo50;\n" +
        "st.shared.f32 [eO+4740], eo51;\n" +
        "st.shared.f32 [eO+416], eo52;\n" +
        "st.shared.f32 [eO+420], eo53;\n" +
        "st.shared.f32 [eO+4768], eo54;\n" +
        "st.shared.f32 [eO+4772], eo55;\n" +
        "st.shared.f32 [eO+448], eo56;\n" +
        "st.shared.f32 [eO+452], eo57;\n" +
        "st.shared.f32 [eO+4800], eo58;\n" +
        "st.shared.f32 [eO+4804], eo59;\n" +
        "st.shared.f32 [eO+480], eo60;\n" +
        "st.shared.f32 [eO+484], eo61;\n" +
        "st.shared.f32 [eO+4832], eo62;\n" +
        "st.shared.f32 [eO+4836], eo63;\n" +
        "}\n";

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

    public void LoadQuery(int step, uint address, bool exact)
    {
        if (exact)
        {
            switch (step)
            {
                case 0: CudaAsm.Emit(Query0Exact, address); break;
                case 1: CudaAsm.Emit(Query1Exact, address); break;
                case 2: CudaAsm.Emit(Query2Exact, address); break;
                case 3: CudaAsm.Emit(Query3Exact, address); break;
                case 4: CudaAsm.Emit(Query4Exact, address); break;
                case 5: CudaAsm.Emit(Query5Exact, address); break;
                case 6: CudaAsm.Emit(Query6Exact, address); break;
                default: CudaAsm.Emit(Query7Exact, address); break;
            }
        }
        else
        {
            switch (step)
            {
                case 0: CudaAsm.Emit(Query0Fast, address); break;
                case 1: CudaAsm.Emit(Query1Fast, address); break;
                case 2: CudaAsm.Emit(Query2Fast, address); break;
                case 3: CudaAsm.Emit(Query3Fast, address); break;
                case 4: CudaAsm.Emit(Query4Fast, address); break;
                case 5: CudaAsm.Emit(Query5Fast, address); break;
                case 6: CudaAsm.Emit(Query6Fast, address); break;
                default: CudaAsm.Emit(Query7Fast, address); break;
            }
        }
    }

    public void ZeroScores() => CudaAsm.Emit(ClearScores);

    public void Scores(int step, uint keyAddress, bool exact)
    {
        if (exact)
        {
            switch (step)
            {
                case 0: CudaAsm.Emit(Scores0Exact, keyAddress); break;
                case 1: CudaAsm.Emit(Scores1Exact, keyAddress); break;
                case 2: CudaAsm.Emit(Scores2Exact, keyAddress); break;
                case 3: CudaAsm.Emit(Scores3Exact, keyAddress); break;
                case 4: CudaAsm.Emit(Scores4Exact, keyAddress); break;
                case 5: CudaAsm.Emit(Scores5Exact, keyAddress); break;
                case 6: CudaAsm.Emit(Scores6Exact, keyAddress); break;
                default: CudaAsm.Emit(Scores7Exact, keyAddress); break;
            }
        }
        else
        {
            switch (step)
            {
                case 0: CudaAsm.Emit(Scores0Fast, keyAddress); break;
                case 1: CudaAsm.Emit(Scores1Fast, keyAddress); break;
                case 2: CudaAsm.Emit(Scores2Fast, keyAddress); break;
                case 3: CudaAsm.Emit(Scores3Fast, keyAddress); break;
                case 4: CudaAsm.Emit(Scores4Fast, keyAddress); break;
                case 5: CudaAsm.Emit(Scores5Fast, keyAddress); break;
                case 6: CudaAsm.Emit(Scores6Fast, keyAddress); break;
                default: CudaAsm.Emit(Scores7Fast, keyAddress); break;
            }
        }
    }

    public void StoreScores(uint stagingAddress) => CudaAsm.Emit(StoreScoreTile, stagingAddress);

    public void ScaleOutput(float rowLow, float rowHigh) => CudaAsm.Emit(Scale, rowLow, rowHigh);

    public void LoadProbabilities(uint step0, uint step1, bool exact)
    {
        if (exact)
            CudaAsm.Emit(ProbabilitiesExact, step0, step1);
        else
            CudaAsm.Emit(ProbabilitiesFast, step0, step1);
    }

    public void Values(int step, int pair, uint valueAddress, bool exact)
    {
        int index = step * 8 + pair;
        if (exact)
        {
            switch (index)
            {
                case 0: CudaAsm.Emit(Values00Exact, valueAddress); break;
                case 1: CudaAsm.Emit(Values01Exact, valueAddress); break;
                case 2: CudaAsm.Emit(Values02Exact, valueAddress); break;
                case 3: CudaAsm.Emit(Values03Exact, valueAddress); break;
                case 4: CudaAsm.Emit(Values04Exact, valueAddress); break;
                case 5: CudaAsm.Emit(Values05Exact, valueAddress); break;
                case 6: CudaAsm.Emit(Values06Exact, valueAddress); break;
                case 7: CudaAsm.Emit(Values07Exact, valueAddress); break;
                case 8: CudaAsm.Emit(Values10Exact, valueAddress); break;
                case 9: CudaAsm.Emit(Values11Exact, valueAddress); break;
                case 10: CudaAsm.Emit(Values12Exact, valueAddress); break;
                case 11: CudaAsm.Emit(Values13Exact, valueAddress); break;
                case 12: CudaAsm.Emit(Values14Exact, valueAddress); break;
                case 13: CudaAsm.Emit(Values15Exact, valueAddress); break;
                case 14: CudaAsm.Emit(Values16Exact, valueAddress); break;
                default: CudaAsm.Emit(Values17Exact, valueAddress); break;
            }
        }
        else
        {
            switch (index)
            {
                case 0: CudaAsm.Emit(Values00Fast, valueAddress); break;
                case 1: CudaAsm.Emit(Values01Fast, valueAddress); break;
                case 2: CudaAsm.Emit(Values02Fast, valueAddress); break;
                case 3: CudaAsm.Emit(Values03Fast, valueAddress); break;
                case 4: CudaAsm.Emit(Values04Fast, valueAddress); break;
                case 5: CudaAsm.Emit(Values05Fast, valueAddress); break;
                case 6: CudaAsm.Emit(Values06Fast, valueAddress); break;
                case 7: CudaAsm.Emit(Values07Fast, valueAddress); break;
                case 8: CudaAsm.Emit(Values10Fast, valueAddress); break;
                case 9: CudaAsm.Emit(Values11Fast, valueAddress); break;
                case 10: CudaAsm.Emit(Values12Fast, valueAddress); break;
                case 11: CudaAsm.Emit(Values13Fast, valueAddress); break;
                case 12: CudaAsm.Emit(Values14Fast, valueAddress); break;
                case 13: CudaAsm.Emit(Values15Fast, valueAddress); break;
                case 14: CudaAsm.Emit(Values16Fast, valueAddress); break;
                default: CudaAsm.Emit(Values17Fast, valueAddress); break;
            }
        }
    }

    public void StoreOutput(uint stagingAddress) => CudaAsm.Emit(StoreOutputTile, stagingAddress);
}
