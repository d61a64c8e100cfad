using System.Text.Json;
using Ellsa.Runtime.Configuration;

namespace Ellsa.Runtime.Codecs.Text;

/// <summary>
/// Reads a Hugging Face <c>tokenizer.json</c> of the byte-level BPE kind and refuses, by file and
/// field, everything this engine does not reproduce (normalizers, non-BPE models, byte fallback,
/// dropout, subword affixes, truncation/padding, stripping added tokens, non-ByteLevel decoders).
/// <c>post_processor</c> is not read: the engine builds its sequences itself and encodes like
/// HF's <c>add_special_tokens=False</c>, as the reference does for every prompt.
/// </summary>
internal static class TokenizerJsonReader
{
    public sealed record Parts(
        BpeModel Model,
        PreTokenizer? PreTokenizer,
        IReadOnlyList<AddedToken> AddedTokens,
        string?[] IdToToken,
        bool[] IsSpecial);

    public static Parts Read(string path)
    {
        byte[] bytes = ModelFile.ReadAll(path, ModelFile.MaxTokenizerBytes, problem => new TokenizerException($"{path}: {problem}"));
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new TokenizerException(
                $"{path}: not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {JsonFiles.FirstSentence(e.Message)}", e);
        }
        using (document)
        {
            return new Reader(path).ReadRoot(document.RootElement);
        }
    }

    private sealed class Reader(string path)
    {
        private TokenizerException Error(string field, string problem) =>
            new($"{path}: {field}: {problem}");

        public Parts ReadRoot(JsonElement root)
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Error("(root)", "expected a JSON object");
            }
            RequireNullOrAbsent(root, "truncation");
            RequireNullOrAbsent(root, "padding");
            CheckNormalizer(root);
            CheckDecoder(root);
            var (vocab, ids) = ReadVocab(Required(root, "model", JsonValueKind.Object, "model"));
            var model = ReadModel(root.GetProperty("model"), vocab);
            var added = ReadAddedTokens(root);
            int size = Math.Max(ids.Length, added.Count == 0 ? 0 : added.Max(t => t.Id) + 1);
            var idToToken = new string?[size];
            ids.CopyTo(idToToken, 0);
            var isSpecial = new bool[size];
            foreach (var token in added)
            {
                idToToken[token.Id] = token.Content;
                isSpecial[token.Id] = token.Special;
            }
            var preTokenizer = root.TryGetProperty("pre_tokenizer", out var pt) && pt.ValueKind != JsonValueKind.Null
                ? ReadPreTokenizer(pt, "pre_tokenizer")
                : null;
            return new Parts(model, preTokenizer, added, idToToken, isSpecial);
        }

        private void RequireNullOrAbsent(JsonElement root, string name)
        {
            if (root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null)
            {
                throw Error(name, "is not supported (must be null); the engine never truncates or pads");
            }
        }

        private void CheckNormalizer(JsonElement root)
        {
            if (!root.TryGetProperty("normalizer", out var n) || n.ValueKind == JsonValueKind.Null)
            {
                return;
            }
            string type = TypeOf(n, "normalizer");
            bool emptySequence = type == "Sequence" && n.TryGetProperty("normalizers", out var list)
                && list.ValueKind == JsonValueKind.Array && list.GetArrayLength() == 0;
            if (!emptySequence)
            {
                throw Error("normalizer", $"type \"{type}\" is not supported (only null)");
            }
        }

        private void CheckDecoder(JsonElement root)
        {
            if (!root.TryGetProperty("decoder", out var d) || d.ValueKind == JsonValueKind.Null)
            {
                throw Error("decoder", "is null; only the ByteLevel decoder is supported");
            }
            string type = TypeOf(d, "decoder");
            if (type != "ByteLevel")
            {
                throw Error("decoder.type", $"\"{type}\" is not supported (only ByteLevel)");
            }
        }

        private (Dictionary<string, int> Vocab, string?[] Ids) ReadVocab(JsonElement model)
        {
            var vocabElement = Required(model, "vocab", JsonValueKind.Object, "model.vocab");
            var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
            int maxId = -1;
            foreach (var entry in vocabElement.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out int id) || id < 0)
                {
                    throw Error($"model.vocab[\"{entry.Name}\"]", "expected a non-negative integer id");
                }
                CheckIdBound(id, $"model.vocab[\"{entry.Name}\"]");
                if (!vocab.TryAdd(entry.Name, id))
                {
                    throw Error($"model.vocab[\"{entry.Name}\"]", "appears twice");
                }
                maxId = Math.Max(maxId, id);
            }
            var ids = new string?[maxId + 1];
            foreach (var (token, id) in vocab)
            {
                if (ids[id] is not null)
                {
                    throw Error("model.vocab", $"id {id} is given to both \"{ids[id]}\" and \"{token}\"");
                }
                ids[id] = token;
            }
            return (vocab, ids);
        }

        /// <summary>Ids index tables sized by the largest one, so an id of 10⁹ must not reach the allocation.</summary>
        private void CheckIdBound(int id, string field)
        {
            if (id >= ConfigBounds.MaxVocabSize)
            {
                throw Error(field, $"id {id} is beyond the bound of {ConfigBounds.MaxVocabSize} ids");
            }
        }

        private BpeModel ReadModel(JsonElement model, Dictionary<string, int> vocab)
        {
            string type = "BPE";
            if (model.TryGetProperty("type", out var t) && t.ValueKind != JsonValueKind.Null)
            {
                type = t.ValueKind == JsonValueKind.String
                    ? t.GetString()!
                    : throw Error("model.type", $"expected a string, found {t.ValueKind.ToString().ToLowerInvariant()}");
            }
            if (type != "BPE")
            {
                throw Error("model.type", $"\"{type}\" is not supported (only BPE)");
            }
            if (Bool(model, "byte_fallback", "model.byte_fallback"))
            {
                throw Error("model.byte_fallback", "true is not supported (only byte-level BPE without fallback)");
            }
            if (model.TryGetProperty("dropout", out var dropout) && dropout.ValueKind != JsonValueKind.Null
                && !(dropout.ValueKind == JsonValueKind.Number && dropout.GetDouble() == 0))
            {
                throw Error("model.dropout", "BPE dropout is not supported (must be null)");
            }
            foreach (var affix in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            {
                if (model.TryGetProperty(affix, out var a) && a.ValueKind != JsonValueKind.Null
                    && !(a.ValueKind == JsonValueKind.String && a.GetString() == ""))
                {
                    throw Error($"model.{affix}", "is not supported (must be null)");
                }
            }
            int unknownId = -1;
            if (model.TryGetProperty("unk_token", out var unk) && unk.ValueKind != JsonValueKind.Null)
            {
                if (unk.ValueKind != JsonValueKind.String || !vocab.TryGetValue(unk.GetString()!, out unknownId))
                {
                    throw Error("model.unk_token", $"{unk.GetRawText()} is not a token of model.vocab");
                }
            }
            var merges = ReadMerges(model, vocab);
            return new BpeModel(vocab, merges, Bool(model, "ignore_merges", "model.ignore_merges"),
                unknownId, Bool(model, "fuse_unk", "model.fuse_unk"));
        }

        private Dictionary<long, (int Rank, int NewId)> ReadMerges(JsonElement model, Dictionary<string, int> vocab)
        {
            var list = Required(model, "merges", JsonValueKind.Array, "model.merges");
            var merges = new Dictionary<long, (int Rank, int NewId)>(list.GetArrayLength());
            int rank = 0;
            foreach (var merge in list.EnumerateArray())
            {
                string field = $"model.merges[{rank}]";
                var (left, right) = MergePair(merge, field);
                int leftId = TokenId(vocab, left, field);
                int rightId = TokenId(vocab, right, field);
                int newId = TokenId(vocab, left + right, field);
                // A repeated pair keeps its last rank, as HF's map insertion does.
                merges[BpeModel.PairKey(leftId, rightId)] = (rank, newId);
                rank++;
            }
            return merges;
        }

        private (string Left, string Right) MergePair(JsonElement merge, string field)
        {
            if (merge.ValueKind == JsonValueKind.String)
            {
                var parts = merge.GetString()!.Split(' ');
                if (parts.Length != 2)
                {
                    throw Error(field, $"\"{merge.GetString()}\" is not two tokens separated by one space");
                }
                return (parts[0], parts[1]);
            }
            if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2
                && merge[0].ValueKind == JsonValueKind.String && merge[1].ValueKind == JsonValueKind.String)
            {
                return (merge[0].GetString()!, merge[1].GetString()!);
            }
            throw Error(field, "expected \"a b\" or [\"a\", \"b\"]");
        }

        private int TokenId(Dictionary<string, int> vocab, string token, string field) =>
            vocab.TryGetValue(token, out int id)
                ? id
                : throw Error(field, $"token \"{token}\" is not in model.vocab");

        private List<AddedToken> ReadAddedTokens(JsonElement root)
        {
            var tokens = new List<AddedToken>();
            if (!root.TryGetProperty("added_tokens", out var list) || list.ValueKind == JsonValueKind.Null)
            {
                return tokens;
            }
            if (list.ValueKind != JsonValueKind.Array)
            {
                throw Error("added_tokens", "expected an array");
            }
            int index = 0;
            foreach (var entry in list.EnumerateArray())
            {
                string field = $"added_tokens[{index++}]";
                if (entry.ValueKind != JsonValueKind.Object)
                {
                    throw Error(field, "expected an object");
                }
                var idElement = Required(entry, "id", JsonValueKind.Number, field + ".id");
                if (!idElement.TryGetInt32(out int id) || id < 0)
                {
                    throw Error(field + ".id", "expected a non-negative integer");
                }
                CheckIdBound(id, field + ".id");
                string content = Required(entry, "content", JsonValueKind.String, field + ".content").GetString()!;
                if (content.Length == 0)
                {
                    throw Error(field + ".content", "is empty");
                }
                foreach (var option in new[] { "single_word", "lstrip", "rstrip" })
                {
                    if (Bool(entry, option, $"{field}.{option}"))
                    {
                        throw Error($"{field}.{option}", $"true is not supported (token \"{content}\")");
                    }
                }
                bool special = Bool(entry, "special", field + ".special");
                bool normalized = entry.TryGetProperty("normalized", out var n) && n.ValueKind != JsonValueKind.Null
                    ? Bool(entry, "normalized", field + ".normalized")
                    : !special;
                tokens.Add(new AddedToken(id, content, special, normalized));
            }
            return tokens;
        }

        private PreTokenizer ReadPreTokenizer(JsonElement element, string field)
        {
            string type = TypeOf(element, field);
            switch (type)
            {
                case "Sequence":
                    var list = Required(element, "pretokenizers", JsonValueKind.Array, field + ".pretokenizers");
                    return new SequencePreTokenizer(list.EnumerateArray()
                        .Select((step, i) => ReadPreTokenizer(step, $"{field}.pretokenizers[{i}]"))
                        .ToArray());
                case "ByteLevel":
                    return new ByteLevelPreTokenizer(
                        Bool(element, "add_prefix_space", field + ".add_prefix_space"),
                        !element.TryGetProperty("use_regex", out _) || Bool(element, "use_regex", field + ".use_regex"));
                case "Split":
                    return ReadSplit(element, field);
                default:
                    throw Error(field + ".type", $"\"{type}\" is not supported (only ByteLevel, Split, Sequence)");
            }
        }

        private SplitPreTokenizer ReadSplit(JsonElement element, string field)
        {
            var pattern = Required(element, "pattern", JsonValueKind.Object, field + ".pattern");
            string regex;
            if (pattern.TryGetProperty("Regex", out var r) && r.ValueKind == JsonValueKind.String)
            {
                regex = r.GetString()!;
            }
            else if (pattern.TryGetProperty("String", out var s) && s.ValueKind == JsonValueKind.String)
            {
                regex = System.Text.RegularExpressions.Regex.Escape(s.GetString()!);
            }
            else
            {
                throw Error(field + ".pattern", "expected {\"Regex\": …} or {\"String\": …}");
            }
            string behaviorName = Required(element, "behavior", JsonValueKind.String, field + ".behavior").GetString()!;
            if (!Enum.TryParse<SplitBehavior>(behaviorName, ignoreCase: false, out var behavior)
                || !Enum.IsDefined(behavior))
            {
                throw Error(field + ".behavior", $"\"{behaviorName}\" is not one of {string.Join(", ", Enum.GetNames<SplitBehavior>())}");
            }
            CodePointRegex compiled;
            try
            {
                compiled = new CodePointRegex(regex, $"{path}: {field}.pattern");
            }
            catch (ArgumentException e)
            {
                throw Error(field + ".pattern", $".NET cannot compile the pattern: {e.Message}");
            }
            compiled.Probe();
            return new SplitPreTokenizer(compiled, behavior, Bool(element, "invert", field + ".invert"));
        }

        private string TypeOf(JsonElement element, string field)
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                throw Error(field, "expected an object");
            }
            return Required(element, "type", JsonValueKind.String, field + ".type").GetString()!;
        }

        private JsonElement Required(JsonElement parent, string name, JsonValueKind kind, string field)
        {
            if (!parent.TryGetProperty(name, out var value))
            {
                throw Error(field, "is missing");
            }
            if (value.ValueKind != kind)
            {
                throw Error(field, $"expected {kind.ToString().ToLowerInvariant()}, found {value.ValueKind.ToString().ToLowerInvariant()}");
            }
            return value;
        }

        private bool Bool(JsonElement parent, string name, string field)
        {
            if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return false;
            }
            return value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Error(field, $"expected true or false, found {value.GetRawText()}"),
            };
        }
    }
}
