using Ellsa.Kernels.Gpu;
using Ellsa.Tests.Gpu.Checks;
using Xunit;

namespace Ellsa.Tests.Gpu;

/// <summary>The tiny model's float64-reference goldens through <c>--device ilgpu-cpu</c> (the CUDA kernels on the simulator).</summary>
[Collection(GpuTestCollection.Name)]
public sealed class SimulatorGoldenTests
{
    public static TheoryData<string> Cases => new(GoldenChecks.Cases.Select(c => c.ToString()));

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardLogitsMatchTheReference(string golden)
    {
        using var backend = IlgpuBackend.CreateCpuSimulator();
        GoldenChecks.Forward(backend, GoldenChecks.Get(golden));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void BlockDecodeMatchesTheReference(string golden)
    {
        using var backend = IlgpuBackend.CreateCpuSimulator();
        GoldenChecks.Generate(backend, GoldenChecks.Get(golden));
    }

    /// <summary>The prefill projections through the tensor-core GEMM (its C# model of ldmatrix/mma) in exact mode.</summary>
    [Fact]
    public void ForwardThroughTheTensorCoreGemmMatchesTheReference()
    {
        using var backend = IlgpuBackend.CreateCpuSimulator(new IlgpuOptions { EmulateTensorCores = true });
        GoldenChecks.Forward(backend, GoldenFiles.Variant("merged_f32", "speech_block"));
        GoldenChecks.Forward(backend, GoldenFiles.Tiny("speech_block"));
    }
}

/// <summary>The same goldens on a CUDA device.</summary>
[Collection(GpuTestCollection.Name)]
public sealed class CudaGoldenTests
{
    public static TheoryData<string> Cases => new(GoldenChecks.Cases.Select(c => c.ToString()));

    [CudaTheory]
    [MemberData(nameof(Cases))]
    public void ForwardLogitsMatchTheReference(string golden)
    {
        using var backend = IlgpuBackend.CreateCuda();
        GoldenChecks.Forward(backend, GoldenChecks.Get(golden));
    }

    [CudaTheory]
    [MemberData(nameof(Cases))]
    public void BlockDecodeMatchesTheReference(string golden)
    {
        using var backend = IlgpuBackend.CreateCuda();
        GoldenChecks.Generate(backend, GoldenChecks.Get(golden));
    }
}
