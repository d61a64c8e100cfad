using Ellsa.Runtime.Codecs.Fast;
using Ellsa.Runtime.Codecs.Text;
using Xunit;

namespace Ellsa.Tests.Codecs;

/// <summary>Bad assets and bad input are refused with the file, key, field, row or column named.</summary>
public class FastCodecErrorTests
{
    [Fact]
    public void UnknownNormStatsKeyListsTheKeys()
    {
        var e = Assert.Throws<FastCodecException>(() => FastActionCodec.Load(CodecPaths.TinyFast,
            new FastCodecOptions { NormStatsPath = CodecPaths.LiberoNormStats, NormStatsKey = "bridge" }));
        Assert.Contains(CodecPaths.LiberoNormStats, e.Message);
        Assert.Contains("no key \"bridge\"", e.Message);
        Assert.Contains("\"libero\"", e.Message);
    }

    [Fact]
    public void OnlyKeyIsTakenWhenNoneIsGiven()
    {
        var codec = FastActionCodec.Load(CodecPaths.TinyFast, new FastCodecOptions { NormStatsPath = CodecPaths.TinyNormStats });
        Assert.Equal("tiny", codec.NormStats!.Key);
    }

    [Fact]
    public void NormStatsOfTheWrongDimensionAreRefused()
    {
        var e = Assert.Throws<FastCodecException>(() => FastActionCodec.Load(CodecPaths.TinyFast,
            new FastCodecOptions { NormStatsPath = CodecPaths.TinyNormStats, ActionDim = 6 }));
        Assert.Contains("norm_stats.tiny", e.Message);
        Assert.Contains("action_dim 6", e.Message);
    }

    [Fact]
    public void BrokenNormStatsNameFileAndField()
    {
        using var dir = new TempDir();
        string path = dir.Write("stats.json", """{"norm_stats": {"a": {"q01": [0, 1], "q99": [1, "x"]}}}""");
        var e = Assert.Throws<FastCodecException>(() => NormStats.Load(path, "a"));
        Assert.Contains($"{path}: norm_stats.a.q99[1]", e.Message);
        path = dir.Write("reversed.json", """{"norm_stats": {"a": {"q01": [0, 1], "q99": [1, 0.5]}}}""");
        Assert.Contains("dimension 1", Assert.Throws<FastCodecException>(() => NormStats.Load(path, "a")).Message);
        path = dir.Write("two.json", """{"norm_stats": {"a": {"q01": [0], "q99": [1]}, "b": {"q01": [0], "q99": [1]}}}""");
        Assert.Contains("choose a key", Assert.Throws<FastCodecException>(() => NormStats.Load(path, null)).Message);
        string missing = Path.Combine(dir.Path, "nope.json");
        Assert.Contains($"{missing}: file not found", Assert.Throws<FastCodecException>(() => NormStats.Load(missing, "a")).Message);
    }

    [Fact]
    public void ProcessorConfigProblemsNameTheField()
    {
        using var dir = new TempDir();
        File.Copy(Path.Combine(CodecPaths.TinyFast, "tokenizer.json"), Path.Combine(dir.Path, "tokenizer.json"));
        string config = dir.Write("processor_config.json", """{"scale": 10, "min_token": -354, "vocab_size": 321}""");
        var e = Assert.Throws<FastCodecException>(() => FastActionCodec.Load(dir.Path));
        Assert.Contains($"{config}: vocab_size: 321 disagrees", e.Message);
        dir.Write("processor_config.json", """{"scale": "ten", "min_token": -354, "vocab_size": 320}""");
        Assert.Contains($"{config}: scale:", Assert.Throws<FastCodecException>(() => FastActionCodec.Load(dir.Path)).Message);
        dir.Write("processor_config.json", """{"scale": 10, "vocab_size": 320}""");
        Assert.Contains($"{config}: min_token: is missing", Assert.Throws<FastCodecException>(() => FastActionCodec.Load(dir.Path)).Message);
        dir.Write("processor_config.json", """{"scale": 10, "min_token": -354, "vocab_size": 320, "time_horizon": 12, "action_dim": 5}""");
        var codec = FastActionCodec.Load(dir.Path);
        Assert.Equal((12, 5), (codec.TimeHorizon, codec.ActionDim));
        codec = FastActionCodec.Load(dir.Path, new FastCodecOptions { TimeHorizon = 10, ActionDim = 7 });
        Assert.Equal((10, 7), (codec.TimeHorizon, codec.ActionDim));
        File.Delete(Path.Combine(dir.Path, "tokenizer.json"));
        Assert.Throws<TokenizerException>(() => FastActionCodec.Load(dir.Path));
        Assert.Contains("not found", Assert.Throws<FastCodecException>(() => FastActionCodec.Load(Path.Combine(dir.Path, "absent"))).Message);
    }

    [Fact]
    public void EncodeNamesTheBadValue()
    {
        var (codec, _) = FastCodecGoldenTests.Load("tiny.json");
        var chunk = new float[10, 7];
        chunk[2, 3] = 1.5f;
        Assert.Contains("[row 2, column 3] = 1.5", Assert.Throws<FastCodecException>(() => codec.Encode(chunk)).Message);
        chunk[2, 3] = float.NaN;
        Assert.Contains("[row 2, column 3]", Assert.Throws<FastCodecException>(() => codec.EncodeEnvActions(chunk)).Message);
        Assert.Contains("9×7; the codec expects 10×7", Assert.Throws<FastCodecException>(() => codec.Encode(new float[9, 7])).Message);
    }

    [Fact]
    public void ProblemsNameTheOffendingIds()
    {
        var (codec, _) = FastCodecGoldenTests.Load("libero.json");
        var result = codec.Decode([482, 2048, -1, 295]);
        Assert.Contains("2048 at position 1", Assert.Single(result.Problems));
        Assert.Contains("-1 at position 2", result.Problems[0]);
        var noop = codec.NoOpIds.ToArray();
        Assert.Contains(codec.Decode([.. noop, .. noop]).Problems, p => p.Contains("140 coefficients") && p.Contains("does not fit"));
        Assert.Contains(codec.Decode([codec.Tokenizer.TokenToId("Å")!.Value]).Problems, p => p.Contains("invalid UTF-8"));
    }

    private sealed class TempDir : IDisposable
    {
        public TempDir()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"ellsa-fast-{Guid.NewGuid():N}");
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public string Write(string name, string text)
        {
            string path = System.IO.Path.Combine(Path, name);
            File.WriteAllText(path, text);
            return path;
        }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
