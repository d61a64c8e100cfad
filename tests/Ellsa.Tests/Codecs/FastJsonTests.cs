using System.Text.Json;
using Ellsa.Runtime.Codecs.Fast;
using Xunit;

namespace Ellsa.Tests.Codecs;

public class FastJsonTests
{
    [Fact]
    public void DecodeJsonCarriesTheReferenceNumbers()
    {
        var (codec, golden) = FastCodecGoldenTests.Load("libero.json");
        var chunk = golden.GetProperty("chunks")[3];
        using var doc = JsonDocument.Parse(FastJson.Decode(codec, chunk.GetProperty("ids").Ints()));
        var root = doc.RootElement;
        Assert.Equal(["normalized", "actions", "problems"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(0, root.GetProperty("problems").GetArrayLength());
        FastCodecGoldenTests.AssertClose(chunk.GetProperty("decoded_normalized").Matrix(), root.GetProperty("normalized").FloatMatrix());
        FastCodecGoldenTests.AssertClose(chunk.GetProperty("decoded_actions").Matrix(), root.GetProperty("actions").FloatMatrix());
    }

    [Fact]
    public void DecodeJsonOfMalformedIdsListsProblemsAndOmitsActionsWithoutStats()
    {
        var codec = FastActionCodec.Load(CodecPaths.TinyFast);
        using var doc = JsonDocument.Parse(FastJson.Decode(codec, [codec.VocabSize + 5]));
        Assert.False(doc.RootElement.TryGetProperty("actions", out _));
        Assert.Contains("outside the vocabulary", doc.RootElement.GetProperty("problems")[0].GetString());
        Assert.All(doc.RootElement.GetProperty("normalized").Matrix().SelectMany(r => r), v => Assert.Equal(0, v));
    }

    [Fact]
    public void EncodeJsonRoundTripsThroughTheReaders()
    {
        var (codec, golden) = FastCodecGoldenTests.Load("tiny.json");
        int seed = RandomText.FreshSeed();
        var chunk = RandomChunks.Smooth(new Random(seed), 10, 7);
        string path = Path.Combine(Path.GetTempPath(), $"ellsa-actions-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(path, JsonSerializer.Serialize(ToJagged(chunk)));
            var read = FastJson.ReadActions(path, 10, 7);
            Assert.Equal(chunk, read);
            File.WriteAllText(path, FastJson.Encode(codec, read));
            Assert.Equal(codec.Encode(chunk), FastJson.ReadIds(path));
            var envChunk = golden.GetProperty("env_chunks")[0];
            File.WriteAllText(path, JsonSerializer.Serialize(new { actions = envChunk.GetProperty("actions").Matrix() }));
            var env = FastJson.ReadActions(path, 10, 7, "actions");
            Assert.Equal(envChunk.GetProperty("ids").Ints(), FastJson.ParseIds(FastJson.EncodeEnvActions(codec, env), "encode output"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("[[1,2],[3,4]]", "has 2 rows, expected 3")]
    [InlineData("[[1,2],[3,4],[5]]", "row 2 (counting from 0): expected 2 numbers, found 1 values")]
    [InlineData("[[1,2],[3,4],[5,\"x\"]]", "row 2, column 1 (counting from 0): expected a finite number, found \"x\"")]
    [InlineData("[[1,2],[3,4],[5,1e300]]", "row 2, column 1")]
    [InlineData("{\"rows\": 3}", "expected an array of 3 rows of 2 numbers, found object")]
    [InlineData("[[1,2],\n[3,4],,]", "not valid JSON (line 2")]
    public void ActionReaderNamesSourceRowAndColumn(string json, string expected)
    {
        var e = Assert.Throws<FastCodecException>(() => FastJson.ParseActions(json, "in.json", 3, 2));
        Assert.StartsWith("in.json: ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void ReadersNameMissingFilesMembersAndBadIds()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"ellsa-missing-{Guid.NewGuid():N}.json");
        Assert.Contains($"{missing}: file not found", Assert.Throws<FastCodecException>(() => FastJson.ReadActions(missing, 10, 7)).Message);
        Assert.Contains("no \"normalized\" member", Assert.Throws<FastCodecException>(() => FastJson.ParseActions("{}", "d.json", 10, 7, "normalized")).Message);
        Assert.Contains("ids[2]: expected an integer, found 1.5", Assert.Throws<FastCodecException>(() => FastJson.ParseIds("{\"ids\": [1, 2, 1.5]}", "i.json")).Message);
        Assert.Equal([4, 5], FastJson.ParseIds("[4, 5]", "i.json"));
    }

    private static float[][] ToJagged(float[,] m) =>
        Enumerable.Range(0, m.GetLength(0)).Select(t => Enumerable.Range(0, m.GetLength(1)).Select(d => m[t, d]).ToArray()).ToArray();
}
