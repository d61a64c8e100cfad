using System.Text.Json;
using Ellsa.Runtime.Codecs.Speech;
using Ellsa.Tests.Support;
using Ellsa.Tests.Vision;
using Xunit;

namespace Ellsa.Tests.Speech;

/// <summary>
/// The resampler against torchaudio's own <c>functional.resample</c> (defaults) run in float64
/// (tests/goldens/resample, written by tests/reference/make_resample_goldens.py): random signals at the
/// usual rates, up and down, and the prompt recording read from its WAV file and taken to 16 kHz.
/// </summary>
public sealed class ResampleGoldenTests
{
    private static string GoldenPath => Path.Combine(TestPaths.Root, "tests", "goldens", "resample", "resample.safetensors");

    public static TheoryData<string> Cases()
    {
        using var golden = new VisionGoldens.Tensors(GoldenPath);
        return new(JsonSerializer.Deserialize<Dictionary<string, string>>(golden.Metadata["cases"])!.Keys.Where(k => k != "prompt"));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesTorchaudio(string name)
    {
        using var golden = new VisionGoldens.Tensors(GoldenPath);
        var rates = JsonSerializer.Deserialize<Dictionary<string, string>>(golden.Metadata["cases"])![name].Split(',');
        var output = SincResampler.Resample(golden.Floats(name + ".input"), int.Parse(rates[0]), int.Parse(rates[1]));
        VisionGoldens.AssertClose(name, golden.Floats(name + ".output"), output, 1e-6);
    }

    [Fact]
    public void ThePromptWavAt16kHzMatchesTorchaudioLoadAndResample()
    {
        using var golden = new VisionGoldens.Tensors(GoldenPath);
        var audio = WavFile.Read(Path.Combine(TestPaths.SharedData, "audio", "cosyvoice_prompt_emo_10004_b_0.wav")).Resampled(LhotseFbank.SampleRate);
        Assert.Equal(LhotseFbank.SampleRate, audio.SampleRate);
        VisionGoldens.AssertClose("prompt", golden.Floats("prompt.output"), audio.Samples, 1e-6);
    }

    [Fact]
    public void SameRateIsACopyAndBadRatesAreRefused()
    {
        float[] samples = [0.1f, -0.2f, 0.3f];
        Assert.Equal(samples, SincResampler.Resample(samples, 16000, 16000));
        Assert.Throws<ArgumentOutOfRangeException>(() => SincResampler.Resample(samples, 0, 16000));
        Assert.Throws<ArgumentOutOfRangeException>(() => SincResampler.Resample(samples, 16000, -1));
        Assert.Empty(SincResampler.Resample([], 44100, 16000));
    }
}
