using System.Buffers.Binary;

namespace Ellsa.Runtime.Codecs.Speech;

/// <summary>What a WAV file's <c>fmt </c> chunk says, validated: integer PCM of 8, 16, 24 or 32 bits or IEEE
/// float of 32 or 64 bits, plainly or through WAVE_FORMAT_EXTENSIBLE, 1…64 channels.</summary>
internal sealed record WavFormat(bool IsFloat, int Channels, int SampleRate, int BitsPerSample, bool Extensible)
{
    public const int MaxChannels = 64;
    public const int MinSampleRate = 1000;
    public const int MaxSampleRate = 384_000;

    private const ushort TagPcm = 1, TagFloat = 3, TagExtensible = 0xFFFE;

    // KSDATAFORMAT_SUBTYPE_*: the format tag in the first two bytes, then this fixed tail.
    private static readonly byte[] SubFormatTail = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71];

    public int BytesPerSample => BitsPerSample / 8;

    public int BlockAlign => Channels * BytesPerSample;

    public string Encoding => (IsFloat ? $"IEEE float {BitsPerSample}-bit" : $"PCM {BitsPerSample}-bit") + (Extensible ? " (extensible)" : "");

    /// <summary>Parses the body of a <c>fmt </c> chunk; <paramref name="name"/> names the file in errors.</summary>
    public static WavFormat Parse(ReadOnlySpan<byte> chunk, string name)
    {
        if (chunk.Length < 16)
            throw Bad(name, $"the fmt chunk has {chunk.Length} bytes, fewer than the 16 a WAV format needs");
        ushort tag = BinaryPrimitives.ReadUInt16LittleEndian(chunk);
        int channels = BinaryPrimitives.ReadUInt16LittleEndian(chunk[2..]);
        uint rate = BinaryPrimitives.ReadUInt32LittleEndian(chunk[4..]);
        int blockAlign = BinaryPrimitives.ReadUInt16LittleEndian(chunk[12..]);
        int bits = BinaryPrimitives.ReadUInt16LittleEndian(chunk[14..]);
        bool extensible = tag == TagExtensible;
        if (extensible)
        {
            if (chunk.Length < 40 || BinaryPrimitives.ReadUInt16LittleEndian(chunk[16..]) < 22)
                throw Bad(name, $"a WAVE_FORMAT_EXTENSIBLE fmt chunk of {chunk.Length} bytes has no sub-format (it needs 40)");
            var subFormat = chunk.Slice(24, 16);
            if (!subFormat[2..].SequenceEqual(SubFormatTail))
                throw Bad(name, $"unsupported encoding: extensible sub-format {new Guid(subFormat)}; PCM and IEEE float are supported");
            tag = BinaryPrimitives.ReadUInt16LittleEndian(subFormat);
        }
        bool isFloat = tag == TagFloat;
        if (tag is not (TagPcm or TagFloat))
            throw Bad(name, $"unsupported encoding: {TagName(tag)}; PCM (8, 16, 24, 32-bit) and IEEE float (32, 64-bit) are supported");
        if (isFloat ? bits is not (32 or 64) : bits is not (8 or 16 or 24 or 32))
            throw Bad(name, $"unsupported encoding: {(isFloat ? "IEEE float" : "PCM")} {bits}-bit; PCM (8, 16, 24, 32-bit) and IEEE float (32, 64-bit) are supported");
        if (channels is < 1 or > MaxChannels)
            throw Bad(name, $"{channels} channels; 1…{MaxChannels} are supported");
        if (rate is < MinSampleRate or > MaxSampleRate)
            throw Bad(name, $"sample rate {rate} Hz; {MinSampleRate}…{MaxSampleRate} Hz are supported");
        var format = new WavFormat(isFloat, channels, (int)rate, bits, extensible);
        if (blockAlign != format.BlockAlign)
            throw Bad(name, $"block align {blockAlign} does not match {channels} channel(s) of {bits}-bit samples ({format.BlockAlign})");
        return format;
    }

    /// <summary>One frame (all channels) averaged to mono, in [−1, 1] for integer PCM as torchaudio normalises it.</summary>
    public double DecodeFrame(ReadOnlySpan<byte> frame)
    {
        double sum = 0;
        for (int c = 0, at = 0; c < Channels; c++, at += BytesPerSample)
        {
            var bytes = frame[at..];
            double value = (IsFloat, BitsPerSample) switch
            {
                (false, 8) => (bytes[0] - 128) / 128.0,
                (false, 16) => BinaryPrimitives.ReadInt16LittleEndian(bytes) / 32768.0,
                (false, 24) => ((bytes[0] | bytes[1] << 8 | bytes[2] << 16) << 8 >> 8) / 8388608.0,
                (false, _) => BinaryPrimitives.ReadInt32LittleEndian(bytes) / 2147483648.0,
                (true, 32) => BinaryPrimitives.ReadSingleLittleEndian(bytes),
                (true, _) => BinaryPrimitives.ReadDoubleLittleEndian(bytes),
            };
            sum += value;
        }
        return Channels == 1 ? sum : sum / Channels;
    }

    private static string TagName(ushort tag) => tag switch
    {
        2 => "Microsoft ADPCM (format tag 2)",
        6 => "A-law (format tag 6)",
        7 => "µ-law (format tag 7)",
        0x11 => "IMA ADPCM (format tag 0x11)",
        0x50 or 0x55 => $"MPEG audio (format tag 0x{tag:X})",
        _ => $"format tag 0x{tag:X4}",
    };

    internal static InvalidDataException Bad(string name, string problem) => new($"{name}: {problem}");
}
