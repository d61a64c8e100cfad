using System.Text.Json;
using Ellsa.Runtime.Codecs.Vision;
using Xunit;

namespace Ellsa.Tests.Vision;

/// <summary>
/// File decoding, Pillow's bicubic resize and the processor against the authors' processor run
/// with Pillow: JPEG pixels bit-identical to libjpeg-turbo's, normalised pixels within 1e-5
/// relative L2 (in practice identical), smart_resize's sizes and refusals as theirs.
/// </summary>
public sealed class PreprocessingGoldenTests
{
    public static TheoryData<string> Cases => new(VisionGoldens.Cases);

    [Theory]
    [MemberData(nameof(Cases))]
    public void PixelsMatchTheAuthorsProcessor(string name)
    {
        using var golden = VisionGoldens.Preprocess(name);
        var image = ImageFile.Read(Path.Combine(VisionGoldens.Root, golden.Metadata["image"]));
        if (golden.Has("decoded"))
        {
            // The JPEG as Pillow decodes it, in the file's mode: L is one channel.
            var decoded = golden.Bytes("decoded");
            int channels = (int)golden.Shape("decoded")[2];
            for (int i = 0; i < image.Width * image.Height; i++)
                for (int c = 0; c < 3; c++)
                    Assert.True(decoded[i * channels + (channels == 1 ? 0 : c)] == image.Pixels[3 * i + c], $"decoded pixel {i} channel {c}");
        }
        var pipeline = golden.Metadata["pipeline"] == "direct" ? FramePipeline.Direct : FramePipeline.Wrapper;
        var processor = new ImagePreprocessor(VisionPreprocessorConfig.Load(VisionGoldens.Tokenizer("tiny")));
        var pixels = processor.Process(image, pipeline);
        Assert.Equal(int.Parse(golden.Metadata["height"]), pixels.Height);
        Assert.Equal(int.Parse(golden.Metadata["width"]), pixels.Width);
        var expected = golden.Floats("pixels");
        int differing = expected.Where((v, i) => v != pixels.Values[i]).Count();
        VisionGoldens.AssertClose($"pixels ({differing} of {expected.Length} differ)", expected, pixels.Values, 1e-5);
        // Stronger than the tolerance: decoding, resizing and normalising reproduce every value.
        Assert.Equal(0, differing);
    }

    [Fact]
    public void SmartResizeAgreesWithTheAuthorsOnEveryTabulatedSize()
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(VisionGoldens.Root, "smart_resize.json")));
        int checkedCases = 0;
        foreach (var item in document.RootElement.GetProperty("cases").EnumerateArray())
        {
            int h = item.GetProperty("height").GetInt32(), w = item.GetProperty("width").GetInt32();
            int factor = item.GetProperty("factor").GetInt32();
            int min = item.GetProperty("min_pixels").GetInt32(), max = item.GetProperty("max_pixels").GetInt32();
            if (item.TryGetProperty("error", out _))
            {
                Assert.Throws<ArgumentException>(() => ImagePreprocessor.SmartResize(h, w, factor, min, max));
            }
            else
            {
                var (rh, rw) = ImagePreprocessor.SmartResize(h, w, factor, min, max);
                Assert.True(rh == item.GetProperty("resized_height").GetInt32() && rw == item.GetProperty("resized_width").GetInt32(),
                    $"{w}×{h} (min_pixels {min}): {rw}×{rh}, the authors' {item.GetProperty("resized_width")}×{item.GetProperty("resized_height")}");
            }
            checkedCases++;
        }
        Assert.True(checkedCases >= 30);
    }
}
