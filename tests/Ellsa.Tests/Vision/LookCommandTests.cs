using System.Buffers.Binary;
using System.IO.Compression;
using System.Text.Json;
using Ellsa.Tests.Support;
using Xunit;

namespace Ellsa.Tests.Vision;

/// <summary>
/// <c>ellsa look</c> through the real process: codes and pixels as the authors' tokenizer and
/// processor give them (the vision goldens), a reconstruction, and one error line for every kind
/// of bad input (unreadable, truncated, unsupported, absurd sizes, a missing or inconsistent
/// vision_tokenizer/).
/// </summary>
public sealed class LookCommandTests
{
    private static string Image(string name) => Path.Combine(VisionGoldens.Root, "images", name);

    [Fact]
    public void CodesAndPixelsAreTheAuthorsAndTheReconstructionIsAnImage()
    {
        using var temp = TestPaths.CreateTemp();
        var result = CliRunner.Process("look", "--model", TestPaths.Tiny, "--image", Image("landscape_320x240.jpg"),
            "--image", Image("rgba_256.png"), "--output", temp.File("codes.json"), "--pixels", "--reconstruct", temp.File("seen.png"), "--device", "cpu");
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = JsonDocument.Parse(File.ReadAllBytes(temp.File("codes.json")));
        var root = json.RootElement;
        Assert.Equal([25, 25], root.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        string[] cases = ["landscape_320x240_jpg", "rgba_256_png"];
        for (int i = 0; i < cases.Length; i++)
        {
            using var golden = VisionGoldens.Model("tiny", cases[i]);
            var codes = root.GetProperty("codes")[i].EnumerateArray().Select(e => e.GetInt32()).ToArray();
            VisionGoldens.AssertCodes(golden.Ints("codes"), golden.Floats("margin"), codes);
            using var preprocess = VisionGoldens.Preprocess(cases[i]);
            var pixels = root.GetProperty("pixels")[i].EnumerateArray()
                .SelectMany(channel => channel.EnumerateArray().SelectMany(row => row.EnumerateArray().Select(v => v.GetSingle()))).ToArray();
            Assert.Equal(preprocess.Floats("pixels"), pixels);
        }
        foreach (string file in new[] { "seen-0.png", "seen-1.png" })
        {
            var image = Ellsa.Runtime.Codecs.Vision.ImageFile.Read(temp.File(file));
            Assert.Equal((200, 200), (image.Width, image.Height));
        }
    }

    public static TheoryData<string, Func<string, byte[]>, string> BadImages() => new()
    {
        { "not an image", _ => "hello, this is text"u8.ToArray(), "not a readable image" },
        { "truncated JPEG", _ => File.ReadAllBytes(Image("photo_200.jpg"))[..4000], "truncated" },
        { "truncated PNG", _ => File.ReadAllBytes(Image("photo_200.png"))[..20000], "truncated" },
        { "BMP", _ => Bmp(4, 4), "not supported" },
        { "huge PNG header", _ => PngHeader(100_000, 100_000), "sides must be" },
        { "zero-width PNG header", _ => PngHeader(0, 10), "frame.png" },
    };

    [Theory]
    [MemberData(nameof(BadImages))]
    public void ABadImageEndsWithOneLineNamingTheFile(string label, Func<string, byte[]> bytes, string problem)
    {
        using var temp = TestPaths.CreateTemp();
        File.WriteAllBytes(temp.File("frame.png"), bytes(label));
        var result = CliRunner.Process("look", "--model", TestPaths.Tiny, "--image", temp.File("frame.png"), "--output", temp.File("codes.json"), "--device", "cpu");
        CliAssert.OneErrorLine(result, label, "frame.png", problem, TimeSpan.FromSeconds(10));
        Assert.False(File.Exists(temp.File("codes.json")));
    }

    [Fact]
    public void AMissingFileOrTokenizerIsNamed()
    {
        using var temp = TestPaths.CreateTemp();
        var missing = CliRunner.Process("look", "--model", TestPaths.Tiny, "--image", temp.File("nope.png"), "--output", temp.File("o.json"));
        CliAssert.OneErrorLine(missing, "missing image", "nope.png", "not found", TimeSpan.FromSeconds(10));
        var noTokenizer = CliRunner.Process("look", "--model", temp.Path, "--image", Image("photo_200.png"), "--output", temp.File("o.json"), "--device", "cpu");
        CliAssert.OneErrorLine(noTokenizer, "no vision_tokenizer", "vision_tokenizer", "no vision_tokenizer", TimeSpan.FromSeconds(10));
    }

    public static TheoryData<string, string, string> InconsistentTokenizers() => new()
    {
        // config.json against the tensors (a wider ch than the weights were made with), against GroupNorm, against itself, against the processor.
        { "ch", "64", "has shape" },
        { "codebook_size", "128", "quantize.embedding.weight" },
        { "ch_mult", "[1, 1, 1.5, 1]", "ch_mult" },
        { "embed_dim", "8", "z_channels" },
        { "num_res_blocks", "1000", "num_res_blocks" },
    };

    [Theory]
    [MemberData(nameof(InconsistentTokenizers))]
    public void ATokenizerWhoseConfigDisagreesWithItsTensorsIsNamed(string key, string value, string problem)
    {
        using var temp = TestPaths.CreateTemp();
        string folder = Path.Combine(temp.Path, "vision_tokenizer");
        Directory.CreateDirectory(folder);
        foreach (string file in Directory.GetFiles(Path.Combine(TestPaths.Tiny, "vision_tokenizer")))
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        string config = Path.Combine(folder, "config.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(config))!;
        json[key] = System.Text.Json.Nodes.JsonNode.Parse(value);
        File.WriteAllText(config, json.ToJsonString());
        var result = CliRunner.Process("look", "--model", temp.Path, "--image", Image("photo_200.png"), "--output", temp.File("o.json"), "--device", "cpu");
        CliAssert.OneErrorLine(result, key, "vision_tokenizer", problem, TimeSpan.FromSeconds(10));
    }

    private static byte[] Bmp(int width, int height)
    {
        int row = (width * 3 + 3) / 4 * 4, size = 54 + row * height;
        var bytes = new byte[size];
        bytes[0] = (byte)'B';
        bytes[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(2), size);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(22), height);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(28), 24);
        return bytes;
    }

    /// <summary>A PNG whose header claims the given size, with one tiny data chunk: the size must be refused before pixels are allocated.</summary>
    private static byte[] PngHeader(int width, int height)
    {
        using var stream = new MemoryStream();
        stream.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8;
        header[9] = 2;
        Chunk(stream, "IHDR", header);
        using (var compressed = new MemoryStream())
        {
            using (var z = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
                z.Write(new byte[64]);
            Chunk(stream, "IDAT", compressed.ToArray());
        }
        Chunk(stream, "IEND", []);
        return stream.ToArray();
    }

    /// <summary>PNG's CRC-32 (ISO 3309), bit by bit: a few test chunks need no table.</summary>
    private static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int i = 0; i < 8; i++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }

    private static void Chunk(Stream stream, string type, byte[] data)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        stream.Write(length);
        var typed = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        stream.Write(typed);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typed));
        stream.Write(crc);
    }
}
