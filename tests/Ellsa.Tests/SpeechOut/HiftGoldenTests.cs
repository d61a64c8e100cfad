using Ellsa.Kernels.Gpu;
using Ellsa.Runtime.Codecs.SpeechOut;
using Ellsa.Tests.Gpu;
using Ellsa.Tests.Support;
using Ellsa.Tests.Vision;
using Xunit;

namespace Ellsa.Tests.SpeechOut;

/// <summary>
/// HiFT against the authors' HiFTGenerator.inference run in float64 on the same weights, with the
/// sine phases and noise frozen at zero (HiftOptions.Deterministic): for both configs, every
/// offline length (3 to 151 tokens' mel), the waveform within 1e-3 relative L2; on the debug case
/// the F0 within 1e-4 and the source, conv_post and waveform within 1e-3; and the authors'
/// windowed token2wav loop (source cache, Hamming crossfade) over the goldens' window mels.
/// </summary>
public sealed class HiftGoldenTests
{
    public static TheoryData<string, string> OfflineCases() => SpeechOutGoldens.OfflineCaseData();

    public static TheoryData<string> Configs => new(SpeechOutGoldens.Configs);

    [Theory]
    [MemberData(nameof(OfflineCases))]
    public void SynthesisesTheAuthorsWaveform(string config, string name)
    {
        var (hift, tensors) = SpeechOutGoldens.LoadHift(config, SharedBackends.Cpu);
        using var _ = tensors;
        using var __ = hift;
        using var offline = SpeechOutGoldens.Goldens(config, "offline");
        var mel = offline.Floats(name + ".mel");
        int frames = (int)offline.Shape(name + ".mel")[2];
        var samples = hift.Synthesize(mel, frames, HiftOptions.Deterministic);
        Assert.Equal(frames * hift.SamplesPerFrame, samples.Length);
        VisionGoldens.AssertClose($"{config}/{name} waveform", offline.Floats(name + ".wave"), samples, 1e-3);
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void IntermediatesMatchTheAuthors(string config)
    {
        var (hift, tensors) = SpeechOutGoldens.LoadHift(config, SharedBackends.Cpu);
        using var _ = tensors;
        using var __ = hift;
        using var debug = SpeechOutGoldens.Goldens(config, "debug");
        int frames = (int)debug.Shape("mel")[2];
        var output = hift.Run(debug.Floats("mel"), frames, HiftOptions.Deterministic, default, keepConvPost: true);
        VisionGoldens.AssertClose($"{config} f0", debug.Floats("hift.f0"), output.F0, 1e-4);
        VisionGoldens.AssertClose($"{config} source", debug.Floats("hift.source"), output.Source, 1e-3);
        VisionGoldens.AssertClose($"{config} conv_post", debug.Floats("hift.conv_post"), output.ConvPost!, 1e-3);
        VisionGoldens.AssertClose($"{config} waveform", debug.Floats("wave"), output.Samples, 1e-3);
    }

    /// <summary>
    /// THEIR token2wav's HiFT half (cv/cli/model.py:L324-356) written out here over the mels the
    /// goldens fed each window (cache frames included): the previous window's source tail replaces
    /// the start of the source, the first L samples are crossfaded with the previous tail by a
    /// symmetric Hamming window of 2L, and a non-final window keeps its last L samples back.
    /// </summary>
    [Theory]
    [MemberData(nameof(Configs))]
    public void TheWindowedLoopWithTheSourceCacheMatchesTheAuthors(string config)
    {
        var (hift, tensors) = SpeechOutGoldens.LoadHift(config, SharedBackends.Cpu);
        using var _ = tensors;
        using var __ = hift;
        int cache = SpeechOutGoldens.SettingsInt(config, "streaming", "source_cache_len");
        var hamming = Enumerable.Range(0, 2 * cache).Select(n => 0.54 - 0.46 * Math.Cos(2 * Math.PI * n / (2 * cache - 1))).ToArray();
        using var stream = SpeechOutGoldens.Goldens(config, "stream");
        foreach (string name in stream.Names.Where(n => n.EndsWith(".wave", StringComparison.Ordinal)).Select(n => n[..^".wave".Length]))
        {
            var mels = stream.Floats(name + ".mels");
            int total = (int)stream.Shape(name + ".mels")[2];
            var melFrames = stream.Ints(name + ".mel_frames");
            var windows = stream.Ints(name + ".windows");
            var pieces = stream.Ints(name + ".pieces");
            float[]? cachedSource = null, cachedSpeech = null;
            var wave = new List<float>();
            int first = 0;
            for (int w = 0; w < melFrames.Length; w++)
            {
                int frames = melFrames[w];
                var mel = new float[hift.Config.InChannels * frames];
                for (int c = 0; c < hift.Config.InChannels; c++)
                    Array.Copy(mels, c * total + first, mel, c * frames, frames);
                first += frames;
                var output = hift.Run(mel, frames, HiftOptions.Deterministic, cachedSource);
                var y = output.Samples;
                if (cachedSpeech is not null)
                {
                    for (int i = 0; i < cache; i++)
                        y[i] = (float)(y[i] * hamming[i] + cachedSpeech[i] * hamming[cache + i]);
                }
                bool final = windows[3 * w + 2] != 0;
                int emitted = final ? y.Length : y.Length - cache;
                Assert.Equal(pieces[w], emitted);
                wave.AddRange(y.Take(emitted));
                cachedSource = output.Source[^cache..];
                cachedSpeech = y[^cache..];
            }
            VisionGoldens.AssertClose($"{config}/{name} streamed waveform", stream.Floats(name + ".wave"), wave.ToArray(), 1e-3);
        }
    }
}

/// <summary>
/// HiFT through the GPU kernels (ILGPU's CPU simulator) against the authors' goldens: the shortest
/// offline case of the wide config (its BF16 source convolutions take the GPU's bf16 product; the
/// simulator is slow, so one case).
/// </summary>
[Collection(GpuTestCollection.Name)]
public sealed class SimulatorHiftTests
{
    [Fact]
    public void SynthesisesTheAuthorsWaveformThroughTheGpuKernels()
    {
        const string config = "wide";
        using var backend = IlgpuBackend.CreateCpuSimulator();
        var (hift, tensors) = SpeechOutGoldens.LoadHift(config, backend);
        using var _ = tensors;
        using var __ = hift;
        using var offline = SpeechOutGoldens.Goldens(config, "offline");
        string name = SpeechOutGoldens.OfflineCases(config)[0];
        var samples = hift.Synthesize(offline.Floats(name + ".mel"), (int)offline.Shape(name + ".mel")[2], HiftOptions.Deterministic);
        VisionGoldens.AssertClose($"{config}/{name} waveform on ilgpu-cpu", offline.Floats(name + ".wave"), samples, 1e-3);
    }
}
