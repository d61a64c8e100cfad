using System.Buffers.Binary;

namespace Ellsa.Runtime.Codecs.Speech;

public static partial class WavFile
{
    /// <summary>
    /// Writes mono 16-bit PCM, the format the authors' evaluation gets from <c>sf.write(path, wav, 24000)</c>
    /// (libsndfile's default subtype for .wav): each sample scaled by 32767, rounded to nearest, values
    /// beyond ±1 clipped; a plain 44-byte RIFF/WAVE header.
    /// </summary>
    public static void WritePcm16(Stream stream, ReadOnlySpan<float> samples, int sampleRate)
    {
        if (sampleRate < 1)
            throw new ArgumentException($"sample rate {sampleRate}: must be positive");
        long dataBytes = 2L * samples.Length;
        if (dataBytes > uint.MaxValue - 36)
            throw new ArgumentException($"{samples.Length} samples are too many for one WAV file");
        Span<byte> header = stackalloc byte[44];
        "RIFF"u8.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (uint)(36 + dataBytes));
        "WAVEfmt "u8.CopyTo(header[8..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], 16);
        BinaryPrimitives.WriteUInt16LittleEndian(header[20..], 1);
        BinaryPrimitives.WriteUInt16LittleEndian(header[22..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], (uint)sampleRate);
        BinaryPrimitives.WriteUInt32LittleEndian(header[28..], (uint)sampleRate * 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header[32..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header[34..], 16);
        "data"u8.CopyTo(header[36..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[40..], (uint)dataBytes);
        stream.Write(header);
        var buffer = new byte[Math.Min(samples.Length, 1 << 15) * 2];
        for (int start = 0; start < samples.Length; start += buffer.Length / 2)
        {
            int count = Math.Min(buffer.Length / 2, samples.Length - start);
            for (int i = 0; i < count; i++)
                BinaryPrimitives.WriteInt16LittleEndian(buffer.AsSpan(2 * i), Pcm16(samples[start + i]));
            stream.Write(buffer, 0, 2 * count);
        }
    }

    private static short Pcm16(float sample)
    {
        if (float.IsNaN(sample))
            throw new ArgumentException("a NaN sample cannot be written as PCM");
        return (short)Math.Clamp(Math.Round(sample * 32767.0, MidpointRounding.ToEven), short.MinValue, short.MaxValue);
    }
}
