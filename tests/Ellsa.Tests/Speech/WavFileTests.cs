using Ellsa.Runtime.Codecs.Speech;
using Ellsa.Tests.Support;
using Xunit;

namespace Ellsa.Tests.Speech;

/// <summary>
/// WAV files of every supported encoding, written by <see cref="TestWav"/> from fresh random samples
/// and read back: integer PCM scaled as torchaudio loads it, channels averaged, extensible headers,
/// chunks before and after the audio.
/// </summary>
public sealed class WavFileTests
{
    public static TheoryData<bool, int, int, bool> Encodings()
    {
        var data = new TheoryData<bool, int, int, bool>();
        foreach (var (isFloat, bits) in new[] { (false, 8), (false, 16), (false, 24), (false, 32), (true, 32), (true, 64) })
            foreach (int channels in new[] { 1, 2, 3 })
                foreach (bool extensible in new[] { false, true })
                    data.Add(isFloat, bits, channels, extensible);
        return data;
    }

    /// <summary>A random sample as stored, and the value it stands for.</summary>
    private static (double Stored, double Value) RandomSample(Random random, bool isFloat, int bits) => (isFloat, bits) switch
    {
        (true, 32) => Same((float)(2 * random.NextDouble() - 1)),
        (true, _) => Same(2 * random.NextDouble() - 1),
        (false, 8) => random.Next(0, 256) is var b ? (b, (b - 128) / 128.0) : default,
        (false, _) => random.NextInt64(-(1L << (bits - 1)), 1L << (bits - 1)) is var s ? (s, s / Math.Pow(2, bits - 1)) : default,
    };

    private static (double, double) Same(double value) => (value, value);

    [Theory]
    [MemberData(nameof(Encodings))]
    public void ReadsEverySupportedEncodingBack(bool isFloat, int bits, int channels, bool extensible)
    {
        int seed = Random.Shared.Next();
        var random = new Random(seed);
        int frames = random.Next(1, 3000), rate = new[] { 16000, 22050, 44100, 48000 }[random.Next(4)];
        var stored = new double[frames * channels];
        var expected = new float[frames];
        for (int f = 0; f < frames; f++)
        {
            double sum = 0;
            for (int c = 0; c < channels; c++)
            {
                var (raw, value) = RandomSample(random, isFloat, bits);
                stored[f * channels + c] = raw;
                sum += value;
            }
            expected[f] = (float)(sum / channels);
        }
        ushort tag = isFloat ? TestWav.Float : TestWav.Pcm;
        var fmt = extensible ? TestWav.FmtExtensible(tag, channels, rate, bits, bits) : TestWav.Fmt(tag, channels, rate, bits);
        // An odd-sized chunk before the audio (with its pad byte) and a chunk after it.
        var bytes = TestWav.Riff(("fmt ", fmt), ("LIST", new byte[7]), ("data", TestWav.Samples(isFloat, bits, stored)), ("id3 ", new byte[10]));

        using var directory = TestPaths.CreateTemp();
        string path = directory.File("audio.wav");
        File.WriteAllBytes(path, bytes);
        var audio = WavFile.Read(path);

        Assert.Equal(rate, audio.SampleRate);
        Assert.Equal(channels, audio.Channels);
        Assert.Equal($"{(isFloat ? "IEEE float" : "PCM")} {bits}-bit{(extensible ? " (extensible)" : "")}", audio.Encoding);
        Assert.Equal(frames, audio.Samples.Length);
        for (int f = 0; f < frames; f++)
            Assert.True(Math.Abs(expected[f] - audio.Samples[f]) <= (channels == 1 ? 0 : 1e-7), $"seed {seed}: sample {f} is {audio.Samples[f]}, expected {expected[f]}");
    }

    [Fact]
    public void IntegerFullScaleMapsAsTorchaudioLoadsIt()
    {
        var pcm16 = TestWav.Riff(("fmt ", TestWav.Fmt(TestWav.Pcm, 1, 16000, 16)), ("data", TestWav.Samples(false, 16, [-32768, 32767, 0, 1])));
        Assert.Equal([-1f, 32767f / 32768, 0f, 1f / 32768], WavFile.Decode(new MemoryStream(pcm16), "pcm16").Samples);
        var pcm8 = TestWav.Riff(("fmt ", TestWav.Fmt(TestWav.Pcm, 1, 16000, 8)), ("data", TestWav.Samples(false, 8, [0, 128, 255])));
        Assert.Equal([-1f, 0f, 127f / 128], WavFile.Decode(new MemoryStream(pcm8), "pcm8").Samples);
        var pcm24 = TestWav.Riff(("fmt ", TestWav.Fmt(TestWav.Pcm, 1, 16000, 24)), ("data", TestWav.Samples(false, 24, [-8388608, 8388607, -1])));
        Assert.Equal([-1f, (float)(8388607 / 8388608.0), -1f / 8388608], WavFile.Decode(new MemoryStream(pcm24), "pcm24").Samples);
    }

    [Fact]
    public void ExtensibleWithFewerValidBitsReadsTheContainer()
    {
        // 20 valid bits left-justified in a 24-bit container: the container's scale applies.
        var bytes = TestWav.Riff(("fmt ", TestWav.FmtExtensible(TestWav.Pcm, 1, 16000, 24, 20)), ("data", TestWav.Samples(false, 24, [0x100000, -0x400000])));
        Assert.Equal([0.125f, -0.5f], WavFile.Decode(new MemoryStream(bytes), "ext20").Samples);
    }

    [Fact]
    public void AcceptsAnEighteenByteFormatAndAudioBeforeTheFormat()
    {
        var data = TestWav.Samples(false, 16, [1000, -2000, 3000]);
        float[] expected = [1000f / 32768, -2000f / 32768, 3000f / 32768];
        var cbSize = TestWav.Riff(("fmt ", TestWav.Fmt(TestWav.Pcm, 1, 16000, 16, extraBytes: 0)), ("data", data));
        Assert.Equal(expected, WavFile.Decode(new MemoryStream(cbSize), "cbsize").Samples);
        var dataFirst = TestWav.Riff(("data", data), ("fmt ", TestWav.Fmt(TestWav.Pcm, 1, 16000, 16)));
        Assert.Equal(expected, WavFile.Decode(new MemoryStream(dataFirst), "data-first").Samples);
    }

    [Fact]
    public void ReadsThePromptRecording()
    {
        var audio = WavFile.Read(Path.Combine(TestPaths.SharedData, "audio", "cosyvoice_prompt_emo_10004_b_0.wav"));
        Assert.Equal(24000, audio.SampleRate);
        Assert.Equal(1, audio.Channels);
        Assert.Equal("PCM 16-bit", audio.Encoding);
        Assert.Equal(80355, audio.Samples.Length);
        Assert.All(audio.Samples, s => Assert.True(s * 32768 == Math.Round(s * 32768) && Math.Abs(s) <= 1));
    }
}
