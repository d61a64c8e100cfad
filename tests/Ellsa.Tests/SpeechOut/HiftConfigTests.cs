using System.Text.Json;
using Ellsa.Runtime.Codecs.SpeechOut;
using Ellsa.Runtime.Configuration;
using Xunit;

namespace Ellsa.Tests.SpeechOut;

/// <summary>
/// ellsa.json's "speech_decoder.hift" section: the release's values by default, the goldens'
/// sections read as written, and every bad value refused as one line naming ellsa.json and the
/// dotted field.
/// </summary>
public sealed class HiftConfigTests
{
    private static HiftConfig Read(string sectionJson)
    {
        using var document = JsonDocument.Parse($$$"""{"speech_decoder": {"hift": {{{sectionJson}}}}}""");
        var root = new JsonSection("ellsa.json", "", document.RootElement);
        return HiftConfig.Read(root.Section("speech_decoder")!.Value.Section("hift"), "ellsa.json");
    }

    /// <summary>The section the goldens README proposes, every key at the release's value.</summary>
    private const string ReleaseSection = """
        {"in_channels": 80, "base_channels": 512, "nb_harmonics": 8, "sampling_rate": 24000, "nsf_alpha": 0.1,
         "nsf_sigma": 0.003, "nsf_voiced_threshold": 10, "upsample_rates": [8, 5, 3], "upsample_kernel_sizes": [16, 11, 7],
         "istft_params": {"n_fft": 16, "hop_len": 4}, "resblock_kernel_sizes": [3, 7, 11],
         "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]], "source_resblock_kernel_sizes": [7, 7, 11],
         "source_resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]], "lrelu_slope": 0.1, "audio_limit": 0.99,
         "f0_predictor": {"num_class": 1, "in_channels": 80, "cond_channels": 512}}
        """;

    [Fact]
    public void NoSectionIsTheRelease()
    {
        foreach (var config in new[] { HiftConfig.Read(null, "ellsa.json"), Read("{}"), Read(ReleaseSection) })
        {
            Assert.Equal((80, 512, 8, 24000, 16, 4, 512), (config.InChannels, config.BaseChannels, config.NbHarmonics, config.SamplingRate,
                config.NFft, config.HopLength, config.F0Channels));
            Assert.Equal((0.1, 0.003, 10.0, 0.1, 0.99), (config.NsfAlpha, config.NsfSigma, config.NsfVoicedThreshold, config.LreluSlope, config.AudioLimit));
            Assert.Equal([8, 5, 3], config.UpsampleRates);
            Assert.Equal([16, 11, 7], config.UpsampleKernelSizes);
            Assert.Equal([3, 7, 11], config.ResblockKernelSizes);
            Assert.Equal([7, 7, 11], config.SourceResblockKernelSizes);
            Assert.All(config.ResblockDilationSizes.Concat(config.SourceResblockDilationSizes), d => Assert.Equal([1, 3, 5], d));
            // 20 ms per frame at 24 kHz; the source's STFT frames per stage frame (generator.py:L288-296).
            Assert.Equal(480, config.SamplesPerFrame);
            Assert.Equal([256, 128, 64], Enumerable.Range(0, 3).Select(config.StageChannels));
            Assert.Equal([15, 3, 1], Enumerable.Range(0, 3).Select(config.SourceDownRate));
        }
    }

    [Fact]
    public void TheGoldensSectionsAreReadAsWritten()
    {
        var wide = HiftGoldens.Config("wide");
        Assert.Equal((96, 5, 16000, 20, 5, 320, 48), (wide.BaseChannels, wide.NbHarmonics, wide.SamplingRate, wide.NFft, wide.HopLength,
            wide.SamplesPerFrame, wide.F0Channels));
        Assert.Equal([3, 5], wide.ResblockKernelSizes);
        Assert.Equal([[1, 2], [2, 6]], wide.ResblockDilationSizes);
        Assert.Equal([[1, 2], [1, 3], [1]], wide.SourceResblockDilationSizes);
        Assert.Equal(0.95, wide.AudioLimit);
        Assert.Equal((48, 480), (HiftGoldens.Config("small").BaseChannels, HiftGoldens.Config("small").SamplesPerFrame));
    }

