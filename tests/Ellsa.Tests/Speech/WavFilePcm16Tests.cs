using System.Buffers.Binary;
using Ellsa.Runtime.Codecs.Speech;
using Xunit;

namespace Ellsa.Tests.Speech;

/// <summary>
/// The 16-bit PCM writer (what <c>ellsa speak --wav</c> writes): a 44-byte header our reader and the
/// format's definition agree on, each sample round(32767·x) with ±1 and beyond clipped, fresh random
/// samples read back within half a step.
/// </summary>
public sealed class WavFilePcm16Tests
{
    [Fact]
    public void RandomSamplesRoundTripWithinHalfAStep()
    {
        var random = new Random();
        var samples = Enumerable.Range(0, random.Next(1, 70000)).Select(_ => (float)(1.98 * random.NextDouble() - 0.99)).ToArray();
        int rate = random.Next(8000, 48001);
        using var stream = new MemoryStream();
        WavFile.WritePcm16(stream, samples, rate);
        var bytes = stream.ToArray();
        Assert.Equal(44 + 2 * samples.Length, bytes.Length);
        Assert.Equal((uint)(36 + 2 * samples.Length), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)));
        Assert.Equal((uint)rate * 2, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(28)));
        for (int i = 0; i < samples.Length; i++)
            Assert.Equal((short)Math.Round(samples[i] * 32767.0, MidpointRounding.ToEven), BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(44 + 2 * i)));
        stream.Position = 0;
        var read = WavFile.Decode(stream, "speech.wav");
        Assert.Equal((rate, 1, samples.Length), (read.SampleRate, read.Channels, read.Samples.Length));
        // The reader divides by 32768 (torchaudio), the writer multiplies by 32767 (libsndfile).
        for (int i = 0; i < samples.Length; i++)
            Assert.InRange(read.Samples[i] - samples[i], -1.0 / 32768 - 3.1e-5, 1.0 / 32768 + 3.1e-5);
    }

    [Fact]
    public void ValuesBeyondFullScaleAreClippedAndNaNIsRefused()
    {
        using var stream = new MemoryStream();
        WavFile.WritePcm16(stream, [1.5f, -1.5f, 1f, -1f, 0.5f, 0f], 24000);
        var bytes = stream.ToArray();
        var values = Enumerable.Range(0, 6).Select(i => BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(44 + 2 * i))).ToArray();
        Assert.Equal(new short[] { 32767, -32768, 32767, -32767, 16384, 0 }, values);
        Assert.Throws<ArgumentException>(() => WavFile.WritePcm16(new MemoryStream(), [float.NaN], 24000));
    }
}
