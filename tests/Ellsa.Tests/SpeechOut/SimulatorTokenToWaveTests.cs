using System.Runtime.InteropServices;
using Ellsa.Kernels.Gpu;
using Ellsa.Runtime.Checkpoints;
using Ellsa.Runtime.Codecs.SpeechOut;
using Ellsa.Runtime.Configuration;
using Ellsa.Tests.Gpu;
using Ellsa.Tests.Support;
using Ellsa.Tests.Vision;
using Xunit;

namespace Ellsa.Tests.SpeechOut;

/// <summary>
/// The windowed token-to-wave loop through the GPU kernels (ILGPU's CPU simulator, the `ilgpu-cpu`
/// device) against the CPU backend, on the small golden model: the shortest stream that exercises the
/// caches (a first window that is not the last, then the last window with the mel and source caches
/// and the crossfade). The simulator spends seconds on each estimator pass and the flow runs twenty
/// per window, so the prompt is cut to the golden prompt's first 4 tokens and 7 frames (the windows
/// then hold 22 frames instead of 188); both backends get the same cut prompt.
/// </summary>
[Collection(GpuTestCollection.Name)]
public sealed class SimulatorTokenToWaveTests
{
    private const int PromptTokens = 4, PromptFrames = 7, NoiseFrames = 64, Step = 7;

    [Fact]
    public void TheWindowedLoopOnTheGpuKernelsMatchesTheCpuBackend()
    {
        using var model = ShortPromptModel();
        using var goldens = SpeechOutGoldens.Goldens("small", "stream");
        var tokens = goldens.Ints("n16_step10.tokens")[..(Step + 4)];
        using var cpu = SpeechSpeaker.Load(model.Path, SharedBackends.Cpu);
        Assert.Equal(Step, cpu.MinimumWindowStep);
        var expected = Run(cpu, tokens, out int windows);
        Assert.Equal(2, windows);
        using var backend = IlgpuBackend.CreateCpuSimulator();
        using var gpu = SpeechSpeaker.Load(model.Path, backend);
        var actual = Run(gpu, tokens, out _);
        Assert.Equal(expected.Samples.Length, actual.Samples.Length);
        VisionGoldens.AssertClose("mel on ilgpu-cpu", expected.Mel, actual.Mel, 1e-4);
        VisionGoldens.AssertClose("waveform on ilgpu-cpu", expected.Samples, actual.Samples, 1e-3);
    }

    private static WavePiece Run(SpeechSpeaker speaker, int[] tokens, out int windows)
    {
        var stream = speaker.CreateWaveStream(Step, HiftOptions.Deterministic);
        var first = stream.Feed(tokens);
        var result = WavePiece.Concat([first, stream.Finish()]);
        windows = stream.Windows;
        return result;
    }

    /// <summary>The small golden model with its prompt cut short (its decoder file linked, its ellsa.json copied).</summary>
    private static TempDirectory ShortPromptModel()
    {
        var temp = TestPaths.CreateTemp();
        string source = SpeechOutGoldens.ModelDirectory("small");
        File.CreateSymbolicLink(temp.File(SpeechOutGoldens.WeightsFile), Path.Combine(source, SpeechOutGoldens.WeightsFile));
        File.Copy(Path.Combine(source, EllsaSettings.FileName), temp.File(EllsaSettings.FileName));
        var prompt = SpeechOutGoldens.Prompt("small");
        var noise = new float[FlowConfig.MelChannels * NoiseFrames];
        for (int c = 0; c < FlowConfig.MelChannels; c++)
            Array.Copy(prompt.Noise, c * prompt.NoiseFrames, noise, c * NoiseFrames, NoiseFrames);
        SafetensorsWriter.Write(temp.File(SpeechOutGoldens.PromptFile),
        [
            new TensorData(SpeechPrompt.TokenName, SafetensorsDtype.I32, [1, PromptTokens], MemoryMarshal.AsBytes(prompt.Tokens.AsSpan(0, PromptTokens)).ToArray()),
            Floats(SpeechPrompt.FeatName, [1, PromptFrames, FlowConfig.MelChannels], prompt.Feat.AsSpan(0, PromptFrames * FlowConfig.MelChannels)),
            Floats(SpeechPrompt.EmbeddingName, [1, prompt.Embedding.Length], prompt.Embedding),
            Floats(SpeechPrompt.NoiseName, [1, FlowConfig.MelChannels, NoiseFrames], noise),
        ]);
        return temp;
    }

    private static TensorData Floats(string name, long[] shape, ReadOnlySpan<float> values) =>
        new(name, SafetensorsDtype.F32, shape, MemoryMarshal.AsBytes(values).ToArray());
}
