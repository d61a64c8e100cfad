using Ellsa.Kernels.Gpu;
using Ellsa.Tests.Gpu;
using Ellsa.Tests.Vision;

namespace Ellsa.Tests.SpeechOut;

/// <summary>The speech LM through the CUDA kernels on ILGPU's CPU simulator, on a short golden case of each config.</summary>
[Collection(GpuTestCollection.Name)]
public sealed class SpeechLmSimulatorTests
{
    [Theory]
    [InlineData("small", "n1")]
    [InlineData("wide", "n1")]
    public void GreedyDecodingMatchesTheAuthors(string config, string name)
    {
        using var backend = IlgpuBackend.CreateCpuSimulator();
        using var golden = SpeechLmGoldens.Lm(config);
        using var loaded = new SpeechLmGoldens.Loaded(config, backend);
        var hidden = golden.Floats(name + ".hidden");
        using var stream = loaded.Stream();
        stream.Feed(hidden, hidden.Length / loaded.Projection.Config.InputSize);
        stream.Finish();
        VisionGoldens.AssertClose($"{config} {name} features", golden.Floats(name + ".features"), stream.Features.SelectMany(r => r).ToArray(), 1e-5);
        VisionGoldens.AssertClose($"{config} {name} first logits", golden.Floats(name + ".first_logits"), stream.FirstLogits.ToArray(), 1e-4);
        Assert.Equal(golden.Ints(name + ".tokens"), stream.Tokens);
        Assert.Equal(golden.Ints(name + ".call_tokens"), stream.Calls.Select(c => c.Tokens));
    }
}
