using System.Text.Json;
using Ellsa.Runtime.Codecs.Speech;
using Ellsa.Tests.Support;
using Ellsa.Tests.Vision;
using Xunit;

namespace Ellsa.Tests.Speech;

/// <summary>
/// The fbank against lhotse 1.30.3's own <c>Fbank(FbankConfig(num_mel_bins=128))</c> run in float64
/// (tests/goldens/speech/clips.safetensors, see its README): speech, silence, noise, clipping and odd
/// lengths from 0.1 s to 8 s, offline and streamed.
/// </summary>
public sealed class FbankGoldenTests
{
    private const int MelBins = 128;

    private static string ClipsPath => Path.Combine(TestPaths.Root, "tests", "goldens", "speech", "clips.safetensors");

    public static TheoryData<string> Clips()
    {
        using var clips = new VisionGoldens.Tensors(ClipsPath);
        using var list = JsonDocument.Parse(clips.Metadata["clips"]);
        return new(list.RootElement.EnumerateArray().Select(c => c.GetProperty("name").GetString()!));
    }

    [Theory]
    [MemberData(nameof(Clips))]
    public void OfflineAndStreamedFbankMatchLhotse(string clip)
    {
        using var clips = new VisionGoldens.Tensors(ClipsPath);
        var pcm = clips.Floats(clip + ".pcm");
        var expected = clips.Floats(clip + ".fbank");
        Assert.Equal(clips.Shape(clip + ".fbank")[0], LhotseFbank.FrameCount(pcm.Length));
        VisionGoldens.AssertClose($"{clip} fbank", expected, LhotseFbank.Compute(pcm, MelBins), 1e-4);
        // One second at a time, as the session feeds it.
        var rows = FbankStreamTests.Stream(pcm, Enumerable.Repeat(LhotseFbank.SampleRate, pcm.Length / LhotseFbank.SampleRate + 1), MelBins);
        VisionGoldens.AssertClose($"{clip} streamed fbank", expected, rows.SelectMany(r => r).ToArray(), 1e-4);
    }
}