    [Theory]
    [InlineData("""{"upsample_rate": [8]}""", "speech_decoder.hift.upsample_rate is not a known key")]
    [InlineData("""{"istft_params": {"nfft": 16}}""", "speech_decoder.hift.istft_params.nfft is not a known key")]
    [InlineData("""{"istft_params": 16}""", "speech_decoder.hift.istft_params must be an object")]
    [InlineData("""{"f0_predictor": {"num_classes": 1}}""", "speech_decoder.hift.f0_predictor.num_classes is not a known key")]
    [InlineData("""{"f0_predictor": {"num_class": 2}}""", "speech_decoder.hift.f0_predictor.num_class must be at most 1, got 2")]
    [InlineData("""{"f0_predictor": {"in_channels": 81}}""", "speech_decoder.hift.f0_predictor.in_channels is 81, but the F0 predictor reads the generator's mel")]
    [InlineData("""{"f0_predictor": {"cond_channels": 0}}""", "speech_decoder.hift.f0_predictor.cond_channels must be at least 1, got 0")]
    [InlineData("""{"upsample_kernel_sizes": [16, 11]}""", "speech_decoder.hift.upsample_kernel_sizes has 2 entries; give 3 (one per upsample rate)")]
    [InlineData("""{"upsample_kernel_sizes": [16, 12, 7]}""", "speech_decoder.hift.upsample_kernel_sizes[1] is 12 with rate 5: the kernel must be at least the rate")]
    [InlineData("""{"upsample_kernel_sizes": [4, 11, 7]}""", "speech_decoder.hift.upsample_kernel_sizes[0] is 4 with rate 8")]
    [InlineData("""{"upsample_rates": [0, 5, 3]}""", "speech_decoder.hift.upsample_rates[0] is 0, outside 1…64")]
    [InlineData("""{"upsample_rates": []}""", "speech_decoder.hift.upsample_rates has 0 entries, outside 1…8")]
    [InlineData("""{"upsample_rates": [8, 5, "3"]}""", "speech_decoder.hift.upsample_rates[2] must be a non-negative integer")]
    [InlineData("""{"upsample_rates": [64, 64, 64], "upsample_kernel_sizes": [64, 64, 64]}""", "speech_decoder.hift.upsample_rates × istft_params.hop_len gives 1048576 samples per mel frame, more than 65536")]
    [InlineData("""{"istft_params": {"n_fft": 15}}""", "speech_decoder.hift.istft_params.n_fft is 15, not even")]
    [InlineData("""{"istft_params": {"hop_len": 17}}""", "speech_decoder.hift.istft_params.hop_len is 17, more than n_fft 16")]
    [InlineData("""{"istft_params": {"hop_len": 16}}""", "speech_decoder.hift.istft_params.hop_len is 16 with n_fft 16: the Hann window's overlap-add vanishes somewhere")]
    [InlineData("""{"istft_params": {"n_fft": 4096, "hop_len": 8}}""", "speech_decoder.hift.istft_params.n_fft is 4096: one frame's 960 samples cannot be reflect-padded by n_fft/2 = 2048")]
    [InlineData("""{"istft_params": {"n_fft": 4098}}""", "speech_decoder.hift.istft_params.n_fft must be at most 4096, got 4098")]
    [InlineData("""{"resblock_kernel_sizes": [3, 7]}""", "speech_decoder.hift.resblock_dilation_sizes has 3 lists for 2 resblock_kernel_sizes; give one per kernel")]
    [InlineData("""{"resblock_kernel_sizes": [4, 7, 11]}""", "speech_decoder.hift.resblock_kernel_sizes[0] is 4, not odd")]
    [InlineData("""{"source_resblock_kernel_sizes": [7, 8, 11]}""", "speech_decoder.hift.source_resblock_kernel_sizes[1] is 8, not odd")]
    [InlineData("""{"source_resblock_kernel_sizes": [7, 7]}""", "speech_decoder.hift.source_resblock_kernel_sizes has 2 entries; give 3")]
    [InlineData("""{"source_resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5]]}""", "speech_decoder.hift.source_resblock_dilation_sizes has 2 lists for 3 stages; give one per stage")]
    [InlineData("""{"resblock_dilation_sizes": [[1, 3], [], [1]]}""", "speech_decoder.hift.resblock_dilation_sizes[1] has 0 dilations, outside 1…8")]
    [InlineData("""{"resblock_dilation_sizes": [[1, 3], [1, 65], [1]]}""", "speech_decoder.hift.resblock_dilation_sizes[1][1] is 65, outside 1…64")]
    [InlineData("""{"resblock_dilation_sizes": [[1, "3"]]}""", "speech_decoder.hift.resblock_dilation_sizes[0][1] must be a non-negative integer")]
    [InlineData("""{"resblock_dilation_sizes": [1, 3, 5]}""", "speech_decoder.hift.resblock_dilation_sizes[0] must be an array of integers")]
    [InlineData("""{"resblock_dilation_sizes": 1}""", "speech_decoder.hift.resblock_dilation_sizes must be an array of arrays of integers")]
    [InlineData("""{"base_channels": 4}""", "speech_decoder.hift.base_channels is 4: halved at each of the 3 stages it leaves no channel")]
    [InlineData("""{"base_channels": 100000}""", "speech_decoder.hift.base_channels must be at most 65536, got 100000")]
    [InlineData("""{"in_channels": 0}""", "speech_decoder.hift.in_channels must be at least 1, got 0")]
    [InlineData("""{"nb_harmonics": 65}""", "speech_decoder.hift.nb_harmonics must be at most 64, got 65")]
    [InlineData("""{"sampling_rate": 100}""", "speech_decoder.hift.sampling_rate must be at least 1000, got 100")]
    [InlineData("""{"nsf_alpha": -0.1}""", "speech_decoder.hift.nsf_alpha must be 0 or more, got -0.1")]
    [InlineData("""{"nsf_sigma": "small"}""", "speech_decoder.hift.nsf_sigma must be a number")]
    [InlineData("""{"audio_limit": 0}""", "speech_decoder.hift.audio_limit must be positive, got 0")]
    [InlineData("""{"lrelu_slope": true}""", "speech_decoder.hift.lrelu_slope must be a number")]
    public void BadValuesAreNamed(string section, string message)
    {
        var error = Assert.Throws<ConfigException>(() => Read(section));
        Assert.StartsWith("ellsa.json: ", error.Message);
        Assert.Contains(message, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    /// <summary>The envelope check against a direct overlap-add of the squared window over a long signal's trimmed output.</summary>
    [Theory]
    [InlineData(16, 4)]
    [InlineData(20, 5)]
    [InlineData(16, 16)]
    [InlineData(6, 4)]
    public void TheSmallestEnvelopeIsTheOverlapAddsMinimum(int nfft, int hop)
    {
        var window = HiftConfig.HannWindow(nfft);
        int frames = 40, length = (frames - 1) * hop + nfft;
        var sum = new double[length];
        for (int t = 0; t < frames; t++)
            for (int n = 0; n < nfft; n++)
                sum[t * hop + n] += (double)window[n] * window[n];
        double direct = sum.Skip(nfft / 2).Take(length - nfft).Min();
        Assert.Equal(direct, HiftConfig.MinimumEnvelope(nfft, hop), 12);
    }
}
