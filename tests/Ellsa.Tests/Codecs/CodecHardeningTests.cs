using System.Text.Json.Nodes;
using Ellsa.Runtime.Codecs.Fast;
using Ellsa.Runtime.Codecs.Text;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Codecs;

/// <summary>
/// Hostile codec assets: sizes that would allocate gigabytes, a Split regex that backtracks
/// forever, values of the wrong JSON type and a device in place of a file all end in one named
/// error, quickly.
/// </summary>
public sealed class CodecHardeningTests
{
    private static readonly TimeSpan Quickly = TimeSpan.FromSeconds(20);

    private static string WriteTokenizer(TempDirectory dir, Action<JsonNode> edit)
    {
        var root = JsonNode.Parse(File.ReadAllText(CodecPaths.TinyTextTokenizer))!;
        edit(root);
        string path = dir.File("tokenizer.json");
        File.WriteAllText(path, root.ToJsonString());
        return path;
    }

    /// <summary>Runs <paramref name="action"/> on a thread of its own, so a hang fails the test instead of stalling the run.</summary>
    private static T ThrowsQuickly<T>(Action action) where T : Exception
    {
        var task = Task.Run(action);
        if (!task.ContinueWith(_ => { }, TaskScheduler.Default).Wait(TimeSpan.FromSeconds(60)))
            Assert.Fail("still running after 60 s");
        return Assert.IsType<T>(task.Exception?.InnerException ?? throw new Xunit.Sdk.XunitException("no exception was thrown"));
    }

    [Fact]
    public void AHugeVocabularyIdIsRefusedBeforeItSizesATable()
    {
        using var dir = TestPaths.CreateTemp();
        string path = WriteTokenizer(dir, root => root["model"]!["vocab"]!["!"] = 1_000_000_000);
        var error = Assert.Throws<TokenizerException>(() => TextTokenizer.Load(path));
        Assert.Contains("model.vocab[\"!\"]: id 1000000000 is beyond the bound of 4194304 ids", error.Message);
    }

    [Fact]
    public void AHugeAddedTokenIdIsRefusedBeforeItSizesATable()
    {
        using var dir = TestPaths.CreateTemp();
        string path = WriteTokenizer(dir, root => root["added_tokens"]![0]!["id"] = 1_000_000_000);
        var error = Assert.Throws<TokenizerException>(() => TextTokenizer.Load(path));
        Assert.Contains("added_tokens[0].id: id 1000000000 is beyond the bound", error.Message);
    }

    [Theory]
    [InlineData("42")]
    [InlineData("[\"BPE\"]")]
    [InlineData("{\"name\": \"BPE\"}")]
    public void AModelTypeOfTheWrongJsonTypeIsNamed(string type)
    {
        using var dir = TestPaths.CreateTemp();
        string path = WriteTokenizer(dir, root => root["model"]!["type"] = JsonNode.Parse(type));
        var error = Assert.Throws<TokenizerException>(() => TextTokenizer.Load(path));
        Assert.Contains($"{path}: model.type: expected a string", error.Message);
    }

    [Fact]
    public void ACatastrophicSplitPatternIsNamedAtLoad()
    {
        using var dir = TestPaths.CreateTemp();
        string path = WriteTokenizer(dir, root => root["pre_tokenizer"]!["pretokenizers"]![0]!["pattern"] = new JsonObject { ["Regex"] = "(.|.|.)*!" });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var error = ThrowsQuickly<TokenizerException>(() => TextTokenizer.Load(path));
        Assert.True(clock.Elapsed < Quickly, $"took {clock.Elapsed}");
        Assert.Contains($"{path}: pre_tokenizer.pretokenizers[0].pattern: the pattern \"(.|.|.)*!\" ran past", error.Message);
    }

    [Fact]
    public void ASplitPatternThatHangsOnlyOnSomeTextIsStoppedWhenEncoding()
    {
        using var dir = TestPaths.CreateTemp();
        // Ordinary text passes the load-time probe; a long run of x backtracks in Fibonacci(n) ways.
        string path = WriteTokenizer(dir, root => root["pre_tokenizer"]!["pretokenizers"]![0]!["pattern"] = new JsonObject { ["Regex"] = "(x|xx)+!|\\S+|\\s+" });
        var tokenizer = TextTokenizer.Load(path);
        Assert.NotEmpty(tokenizer.Encode("hello world"));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var error = ThrowsQuickly<TokenizerException>(() => tokenizer.Encode(new string('x', 60)));
        Assert.True(clock.Elapsed < Quickly, $"took {clock.Elapsed}");
        Assert.Contains("pre_tokenizer.pretokenizers[0].pattern: the pattern \"(x|xx)+!", error.Message);
    }

    [Fact]
    public void TheReleasedPatternStillTokenizesAsBefore()
    {
        var tokenizer = TextTokenizer.Load(CodecPaths.TinyTextTokenizer);
        string text = "Hello, world! It's 2025:   the robot picks up 3 red blocks.\n\n";
        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
    }

    private static TempDirectory FastAssets(Action<JsonNode> editConfig)
    {
        var dir = TestPaths.CreateTemp();
        File.Copy(Path.Combine(CodecPaths.TinyFast, "tokenizer.json"), dir.File("tokenizer.json"));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(CodecPaths.TinyFast, "processor_config.json")))!;
        editConfig(config);
        File.WriteAllText(dir.File("processor_config.json"), config.ToJsonString());
        return dir;
    }

    [Theory]
    [InlineData(1_000_000_000)]
    [InlineData(-1_000_000_000)]
    [InlineData(5000)]
    public void AMinTokenFarOutOfRangeIsRefused(int minToken)
    {
        using var dir = FastAssets(config => config["min_token"] = minToken);
        var error = Assert.Throws<FastCodecException>(() => FastActionCodec.Load(dir.Path));
        Assert.Contains($"processor_config.json: min_token: must be in", error.Message);
        Assert.Contains($"found {minToken}", error.Message);
    }

    [Theory]
    [InlineData("time_horizon", 40000, "time_horizon: must be in 1..1024")]
    [InlineData("action_dim", 100000, "action_dim: must be in 1..256")]
    [InlineData("vocab_size", 1000000000, "vocab_size: must be in 1..4194304")]
    public void OversizedProcessorConfigValuesNameTheBound(string field, int value, string message)
    {
        using var dir = FastAssets(config => config[field] = value);
        var error = Assert.Throws<FastCodecException>(() => FastActionCodec.Load(dir.Path));
        Assert.Contains($"processor_config.json: {message}", error.Message);
    }

    [Fact]
    public void AnOversizedChunkShapeFromOptionsIsRefusedBeforeTheBasisIsBuilt()
    {
        var error = Assert.Throws<FastCodecException>(() => FastActionCodec.Load(CodecPaths.TinyFast, new FastCodecOptions { TimeHorizon = 40000 }));
        Assert.Contains("time_horizon must be in 1..1024", error.Message);
    }

    [Fact]
    public void ADeviceAsNormStatsIsNotReadUntilMemoryRunsOut()
    {
        using var dir = TestPaths.CreateTemp();
        File.CreateSymbolicLink(dir.File("norm_stats.json"), "/dev/zero");
        var error = ThrowsQuickly<FastCodecException>(() => NormStats.Load(dir.File("norm_stats.json"), "tiny"));
        Assert.Contains("norm_stats.json: is not a regular file", error.Message);
    }
}
