using Ellsa.Kernels.Cpu;
using Ellsa.Runtime.Codecs.Vision;
using Ellsa.Tests.Support;
using Xunit;

namespace Ellsa.Tests.Vision;

/// <summary>
/// The tokenizer's encoder against the authors' Emu3VisionVQModel run in float64 on the same
/// weights and pixels: the 2-D output, the temporal output and the quantiser's input within 1e-4
/// relative L2, and the codes identical except where the authors' best and second-best codes are
/// closer than 1e-3 of a typical distance (at most 1 % of codes).
/// </summary>
public sealed class VisionEncoderGoldenTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string config in new[] { "tiny", "wide" })
            foreach (string name in VisionGoldens.Cases)
                data.Add(config, name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EncodesAsTheAuthorsModelDoes(string config, string name)
    {
        using var backend = new CpuBackend();
        using var tokenizer = VisionTokenizer.Load(VisionGoldens.Tokenizer(config), backend);
        using var input = VisionGoldens.Preprocess(name);
        using var golden = VisionGoldens.Model(config, name);
        var shape = input.Shape("pixels");
        var encoding = tokenizer.Encode(input.Floats("pixels"), (int)shape[1], (int)shape[2]);

        VisionGoldens.AssertClose("conv2d_out", golden.Floats("conv2d_out"), encoding.Conv2dOut, 1e-4);
        VisionGoldens.AssertClose("encoder_out", golden.Floats("encoder_out"), encoding.EncoderOut, 1e-4);
        VisionGoldens.AssertClose("latent", golden.Floats("latent"), encoding.Latent, 1e-4);
        VisionGoldens.AssertCodes(golden.Ints("codes"), golden.Floats("margin"), encoding.Codes);
    }

    /// <summary>
    /// One tokenizer through every frame twice, with decodes in between: each pass takes the tensors
    /// the last pass of its size left (their old contents from another image), and still matches.
    /// </summary>
    [Fact]
    public void PassesThatReuseTheirScratchStillMatch()
    {
        using var backend = new CpuBackend();
        using var tokenizer = VisionTokenizer.Load(VisionGoldens.Tokenizer("tiny"), backend);
        for (int round = 0; round < 2; round++)
        {
            foreach (string name in VisionGoldens.Cases)
            {
                using var input = VisionGoldens.Preprocess(name);
                using var golden = VisionGoldens.Model("tiny", name);
                var shape = input.Shape("pixels");
                var encoding = tokenizer.Encode(input.Floats("pixels"), (int)shape[1], (int)shape[2]);
                VisionGoldens.AssertClose($"{name} latent, round {round}", golden.Floats("latent"), encoding.Latent, 1e-4);
                VisionGoldens.AssertCodes(golden.Ints("codes"), golden.Floats("margin"), encoding.Codes);
            }
            using var decoded = VisionGoldens.Model("tiny", "decode_random_7x11");
            var grid = decoded.Shape("codes");
            var image = tokenizer.Decode(decoded.Ints("codes"), (int)grid[0], (int)grid[1]);
            VisionGoldens.AssertClose($"reconstruction, round {round}", decoded.Floats("reconstruction"), image, 1e-4);
        }
    }
}

/// <summary>The decoder against the authors' <c>decode</c> (first frame) on their codes and on random code grids: within 1e-4 relative L2.</summary>
public sealed class VisionDecoderGoldenTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string config in new[] { "tiny", "wide" })
            foreach (string name in new[] { "photo_200_png", "direct_portrait_97x211_png", "decode_random_7x11", "decode_random_3x5" })
                data.Add(config, name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void DecodesAsTheAuthorsModelDoes(string config, string name)
    {
        using var backend = new CpuBackend();
        using var tokenizer = VisionTokenizer.Load(VisionGoldens.Tokenizer(config), backend);
        using var golden = VisionGoldens.Model(config, name);
        var shape = golden.Shape("codes");
        var image = tokenizer.Decode(golden.Ints("codes"), (int)shape[0], (int)shape[1]);
        VisionGoldens.AssertClose("reconstruction", golden.Floats("reconstruction"), image, 1e-4);
    }
}
