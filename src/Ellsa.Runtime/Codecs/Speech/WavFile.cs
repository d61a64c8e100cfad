using System.Buffers.Binary;

namespace Ellsa.Runtime.Codecs.Speech;

/// <summary>Audio read from a WAV file, downmixed to mono (the mean of the channels) at the file's own rate.</summary>
public sealed record WavAudio(float[] Samples, int SampleRate, int Channels, string Encoding)
{
    /// <summary>The same audio at <paramref name="sampleRate"/>, resampled as torchaudio's default resample does it.</summary>
    public WavAudio Resampled(int sampleRate) =>
        sampleRate == SampleRate ? this : this with { Samples = SincResampler.Resample(Samples, SampleRate, sampleRate), SampleRate = sampleRate };
}

/// <summary>
/// Reads RIFF/WAVE files: integer PCM of 8, 16, 24 or 32 bits and IEEE float of 32 or 64 bits, plain
/// or WAVE_FORMAT_EXTENSIBLE, any number of channels up to 64 (averaged to mono). Integer samples are
/// scaled as torchaudio loads them (int16 / 32768, 8-bit (x − 128) / 128).
///
/// A small reader of our own rather than NAudio's WaveFileReader: NAudio silently shortens a data
/// chunk that runs past the end of the file (and does not expose the length the header declared),
/// so truncated files would pass as shorter audio, and its sample providers do not read 64-bit
/// float. Here every inconsistency is one <see cref="InvalidDataException"/> naming the file, and
/// nothing is allocated from a header field before it is checked against the file's real length.
/// </summary>
public static partial class WavFile
{
    public const long MaxBytes = 1L << 30;
    /// <summary>Samples per channel: 2²⁸ is 4.6 hours at 16 kHz (1 GB of mono floats).</summary>
    public const long MaxFrames = 1L << 28;

    public static WavAudio Read(string path)
    {
        if (Directory.Exists(path))
            throw new InvalidDataException($"{path}: a directory, not a WAV file");
        var info = new FileInfo(path);
        if (!info.Exists)
            throw new InvalidDataException($"{path}: file not found");
        if (info.Length > MaxBytes)
            throw new InvalidDataException($"{path}: {info.Length} bytes, more than a WAV file may have here ({MaxBytes >> 20} MB)");
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: cannot be read: {e.Message}");
        }
        using (stream)
            return Decode(stream, path);
    }

    /// <summary>Decodes a WAV file held in a seekable stream; <paramref name="name"/> names it in errors.</summary>
    public static WavAudio Decode(Stream stream, string name)
    {
        try
        {
            var (format, dataStart, dataBytes) = ReadHeader(stream, name);
            stream.Position = dataStart;
            return new WavAudio(ReadSamples(stream, format, dataBytes, name), format.SampleRate, format.Channels, format.Encoding);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{name}: cannot be read: {e.Message}");
        }
    }

    private static (WavFormat Format, long DataStart, long DataBytes) ReadHeader(Stream stream, string name)
    {
        long length = stream.Length;
        if (length == 0)
            throw WavFormat.Bad(name, "the file is empty");
        Span<byte> head = stackalloc byte[12];
        if (length < head.Length)
            throw WavFormat.Bad(name, $"not a WAV file: {length} bytes, too short for a RIFF header");
        stream.ReadExactly(head);
        var riff = System.Text.Encoding.ASCII.GetString(head[..4]);
        if (riff != "RIFF")
            throw WavFormat.Bad(name, riff switch
            {
                "RF64" => "RF64 WAV files are not supported",
                "RIFX" => "big-endian (RIFX) WAV files are not supported",
                _ => "not a WAV file (no RIFF header)",
            });
        if (!head[8..].SequenceEqual("WAVE"u8))
            throw WavFormat.Bad(name, $"not a WAV file (a RIFF file of type '{Printable(head[8..])}')");

        WavFormat? format = null;
        long dataStart = -1, dataBytes = 0;
        Span<byte> chunkHead = stackalloc byte[8];
        for (long at = head.Length; at + chunkHead.Length <= length && (format is null || dataStart < 0);)
        {
            stream.Position = at;
            stream.ReadExactly(chunkHead);
            var id = chunkHead[..4];
            long size = BinaryPrimitives.ReadUInt32LittleEndian(chunkHead[4..]);
            long body = at + chunkHead.Length, remaining = length - body;
            if (size > remaining)
            {
                string what = id.SequenceEqual("data"u8) ? "the data chunk" : $"chunk '{Printable(id)}'";
                throw WavFormat.Bad(name, $"truncated: {what} declares {size} bytes but only {remaining} follow");
            }
            if (id.SequenceEqual("fmt "u8))
            {
                // Anything past the 40 bytes of an extensible format is extra data no decoder here reads.
                var chunk = new byte[Math.Min(size, 40)];
                stream.ReadExactly(chunk);
                format = WavFormat.Parse(chunk, name);
            }
            else if (id.SequenceEqual("data"u8))
            {
                dataStart = body;
                dataBytes = size;
            }
            at = body + size + (size & 1);
        }
        if (format is null)
            throw WavFormat.Bad(name, dataStart < 0 ? "not a WAV file (no fmt and no data chunk)" : "no fmt chunk: the sample format is unknown");
        if (dataStart < 0)
            throw WavFormat.Bad(name, "no data chunk: the file holds no audio");
        if (dataBytes == 0)
            throw WavFormat.Bad(name, "no audio: the data chunk is empty");
        if (dataBytes % format.BlockAlign != 0)
            throw WavFormat.Bad(name, $"the data chunk's {dataBytes} bytes are not a whole number of {format.BlockAlign}-byte frames");
        if (dataBytes / format.BlockAlign > MaxFrames)
            throw WavFormat.Bad(name, $"{dataBytes / format.BlockAlign} samples per channel, more than {MaxFrames}");
        return (format, dataStart, dataBytes);
    }

    private static float[] ReadSamples(Stream stream, WavFormat format, long dataBytes, string name)
    {
        // Safe to allocate: ReadHeader checked the data chunk against the bytes the file really has.
        var samples = new float[dataBytes / format.BlockAlign];
        int framesPerRead = Math.Max(1, (1 << 16) / format.BlockAlign);
        var buffer = new byte[framesPerRead * format.BlockAlign];
        for (long frame = 0; frame < samples.Length;)
        {
            int frames = (int)Math.Min(framesPerRead, samples.Length - frame);
            var bytes = buffer.AsSpan(0, frames * format.BlockAlign);
            stream.ReadExactly(bytes);
            for (int i = 0; i < frames; i++, frame++)
            {
                float value = (float)format.DecodeFrame(bytes.Slice(i * format.BlockAlign, format.BlockAlign));
                if (!float.IsFinite(value))
                    throw WavFormat.Bad(name, $"sample {frame} is {value} (a NaN, an infinity or beyond float range); float samples must be finite");
                samples[frame] = value;
            }
        }
        return samples;
    }

    private static string Printable(ReadOnlySpan<byte> id)
    {
        var chars = new char[id.Length];
        for (int i = 0; i < id.Length; i++)
            chars[i] = id[i] is >= 0x20 and < 0x7F ? (char)id[i] : '?';
        return new string(chars);
    }
}
