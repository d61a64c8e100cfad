using Ellsa.Kernels.Gpu;
using Ellsa.Tests.Gpu.Checks;
using Xunit;

namespace Ellsa.Tests.Gpu;

/// <summary>
/// Every kernel on ILGPU's CPU simulator against the CPU backend (fresh shapes each run), with
/// the simulator's shared-memory reductions (what the model runs there) and with the warp
/// shuffles CUDA runs.
/// </summary>
[Collection(GpuTestCollection.Name)]
public sealed class SimulatorKernelTests
{
    public static TheoryData<string> Checks => new(KernelChecks.All.Select(c => c.Name));

    [Theory]
    [MemberData(nameof(Checks))]
    public void KernelMatchesCpuBackend(string check) =>
        KernelChecks.Get(check).Run(options => IlgpuBackend.CreateCpuSimulator(options), Seeds.For(check));

    /// <summary>
    /// The op-level checks again with emulated warp shuffles. The network-level speech.encoder-stream
    /// (over three minutes on the simulator) runs once, above: every op it calls is checked here with
    /// shuffles by its own op check.
    /// </summary>
    public static TheoryData<string> ShuffleChecks => new(KernelChecks.All.Select(c => c.Name).Where(name => name != "speech.encoder-stream"));

    [Theory]
    [MemberData(nameof(ShuffleChecks))]
    public void KernelWithWarpShufflesMatchesCpuBackend(string check) =>
        KernelChecks.Get(check).Run(options => IlgpuBackend.CreateCpuSimulator(options with { SimulatorShuffles = true }), Seeds.For(check + "/shuffles"));
}

/// <summary>The same checks on a CUDA device (native tensor cores instead of their C# model).</summary>
[Collection(GpuTestCollection.Name)]
public sealed class CudaKernelTests
{
    public static TheoryData<string> Checks => new(KernelChecks.All.Select(c => c.Name));

    [CudaTheory]
    [MemberData(nameof(Checks))]
    public void KernelMatchesCpuBackend(string check) =>
        KernelChecks.Get(check).Run(options => IlgpuBackend.CreateCuda(options), Seeds.For(check));
}
