using System.Diagnostics;
using System.Text.Json.Nodes;
using Ellsa.Runtime.Checkpoints;
using Ellsa.Runtime.Codecs.Text;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Duplex;
using Ellsa.Runtime.Moe;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Configuration;

/// <summary>
/// A whole model directory with one bad value: the load fails at once with one line that names
/// the file and the field (never a line per tensor, never at the first block), and codec assets
/// are read only as bounded regular files.
/// </summary>
public sealed class ModelDirectoryTests
{
    private static TempDirectory CopyTiny()
    {
        var temp = TestPaths.CreateTemp();
        foreach (string file in Directory.GetFiles(TestPaths.Tiny))
            File.Copy(file, temp.File(Path.GetFileName(file)));
        Directory.CreateDirectory(temp.File("fast"));
        foreach (string file in Directory.GetFiles(Path.Combine(TestPaths.Tiny, "fast")))
            File.Copy(file, Path.Combine(temp.File("fast"), Path.GetFileName(file)));
        return temp;
    }

    /// <summary>stderr without the informational "device:" line the CLI prints before loading.</summary>
    private static string[] ErrorLines(CliRunner.Result result) =>
        result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(line => !line.StartsWith("device: ")).ToArray();

    private static void Edit(string path, Action<JsonNode> edit)
    {
        var root = JsonNode.Parse(File.ReadAllText(path))!;
        edit(root);
        File.WriteAllText(path, root.ToJsonString());
    }

    [Theory]
    [InlineData("speech_eos", 5000, "speech")]
    [InlineData("bop", 1000, "speech")]
    [InlineData("img", 800, "vision")]
    [InlineData("fast_base", 4000, "vision")]
    public void ASpecialIdOutsideItsVocabularyIsNamedAtLoad(string key, int id, string expert)
    {
        using var model = CopyTiny();
        Edit(model.File("ellsa.json"), root => root["tokens"]![key] = id);
        var error = Assert.Throws<ConfigException>(() => Model.Load(model.Path, SharedBackends.Cpu));
        Assert.StartsWith($"ellsa.json: tokens.{key} = {id} is outside the {expert} vocabulary (", error.Message);
    }

    [Fact]
    public void VisualCodesBeyondTheVisionVocabularyAreNamedAtLoad()
    {
        using var model = CopyTiny();
        Edit(model.File("ellsa.json"), root => root["tokens"]!["visual_count"] = 1000);
        var error = Assert.Throws<ConfigException>(() => Model.Load(model.Path, SharedBackends.Cpu));
        Assert.Contains("ellsa.json: tokens.visual_count", error.Message);
        Assert.Contains("(800 ids)", error.Message);
    }

    [Fact]
    public void MoreLayersThanTheCheckpointHasIsOneProblemFoundAtOnce()
    {
        using var model = CopyTiny();
        foreach (string file in new[] { "config.json", "vision_config.json" })
            Edit(model.File(file), root => root["num_hidden_layers"] = 1024);
        var clock = Stopwatch.StartNew();
        var error = Assert.Throws<CheckpointException>(() => SaMoeModel.Load(model.Path, SharedBackends.Cpu).Dispose());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.Contains("config.json: num_hidden_layers is 1024, but the checkpoint has speech layers 0..1", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void ACodecPathThatIsADirectoryOrAFileOfTheWrongKindIsNamed()
    {
        using var model = CopyTiny();
        Edit(model.File("ellsa.json"), root => root["text"]!["tokenizer"] = "fast");
        var error = Assert.Throws<ConfigException>(() => Model.Load(model.Path, SharedBackends.Cpu));
        Assert.Equal("ellsa.json: text.tokenizer 'fast' is a directory; a file is expected", error.Message);

        Edit(model.File("ellsa.json"), root => { root["text"]!["tokenizer"] = "tokenizer.json"; root["fast"]!["assets"] = "norm_stats.json"; });
        error = Assert.Throws<ConfigException>(() => Model.Load(model.Path, SharedBackends.Cpu));
        Assert.Equal("ellsa.json: fast.assets 'norm_stats.json' is a file; a directory is expected", error.Message);
    }

    [Fact]
    public void ALinkToADeviceIsNotReadAsATokenizer()
    {
        using var model = CopyTiny();
        File.Delete(model.File("tokenizer.json"));
        File.CreateSymbolicLink(model.File("tokenizer.json"), "/dev/zero");
        var clock = Stopwatch.StartNew();
        var error = Assert.Throws<TokenizerException>(() => Model.Load(model.Path, SharedBackends.Cpu));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.Contains("tokenizer.json: is not a regular file", error.Message);
    }

    [Fact]
    public void OneWrongHiddenSizeIsOneErrorLineFromTheRealProcess()
    {
        using var model = CopyTiny();
        foreach (string file in new[] { "config.json", "vision_config.json" })
            Edit(model.File(file), root => root["hidden_size"] = 128);
        var result = CliRunner.Process("forward", "--model", model.Path,
            "--input", Path.Combine(TestPaths.TinyGoldens, "acting_block.seq.json"), "--output", model.File("out.json"));
        Assert.Equal(1, result.ExitCode);
        var lines = ErrorLines(result);
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains("config.json: hidden_size is 128, but the speech embedding is 64 wide", lines[0]);
        Assert.False(File.Exists(model.File("out.json")));
    }

    [Fact]
    public void AMistypedSectionStopsInspectFromTheRealProcess()
    {
        using var model = CopyTiny();
        Edit(model.File("ellsa.json"), root => root["sesion"] = new JsonObject { ["context_limit"] = 64 });
        var result = CliRunner.Process("inspect", "--model", model.Path);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: ellsa.json: sesion is not a known key (known: tokens, lora, image, fast, text, session, speech_encoder, speech_decoder, weights)", Assert.Single(ErrorLines(result)));
    }

    [Fact]
    public void ATokenizerPathOutsideTheModelStopsDuplexFromTheRealProcess()
    {
        using var model = CopyTiny();
        Edit(model.File("ellsa.json"), root => root["text"]!["tokenizer"] = "../../../etc/hostname");
        var result = CliRunner.Process("duplex", "--model", model.Path,
            "--input", Path.Combine(TestPaths.Root, "tests", "goldens", "sessions", "speech_14.session.json"), "--output", model.File("timeline.jsonl"));
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: ellsa.json: text.tokenizer '../../../etc/hostname' must stay inside the model directory (a relative path with '/' and without '..')",
            Assert.Single(ErrorLines(result)));
    }
}
