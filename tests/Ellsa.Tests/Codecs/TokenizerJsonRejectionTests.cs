using System.Text.Json.Nodes;
using Ellsa.Runtime.Codecs.Text;
using Xunit;

namespace Ellsa.Tests.Codecs;

/// <summary>Features the tokenizer does not reproduce are refused with the file and the field
/// named; so are ids it does not have.</summary>
public class TokenizerJsonRejectionTests
{
    public static TheoryData<string, string, string> Edits => new()
    {
        { "normalizer", """{"type": "NFC"}""", "normalizer" },
        { "model.type", "\"WordPiece\"", "model.type" },
        { "model.byte_fallback", "true", "model.byte_fallback" },
        { "model.dropout", "0.1", "model.dropout" },
        { "model.continuing_subword_prefix", "\"##\"", "model.continuing_subword_prefix" },
        { "model.unk_token", "\"<nope>\"", "model.unk_token" },
        { "decoder", """{"type": "Metaspace"}""", "decoder.type" },
        { "decoder", "null", "decoder" },
        { "truncation", """{"max_length": 8}""", "truncation" },
        { "pre_tokenizer.pretokenizers.1", """{"type": "Whitespace"}""", "pre_tokenizer.pretokenizers[1].type" },
        { "pre_tokenizer.pretokenizers.0.behavior", "\"Sideways\"", "pre_tokenizer.pretokenizers[0].behavior" },
        { "pre_tokenizer.pretokenizers.0.pattern", """{"Regex": "(unclosed"}""", "pre_tokenizer.pretokenizers[0].pattern" },
        { "model.merges.3", "\"Ġ nosuchtoken\"", "model.merges[3]" },
        { "model.merges.4", "\"a b c\"", "model.merges[4]" },
        { "added_tokens.2.lstrip", "true", "added_tokens[2].lstrip" },
        { "added_tokens.1.id", "-4", "added_tokens[1].id" },
        { "model.vocab.!", "\"zero\"", "model.vocab[\"!\"]" },
    };

    [Theory]
    [MemberData(nameof(Edits))]
    public void UnsupportedFieldIsNamed(string field, string json, string expectedField)
    {
        var root = JsonNode.Parse(File.ReadAllText(CodecPaths.TinyTextTokenizer))!;
        Set(root, field.Split('.'), JsonNode.Parse(json));
        string path = WriteTemp(root.ToJsonString());
        try
        {
            var e = Assert.Throws<TokenizerException>(() => TextTokenizer.Load(path));
            Assert.Contains(path, e.Message);
            Assert.Contains(expectedField + ":", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void MissingFileAndBrokenJsonAreNamed()
    {
        string missing = Path.Combine(Path.GetTempPath(), "ellsa-no-such-dir", "tokenizer.json");
        Assert.Contains(missing, Assert.Throws<TokenizerException>(() => TextTokenizer.Load(missing)).Message);
        string broken = WriteTemp("{\"model\": {\"vocab\": {\n  \"a\": 0,,}}}");
        try
        {
            var e = Assert.Throws<TokenizerException>(() => TextTokenizer.Load(broken));
            Assert.Contains(broken, e.Message);
            Assert.Contains("line 2", e.Message);
        }
        finally
        {
            File.Delete(broken);
        }
    }

    [Fact]
    public void UnknownIdIsNamedOnDecode()
    {
        var tokenizer = TextTokenizer.Load(CodecPaths.TinyTextTokenizer);
        var e = Assert.Throws<TokenizerException>(() => tokenizer.Decode([5, 310, 7]));
        Assert.Contains("token id 310 (position 1)", e.Message);
        Assert.Contains(CodecPaths.TinyTextTokenizer, e.Message);
        Assert.Throws<TokenizerException>(() => tokenizer.Decode([-1]));
    }

    private static void Set(JsonNode node, string[] path, JsonNode? value)
    {
        for (int i = 0; i < path.Length - 1; i++)
        {
            node = int.TryParse(path[i], out int index) ? node[index]! : node[path[i]]!;
        }
        string last = path[^1];
        if (int.TryParse(last, out int at))
        {
            node[at] = value;
        }
        else
        {
            node[last] = value;
        }
    }

    private static string WriteTemp(string text)
    {
        string path = Path.Combine(Path.GetTempPath(), $"ellsa-tokenizer-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, text);
        return path;
    }
}
