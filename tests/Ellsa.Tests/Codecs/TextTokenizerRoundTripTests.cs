using System.Text.Json;
using Ellsa.Runtime.Codecs.Text;
using Xunit;

namespace Ellsa.Tests.Codecs;

/// <summary>Fresh random strings every run: decode(encode(s)) == s, and the ids equal a textbook
/// BPE written here (merge every occurrence of the best-ranked pair, left to right) over the same
/// pre-tokenised pieces.</summary>
public class TextTokenizerRoundTripTests
{
    private static readonly string[] Specials =
        ["<|begin_of_text|>", "<|eot_id|>", "[PAD]", "<bosp>", "<eosp>", "<bot>", "<eot>", "<silence>", "<bop>", "<eop>", "<bo", "eot>"];

    public static TheoryData<string> TokenizerPaths => new()
    {
        CodecPaths.RequireShared(Path.Combine(CodecPaths.LiberoFast, "tokenizer.json")),
        Path.Combine(CodecPaths.TinyFast, "tokenizer.json"),
        CodecPaths.TinyTextTokenizer,
    };

    [Theory]
    [MemberData(nameof(TokenizerPaths))]
    public void RandomStringsRoundTrip(string path)
    {
        var tokenizer = TextTokenizer.Load(path);
        int seed = RandomText.FreshSeed();
        var random = new Random(seed);
        for (int i = 0; i < 300; i++)
        {
            string text = RandomText.Next(random, 60, Specials);
            var ids = tokenizer.Encode(text);
            Assert.True(text == tokenizer.Decode(ids),
                $"seed {seed}: {JsonSerializer.Serialize(text)} decoded as {JsonSerializer.Serialize(tokenizer.Decode(ids))}");
        }
    }

    [Fact]
    public void SpecialTokensKeepTheirIdsAndCanBeSkipped()
    {
        var tokenizer = TextTokenizer.Load(CodecPaths.TinyTextTokenizer);
        int seed = RandomText.FreshSeed();
        var random = new Random(seed);
        string[] specials = Specials[..10];
        for (int i = 0; i < 200; i++)
        {
            string text = RandomText.Next(random, 40, specials);
            var ids = tokenizer.Encode(text);
            string withoutSpecials = specials.Aggregate(text, (s, special) => s.Replace(special, ""));
            Assert.True(withoutSpecials == tokenizer.Decode(ids, skipSpecialTokens: true),
                $"seed {seed}: {JsonSerializer.Serialize(text)}");
        }
        for (int k = 0; k < specials.Length; k++)
        {
            Assert.Equal([300 + k], tokenizer.Encode(specials[k]));
            Assert.True(tokenizer.IsSpecial(300 + k));
            Assert.Equal(300 + k, tokenizer.TokenToId(specials[k]));
        }
    }

    [Theory]
    [MemberData(nameof(TokenizerPaths))]
    public void IdsEqualTextbookBpeOnRandomStrings(string path)
    {
        var tokenizer = TextTokenizer.Load(path);
        var reference = new TextbookBpe(path);
        int seed = RandomText.FreshSeed();
        var random = new Random(seed);
        for (int i = 0; i < 300; i++)
        {
            string text = i % 2 == 0 ? RandomText.Next(random, 60) : RandomFastLikeString(random);
            var expected = tokenizer.PreTokenize(text).SelectMany(reference.Tokenize).ToArray();
            Assert.True(expected.SequenceEqual(tokenizer.Encode(text)), $"seed {seed}: {JsonSerializer.Serialize(text)}");
        }
    }

    /// <summary>What FAST strings look like (letters U+0142..U+0182 around 'Ţ', the zero
    /// coefficient), so that the FAST tokenizers' merges actually fire.</summary>
    private static string RandomFastLikeString(Random random)
    {
        var chars = new char[random.Next(1, 71)];
        for (int i = 0; i < chars.Length; i++)
        {
            chars[i] = random.Next(3) == 0 ? (char)random.Next(0x142, 0x183) : '\u0162';
        }
        return new string(chars);
    }

    private sealed class TextbookBpe
    {
        private readonly Dictionary<string, int> vocab = new(StringComparer.Ordinal);
        private readonly Dictionary<(string, string), int> ranks = new();
        private readonly bool ignoreMerges;

        public TextbookBpe(string path)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var model = doc.RootElement.GetProperty("model");
            foreach (var p in model.GetProperty("vocab").EnumerateObject())
            {
                vocab[p.Name] = p.Value.GetInt32();
            }
            int rank = 0;
            foreach (var m in model.GetProperty("merges").EnumerateArray())
            {
                var pair = m.ValueKind == JsonValueKind.String
                    ? m.GetString()!.Split(' ')
                    : [m[0].GetString()!, m[1].GetString()!];
                ranks[(pair[0], pair[1])] = rank++;
            }
            ignoreMerges = model.TryGetProperty("ignore_merges", out var im) && im.GetBoolean();
        }

        public IEnumerable<int> Tokenize(string piece)
        {
            if (ignoreMerges && vocab.TryGetValue(piece, out int whole))
            {
                return [whole];
            }
            var parts = piece.Select(c => c.ToString()).ToList();
            while (parts.Count > 1)
            {
                int best = int.MaxValue;
                for (int k = 0; k + 1 < parts.Count; k++)
                {
                    best = Math.Min(best, ranks.GetValueOrDefault((parts[k], parts[k + 1]), int.MaxValue));
                }
                if (best == int.MaxValue)
                {
                    break;
                }
                var merged = new List<string>();
                for (int k = 0; k < parts.Count; k++)
                {
                    if (k + 1 < parts.Count && ranks.GetValueOrDefault((parts[k], parts[k + 1]), -1) == best)
                    {
                        merged.Add(parts[k] + parts[k + 1]);
                        k++;
                    }
                    else
                    {
                        merged.Add(parts[k]);
                    }
                }
                parts = merged;
            }
            return parts.Select(p => vocab[p]);
        }
    }
}
