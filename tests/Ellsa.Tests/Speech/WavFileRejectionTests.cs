using System.Text;
using Ellsa.Runtime.Codecs.Speech;
using Ellsa.Tests.Support;
using Xunit;

namespace Ellsa.Tests.Speech;

/// <summary>
/// Bad WAV input: each case is refused with one InvalidDataException line that starts with the file's
/// path and names the problem; no case allocates from a size the file does not back.
/// </summary>
public sealed class WavFileRejectionTests
{
    private static byte[] Fmt16 => TestWav.Fmt(TestWav.Pcm, 1, 16000, 16);

    private static byte[] Data(int samples) => new byte[2 * samples];

    private static byte[] Truncated(long declared, int present)
    {
        using var stream = new MemoryStream();
        var head = TestWav.Riff(("fmt ", Fmt16));
        stream.Write(head);
        TestWav.WriteChunk(stream, "data", new byte[present], declared);
        return stream.ToArray();
    }

    private static byte[] WithNonFinite(bool isFloat64)
    {
        double[] values = [0.5, -0.25, isFloat64 ? double.PositiveInfinity : double.NaN, 0.1];
        int bits = isFloat64 ? 64 : 32;
        return TestWav.Riff(("fmt ", TestWav.Fmt(TestWav.Float, 1, 16000, bits)), ("data", TestWav.Samples(true, bits, values)));
    }

    public static TheoryData<string, byte[], string> Cases()
    {
        var valid = TestWav.Riff(("fmt ", Fmt16), ("data", Data(100)));
        return new()
        {
            { "empty file", [], "the file is empty" },
            { "too short", Encoding.ASCII.GetBytes("RIFF"), "too short for a RIFF header" },
            { "text", Encoding.ASCII.GetBytes("hello, this is not audio at all\n"), "not a WAV file (no RIFF header)" },
            { "avi", TestWav.RiffOfType("AVI ", ("data", Data(4))), "a RIFF file of type 'AVI '" },
            { "rf64", Encoding.ASCII.GetBytes("RF64").Concat(valid.Skip(4)).ToArray(), "RF64" },
            { "rifx", Encoding.ASCII.GetBytes("RIFX").Concat(valid.Skip(4)).ToArray(), "big-endian" },
            { "header cut", valid[..30], "truncated: chunk 'fmt '" },
            { "data cut", valid[..^3], "truncated: the data chunk declares 200 bytes but only 197 follow" },
            { "data declared huge", Truncated(uint.MaxValue, 10), "truncated: the data chunk declares 4294967295 bytes" },
            { "no fmt", TestWav.Riff(("data", Data(10))), "no fmt chunk" },
            { "no data", TestWav.Riff(("fmt ", Fmt16), ("LIST", new byte[4])), "no data chunk" },
            { "nothing", TestWav.Riff(), "no fmt and no data chunk" },
            { "empty data", TestWav.Riff(("fmt ", Fmt16), ("data", [])), "the data chunk is empty" },
            { "partial frame", TestWav.Riff(("fmt ", TestWav.Fmt(TestWav.Pcm, 2, 16000, 16)), ("data", new byte[10])), "not a whole number of 4-byte frames" },
            { "short fmt", TestWav.Riff(("fmt ", new byte[14]), ("data", Data(4))), "fewer than the 16" },
            { "a-law", TestWav.Riff(("fmt ", TestWav.Fmt(TestWav.ALaw, 1, 8000, 8)), ("data", new byte[8])), "unsupported encoding: A-law" },
            { "mu-law", TestWav.Riff(("fmt ", TestWav.Fmt(TestWav.MuLaw, 1, 8000, 8)), ("data", new byte[8])), "unsupported encoding: µ-law" },
            { "adpcm", TestWav.Riff(("fmt ", TestWav.Fmt(2, 1, 8000, 4, blockAlign: 256)), ("data", new byte[256])), "unsupported encoding: Microsoft ADPCM" },
            { "pcm 12-bit", TestWav.Riff(("fmt ", TestWav.Fmt(TestWav.Pcm, 1, 16000, 12, blockAlign: 2)), ("data", Data(4))), "unsupported encoding: PCM 12-bit" },
            { "float 16-bit", TestWav.Riff(("fmt ", TestWav.Fmt(TestWav.Float, 1, 16000, 16)), ("data", Data(4))), "unsupported encoding: IEEE float 16-bit" },
            { "foreign extensible", TestWav.Riff(("fmt ", TestWav.FmtExtensible(TestWav.Pcm, 1, 16000, 16, 16, foreignGuid: true)), ("data", Data(4))), "extensible sub-format" },
            { "extensible a-law", TestWav.Riff(("fmt ", TestWav.FmtExtensible(TestWav.ALaw, 1, 8000, 8, 8)), ("data", new byte[8])), "unsupported encoding: A-law" },
            { "short extensible", TestWav.Riff(("fmt ", TestWav.Fmt(TestWav.Extensible, 1, 16000, 16, extraBytes: 0)), ("data", Data(4))), "has no sub-format" },
            { "no channels", TestWav.Riff(("fmt ", TestWav.Fmt(TestWav.Pcm, 0, 16000, 16, blockAlign: 2)), ("data", Data(4))), "0 channels" },
            { "65 channels", TestWav.Riff(("fmt ", TestWav.Fmt(TestWav.Pcm, 65, 16000, 16)), ("data", Data(65))), "65 channels" },
            { "rate 0", TestWav.Riff(("fmt ", TestWav.Fmt(TestWav.Pcm, 1, 0, 16)), ("data", Data(4))), "sample rate 0 Hz" },
            { "rate 1 MHz", TestWav.Riff(("fmt ", TestWav.Fmt(TestWav.Pcm, 1, 1_000_000, 16)), ("data", Data(4))), "sample rate 1000000 Hz" },
            { "block align", TestWav.Riff(("fmt ", TestWav.Fmt(TestWav.Pcm, 2, 16000, 16, blockAlign: 2)), ("data", Data(4))), "block align 2 does not match" },
            { "NaN float32", WithNonFinite(false), "sample 2 is NaN" },
            { "infinite float64", WithNonFinite(true), "sample 2 is Infinity" },
        };
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadFilesAreRefusedWithOneLineNamingTheFile(string what, byte[] bytes, string problem)
    {
        using var directory = TestPaths.CreateTemp();
        string path = directory.File(what.Replace(' ', '_') + ".wav");
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<InvalidDataException>(() => WavFile.Read(path));
        Assert.StartsWith(path + ": ", error.Message);
        Assert.Contains(problem, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        using var directory = TestPaths.CreateTemp();
        string path = directory.File("absent.wav");
        var error = Assert.Throws<InvalidDataException>(() => WavFile.Read(path));
        Assert.Equal($"{path}: file not found", error.Message);
    }

    [Fact]
    public void ADirectoryIsNotAWavFile()
    {
        using var directory = TestPaths.CreateTemp();
        var error = Assert.Throws<InvalidDataException>(() => WavFile.Read(directory.Path));
        Assert.Equal($"{directory.Path}: a directory, not a WAV file", error.Message);
    }
}
