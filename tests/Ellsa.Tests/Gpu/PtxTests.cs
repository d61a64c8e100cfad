using System.Text.RegularExpressions;
using Ellsa.Kernels.Gpu.Platform;
using Xunit;

namespace Ellsa.Tests.Gpu;

/// <summary>
/// Every kernel compiled offline to PTX for sm_90 (no GPU needed): the inline PTX must survive
/// ILGPU's parser and codegen, and the instructions the design rests on must be there.
/// </summary>
public sealed class PtxTests
{
    private static readonly Lazy<IReadOnlyDictionary<string, string>> Compiled =
        new(() => PtxCompiler.CompileForHopper().ToDictionary(k => k.Name, k => k.Assembly));

    private static string Ptx(string name) => Compiled.Value.TryGetValue(name, out var ptx)
        ? ptx
        : throw new Xunit.Sdk.XunitException($"no kernel {name}; compiled: {string.Join(", ", Compiled.Value.Keys)}");

    private static int Count(string ptx, string text) => Regex.Matches(ptx, Regex.Escape(text)).Count;

    [Fact]
    public void EveryKernelCompilesWithoutLocalMemory()
    {
        Assert.True(Compiled.Value.Count >= 22, $"only {Compiled.Value.Count} kernels compiled");
        foreach (var (name, ptx) in Compiled.Value)
        {
            Assert.Contains(".entry", ptx);
            // ILGPU routes inline-PTX outputs and out parameters through local memory; none of the
            // kernels may have any (it would mean spills in every hot loop).
            Assert.False(ptx.Contains("__local_depot"), $"{name} uses local memory");
        }
    }

    [Fact]
    public void ElementwiseFunctorsUseTheHardwareTranscendentals()
    {
        // exp through ex2, softplus's log through lg2, Snake's sine through sin, cosine through cos: no software fallbacks.
        Assert.Contains("ex2.approx", Ptx("ElementwiseKernels.Unary<Silu>"));
        Assert.Contains("lg2.approx", Ptx("ElementwiseKernels.Unary<Mish>"));
        Assert.Contains("sin.approx", Ptx("ElementwiseKernels.Binary<Snake>"));
        // HiFT's spectrum: magnitude by ex2, the phase's cosine by cos.
        Assert.Contains("ex2.approx", Ptx("ElementwiseKernels.Binary<PolarReal>"));
        Assert.Contains("cos.approx", Ptx("ElementwiseKernels.Binary<PolarReal>"));
        Assert.Contains("ex2.approx", Ptx("ElementwiseKernels.Unary<Elu>"));
    }

    [Fact]
    public void MatrixVectorProductReadsWeightsInSixteenByteLoads()
    {
        var ptx = Ptx("GemvKernels.Gemv");
        Assert.True(Count(ptx, "ld.global.v4.b32") >= 8, "the unrolled bf16 loop issues eight 16-byte weight loads");
        Assert.Contains("shfl.sync.bfly.b32", ptx);
        Assert.Contains("ld.global.v4.b32", Ptx("UtilityKernels.Copy"));
        Assert.Contains("st.global.v4.b32", Ptx("UtilityKernels.Copy"));
    }

    [Theory]
    [InlineData("MmaGemmKernels.Gemm<PtxMmaCore,ExactOperands>", 64)]
    [InlineData("MmaGemmKernels.Gemm<PtxMmaCore,FastOperands>", 32)]
    public void TensorCoreGemmUsesMmaLdmatrixAndCpAsync(string name, int mmas)
    {
        var ptx = Ptx(name);
        // Two k16 steps per K tile, 4 × 4 tiles per warp, twice in exact mode (hi and lo operands);
        // per step four A loads (eight when exact) and two B loads.
        Assert.Equal(mmas, Count(ptx, "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32"));
        Assert.Equal(mmas == 64 ? 20 : 12, Count(ptx, "ldmatrix.sync.aligned.m8n8.x4.shared.b16"));
        Assert.True(Count(ptx, "cp.async.cg.shared.global") >= (mmas == 64 ? 6 : 4));
        Assert.Contains("cp.async.commit_group", ptx);
        Assert.Contains("cp.async.wait_group 1", ptx);
        Assert.Contains("bar.sync", ptx);
        // The shared-memory symbol the inline PTX names must be the one ILGPU declares, 16-byte aligned.
        Assert.Matches(@"\.extern \.shared \.align 16 \.b8 __dyn_shared_alloca\[\]", ptx);
        Assert.Contains(".reg .f32 ea<64>;", ptx);
        Assert.Equal(mmas == 64, ptx.Contains("{el0,el1,el2,el3}"));
    }

    [Theory]
    [InlineData("FlashAttentionKernels.Flash<PtxAttentionCore,ExactOperands>", 192)]
    [InlineData("FlashAttentionKernels.Flash<PtxAttentionCore,FastOperands>", 64)]
    public void TensorCoreAttentionUsesMmaAndTransposedFragmentLoads(string name, int mmas)
    {
        var ptx = Ptx(name);
        // S = Q·Kᵀ: 8 k16 steps × 4 key tiles; O += P·V: 2 k16 steps × 16 dimension tiles; three products each when exact.
        Assert.Equal(mmas, Count(ptx, "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32"));
        // V is the B operand through ldmatrix.trans of its [key][dim] rows: one load (two when exact) per (step, tile pair).
        Assert.Equal(mmas == 192 ? 32 : 16, Count(ptx, "ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16"));
        Assert.Contains("cp.async.cg.shared.global", ptx);
        Assert.Contains("cp.async.wait_group 0", ptx);
        Assert.Contains(".reg .f32 eo<64>;", ptx);
        Assert.Matches(@"\.extern \.shared \.align 16 \.b8 __dyn_shared_alloca\[\]", ptx);
    }

    [Fact]
    public void ModuleTargetsAnArchitectureWithTheInstructionsItUses()
    {
        // mma.m16n8k16.bf16, ldmatrix and cp.async need sm_80; ILGPU 1.5.3 caps .target there.
        var target = Regex.Match(Ptx("MmaGemmKernels.Gemm<PtxMmaCore,ExactOperands>"), @"\.target sm_(\d+)");
        Assert.True(target.Success);
        Assert.True(int.Parse(target.Groups[1].Value) >= 80, $"target sm_{target.Groups[1].Value}");
    }

    [Fact]
    public void AttentionAndArgMaxReduceWithWarpShuffles()
    {
        Assert.Contains("shfl.sync", Ptx("DecodeAttentionKernels.Partial"));
        Assert.Contains("shfl.sync", Ptx("ArgMaxKernels.Partial"));
        Assert.Contains("ex2.approx", Ptx("DecodeAttentionKernels.Partial"));
    }
}
