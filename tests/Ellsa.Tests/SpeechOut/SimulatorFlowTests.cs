using Ellsa.Kernels.Gpu;
using Ellsa.Tests.Gpu;
using Xunit;

namespace Ellsa.Tests.SpeechOut;

/// <summary>
/// The flow on the GPU kernels (ILGPU's CPU simulator, the `ilgpu-cpu` device) against the
/// authors' goldens, on the wide config (BF16 matrices, 4 heads over 24-wide attention): the debug
/// case through the encoder, μ and the first Euler step's two estimator passes, every kernel the
/// flow runs. The remaining 9 steps repeat those kernels and the simulator spends ~30 s per
/// estimator pass on its reductions, so the call stops there; the Euler update's elementwise ops
/// are the simulator op checks' business.
/// </summary>
[Collection(GpuTestCollection.Name)]
public sealed class SimulatorFlowTests
{
    [Fact]
    public void RunsTheEncoderAndEstimatorAsTheAuthorsModelDoesThroughTheGpuKernels()
    {
        using var backend = IlgpuBackend.CreateCpuSimulator();
        var (flow, tensors) = SpeechOutGoldens.LoadFlow("wide", backend);
        using var _ = tensors;
        using var __ = flow;
        using var goldens = SpeechOutGoldens.Goldens("wide", "debug");
        var prompt = SpeechOutGoldens.Prompt("wide");
        var probe = new RecordingProbe(stopAfter: "estimator.uncond");
        var tokens = goldens.Ints("tokens");
        Assert.Throws<RecordingProbe.StoppedException>(() => flow.Infer(tokens, prompt, finalize: true, probe));
        FlowGoldenTests.AssertStagesMatch(goldens, probe, flow.Config.InputSize, prompt.Tokens.Length + tokens.Length);
    }
}
