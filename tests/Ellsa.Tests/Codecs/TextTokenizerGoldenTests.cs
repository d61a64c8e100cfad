using System.Text.Json;
using Ellsa.Runtime.Codecs.Text;
using Xunit;

namespace Ellsa.Tests.Codecs;

/// <summary>Ids, pre-tokenised pieces and decodes against tests/reference/fast_bpe.py (a
/// pure-Python BPE with hand-written pre-tokenisers) on fixed strings.</summary>
public class TextTokenizerGoldenTests
{
    private static readonly JsonElement Golden = CodecPaths.Golden("text.json");
    private static readonly Dictionary<string, TextTokenizer> Tokenizers = LoadAll();

    public static TheoryData<string> TokenizerNames => new() { "libero_fast", "tiny_fast", "tiny_text" };

    [Theory]
    [MemberData(nameof(TokenizerNames))]
    public void EncodeMatchesPythonReference(string name)
    {
        var tokenizer = Tokenizers[name];
        int checkedCases = 0;
        foreach (var c in Cases(name))
        {
            string text = c.GetProperty("text").GetString()!;
            Assert.True(c.GetProperty("ids").Ints().SequenceEqual(tokenizer.Encode(text)),
                $"{name} {JsonSerializer.Serialize(text)}: expected [{string.Join(",", c.GetProperty("ids").Ints())}] got [{string.Join(",", tokenizer.Encode(text))}]");
            checkedCases++;
        }
        Assert.True(checkedCases >= 10);
    }

    [Theory]
    [MemberData(nameof(TokenizerNames))]
    public void PreTokenizerPiecesMatchPythonReference(string name)
    {
        var tokenizer = Tokenizers[name];
        foreach (var c in Cases(name))
        {
            string text = c.GetProperty("text").GetString()!;
            var expected = c.GetProperty("pieces").EnumerateArray().Select(p => p.GetString()!).ToArray();
            Assert.Equal(expected, tokenizer.PreTokenize(text));
        }
    }

    [Fact]
    public void DecodeMatchesPythonReference()
    {
        int count = 0;
        foreach (var d in Golden.GetProperty("decodes").EnumerateArray())
        {
            var tokenizer = Tokenizers[d.GetProperty("tokenizer").GetString()!];
            bool skip = d.GetProperty("skip_special").GetBoolean();
            Assert.Equal(d.GetProperty("text").GetString(),
                tokenizer.Decode(d.GetProperty("ids").Ints(), skipSpecialTokens: skip));
            count++;
        }
        Assert.True(count >= 20);
    }

    [Fact]
    public void CleanUpMatchesPythonReference()
    {
        var tokenizer = Tokenizers["tiny_text"];
        foreach (var c in Golden.GetProperty("clean_up").EnumerateArray())
        {
            Assert.Equal(c.GetProperty("text").GetString(),
                tokenizer.Decode(c.GetProperty("ids").Ints(), cleanUpTokenizationSpaces: true));
        }
    }

    [Fact]
    public void IgnoreMergesMatchesPythonReference()
    {
        var results = new List<int[]>();
        foreach (var variant in Golden.GetProperty("ignore_merges").EnumerateArray())
        {
            string path = Path.Combine(Path.GetTempPath(), $"ellsa-ignore-merges-{Guid.NewGuid():N}.json");
            File.WriteAllText(path, variant.GetProperty("tokenizer_json").GetRawText());
            try
            {
                var tokenizer = TextTokenizer.Load(path);
                foreach (var c in variant.GetProperty("cases").EnumerateArray())
                {
                    var ids = tokenizer.Encode(c.GetProperty("text").GetString()!);
                    Assert.Equal(c.GetProperty("ids").Ints(), ids);
                    if (c.GetProperty("text").GetString() == "abc")
                    {
                        results.Add(ids);
                    }
                }
            }
            finally
            {
                File.Delete(path);
            }
        }
        Assert.Equal(2, results.Count);
        Assert.NotEqual(results[0], results[1]);
    }

    private static IEnumerable<JsonElement> Cases(string name) =>
        Golden.GetProperty("cases").EnumerateArray().Where(c => c.GetProperty("tokenizer").GetString() == name);

    private static Dictionary<string, TextTokenizer> LoadAll() =>
        Golden.GetProperty("tokenizers").EnumerateObject().ToDictionary(
            p => p.Name,
            p => TextTokenizer.Load(CodecPaths.RequireShared(CodecPaths.FromRoot(p.Value.GetString()!))));
}
