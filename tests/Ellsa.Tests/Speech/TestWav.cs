using System.Buffers.Binary;
using System.Text;

namespace Ellsa.Tests.Speech;

/// <summary>
/// A WAV writer for the tests, independent of the reader: RIFF chunks assembled byte by byte, so
/// tests can also build what no writer would (wrong sizes, odd tags, truncations).
/// </summary>
internal static class TestWav
{
    public const ushort Pcm = 1, Float = 3, ALaw = 6, MuLaw = 7, Extensible = 0xFFFE;

    public static byte[] Riff(params (string Id, byte[] Body)[] chunks) => RiffOfType("WAVE", chunks);

    public static byte[] RiffOfType(string type, params (string Id, byte[] Body)[] chunks)
    {
        using var stream = new MemoryStream();
        stream.Write(Encoding.ASCII.GetBytes("RIFF"));
        stream.Write(new byte[4]);
        stream.Write(Encoding.ASCII.GetBytes(type));
        foreach (var (id, body) in chunks)
            WriteChunk(stream, id, body, body.Length);
        var bytes = stream.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), (uint)(bytes.Length - 8));
        return bytes;
    }

    /// <summary>A chunk whose size field says <paramref name="declared"/> whatever the body holds (a word-aligned pad byte after odd bodies).</summary>
    public static void WriteChunk(Stream stream, string id, byte[] body, long declared)
    {
        stream.Write(Encoding.ASCII.GetBytes(id));
        Span<byte> size = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(size, (uint)declared);
        stream.Write(size);
        stream.Write(body);
        if (body.Length % 2 == 1)
            stream.WriteByte(0);
    }

    public static byte[] Fmt(ushort tag, int channels, int rate, int bits, int? blockAlign = null, int extraBytes = -1)
    {
        var fmt = new byte[extraBytes < 0 ? 16 : 18 + extraBytes];
        int align = blockAlign ?? channels * bits / 8;
        BinaryPrimitives.WriteUInt16LittleEndian(fmt, tag);
        BinaryPrimitives.WriteUInt16LittleEndian(fmt.AsSpan(2), (ushort)channels);
        BinaryPrimitives.WriteUInt32LittleEndian(fmt.AsSpan(4), (uint)rate);
        BinaryPrimitives.WriteUInt32LittleEndian(fmt.AsSpan(8), (uint)(rate * align));
        BinaryPrimitives.WriteUInt16LittleEndian(fmt.AsSpan(12), (ushort)align);
        BinaryPrimitives.WriteUInt16LittleEndian(fmt.AsSpan(14), (ushort)bits);
        if (extraBytes >= 0)
            BinaryPrimitives.WriteUInt16LittleEndian(fmt.AsSpan(16), (ushort)extraBytes);
        return fmt;
    }

    /// <summary>WAVE_FORMAT_EXTENSIBLE: cbSize 22, valid bits, channel mask, then the KSDATAFORMAT sub-format GUID.</summary>
    public static byte[] FmtExtensible(ushort subTag, int channels, int rate, int bits, int validBits, bool foreignGuid = false)
    {
        var fmt = Fmt(Extensible, channels, rate, bits, extraBytes: 22);
        BinaryPrimitives.WriteUInt16LittleEndian(fmt.AsSpan(18), (ushort)validBits);
        BinaryPrimitives.WriteUInt32LittleEndian(fmt.AsSpan(20), (1u << channels) - 1);
        // A GUID outside the KSDATAFORMAT_SUBTYPE family (its tail differs), as vendor formats have.
        var guid = foreignGuid ? new Guid("00000092-0000-0010-8000-00aa00389b72") : new Guid($"{subTag:x8}-0000-0010-8000-00aa00389b71");
        guid.TryWriteBytes(fmt.AsSpan(24));
        return fmt;
    }

    /// <summary>Little-endian sample bytes, interleaved, for integer PCM of 8/16/24/32 bits or float of 32/64.</summary>
    public static byte[] Samples(bool isFloat, int bits, IReadOnlyList<double> interleaved)
    {
        int width = bits / 8;
        var bytes = new byte[interleaved.Count * width];
        for (int i = 0; i < interleaved.Count; i++)
        {
            var at = bytes.AsSpan(i * width);
            double v = interleaved[i];
            switch (isFloat, bits)
            {
                case (true, 32): BinaryPrimitives.WriteSingleLittleEndian(at, (float)v); break;
                case (true, 64): BinaryPrimitives.WriteDoubleLittleEndian(at, v); break;
                case (false, 8): at[0] = (byte)(int)v; break;
                case (false, 16): BinaryPrimitives.WriteInt16LittleEndian(at, (short)v); break;
                case (false, 24):
                    int s = (int)v;
                    at[0] = (byte)s;
                    at[1] = (byte)(s >> 8);
                    at[2] = (byte)(s >> 16);
                    break;
                default: BinaryPrimitives.WriteInt32LittleEndian(at, (int)v); break;
            }
        }
        return bytes;
    }
}
