using Ellsa.Kernels.Cpu;
using Ellsa.Runtime.Codecs.Vision;
using Ellsa.Runtime.Duplex;
using Ellsa.Tests.Support;
using Xunit;

namespace Ellsa.Tests.Vision;

/// <summary>
/// The session encodes camera frames itself: an acting session fed image files, and the same fed
/// RGB buffers, give the ids of a session fed the codes the tokenizer computes for those frames;
/// the image stage is timed and counted; a bad file names the block and the frame and leaves the
/// session usable.
/// </summary>
public sealed class SessionFrameTests
{
    private static string Image(string name) => Path.Combine(VisionGoldens.Root, "images", name);

    [Fact]
    public void FramesByFileOrBufferGiveTheIdsOfTheirCodes()
    {
        using var backend = new CpuBackend();
        using var model = Model.Load(TestPaths.Tiny, backend);
        var encoder = Assert.IsType<VisionFrameEncoder>(model.ImageEncoder);
        var script = SessionFile.Read(Path.Combine(VisionGoldens.Root, "act_frames.session.json"));
        using var byFile = model.CreateSession(new SessionOptions { Mode = SessionMode.Act });
        using var byBuffer = model.CreateSession(new SessionOptions { Mode = SessionMode.Act });
        using var byCodes = model.CreateSession(new SessionOptions { Mode = SessionMode.Act });
        foreach (var block in script.Blocks.Take(3))
        {
            var files = block.Images.Cast<ImageInput.File>().Select(f => ImageFile.Read(f.Path)).ToArray();
            var fromFile = byFile.Step(block);
            var fromBuffer = byBuffer.Step(block with { Images = files.Select(f => (ImageInput)new ImageInput.Rgb(f.Pixels, f.Width, f.Height)).ToArray() });
            var fromCodes = byCodes.Step(block with { Images = files.Select(f => (ImageInput)new ImageInput.Codes(encoder.Encode(f))).ToArray() });
            Assert.Equal(fromCodes.TextIds, fromFile.TextIds);
            Assert.Equal(fromCodes.ActionIds, fromFile.ActionIds);
            Assert.Equal(fromCodes.TextIds, fromBuffer.TextIds);
            Assert.Equal(fromCodes.ActionIds, fromBuffer.ActionIds);
            Assert.Equal(2, fromFile.Counters.FramesEncoded);
            Assert.True(fromFile.Timings.ImageMs > 0 && fromFile.Timings.ImageMs <= fromFile.Timings.InputMs);
            Assert.Equal(0, fromCodes.Counters.FramesEncoded);
        }
    }

    [Fact]
    public void ABadFrameNamesTheBlockAndFrameAndTheSessionGoesOn()
    {
        using var temp = TestPaths.CreateTemp();
        File.WriteAllText(temp.File("broken.png"), "not an image");
        using var backend = new CpuBackend();
        using var model = Model.Load(TestPaths.Tiny, backend);
        using var session = model.CreateSession(new SessionOptions { Mode = SessionMode.Act });
        var script = SessionFile.Read(Path.Combine(VisionGoldens.Root, "act_frames.session.json"));
        var block = script.Blocks[0];
        var bad = block with { Images = [block.Images[0], new ImageInput.File(temp.File("broken.png"))] };
        var error = Assert.Throws<ArgumentException>(() => session.Step(bad));
        Assert.Contains("block 0: image 1", error.Message);
        Assert.Contains("broken.png", error.Message);
        Assert.Equal(0, session.Blocks);
        Assert.Equal(0, session.Step(block).Block);
    }

    [Fact]
    public void WithoutAVisionTokenizerARawFrameIsRefusedNamingWhatIsMissing()
    {
        using var temp = TestPaths.CreateTemp();
        foreach (string file in Directory.GetFiles(TestPaths.Tiny))
            File.Copy(file, Path.Combine(temp.Path, Path.GetFileName(file)));
        CopyDirectory(Path.Combine(TestPaths.Tiny, "fast"), Path.Combine(temp.Path, "fast"));
        using var backend = new CpuBackend();
        using var model = Model.Load(temp.Path, backend);
        Assert.Null(model.ImageEncoder);
        using var session = model.CreateSession(new SessionOptions { Mode = SessionMode.Act });
        var block = SessionFile.Read(Path.Combine(VisionGoldens.Root, "act_frames.session.json")).Blocks[0];
        var error = Assert.Throws<NotSupportedException>(() => session.Step(block));
        Assert.Contains("block 0: image 0", error.Message);
        Assert.Contains("vision_tokenizer", error.Message);
    }

    private static void CopyDirectory(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (string file in Directory.GetFiles(source))
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
    }
}
