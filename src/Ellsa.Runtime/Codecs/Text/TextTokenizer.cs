using System.Text;

namespace Ellsa.Runtime.Codecs.Text;

/// <summary>
/// Byte-level BPE over a Hugging Face <c>tokenizer.json</c> (the Llama-3 text tokenizer and the
/// FAST action tokenizer are both this kind), reproducing HF <c>tokenizers</c> ids exactly:
/// added tokens are found first (leftmost-longest), the rest is pre-tokenised (Split / ByteLevel /
/// Sequence) and each piece is merged by merge rank (with <c>ignore_merges</c> honoured).
/// Encoding equals HF's <c>encode(text, add_special_tokens=False)</c>.
/// </summary>
/// <remarks>
/// Written by hand rather than on Microsoft.ML.Tokenizers 2.0.1: its BpeTokenizer has no
/// <c>ignore_merges</c> (Llama-3 sets it; on a piece that is a vocabulary entry but that the
/// merges split differently it returns the merged split, HF the whole token), its
/// RegexPreTokenizer runs .NET Regex over UTF-16 units so emoji and other supplementary
/// characters split differently from HF (see <see cref="CodePointRegex"/>), and its
/// TiktokenTokenizer ranks merges by the merged token's id instead of the merge list. Wrapping
/// it to fix the first two would leave it only the merge loop.
/// </remarks>
public sealed class TextTokenizer
{
    private readonly BpeModel model;
    private readonly PreTokenizer? preTokenizer;
    private readonly AddedTokenSplitter addedTokens;
    private readonly Dictionary<string, int> addedByContent;
    private readonly string?[] idToToken;
    private readonly bool[] isSpecial;
    private readonly byte[] tokenBytes;
    private readonly int[] tokenByteStart;

    private TextTokenizer(string path, TokenizerJsonReader.Parts parts)
    {
        SourcePath = path;
        model = parts.Model;
        preTokenizer = parts.PreTokenizer;
        addedTokens = new AddedTokenSplitter(parts.AddedTokens);
        addedByContent = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var token in parts.AddedTokens)
        {
            addedByContent[token.Content] = token.Id;
        }
        idToToken = parts.IdToToken;
        isSpecial = parts.IsSpecial;
        (tokenBytes, tokenByteStart) = TokenBytes(idToToken);
    }

    /// <summary>The tokenizer.json this was loaded from; error messages name it.</summary>
    public string SourcePath { get; }

    /// <summary>One past the highest id (model vocabulary or added token).</summary>
    public int IdCount => idToToken.Length;

    /// <exception cref="TokenizerException">The file is missing, not JSON, or uses a feature
    /// this tokenizer does not reproduce; the message names the file and the field.</exception>
    public static TextTokenizer Load(string tokenizerJsonPath) =>
        new(tokenizerJsonPath, TokenizerJsonReader.Read(tokenizerJsonPath));

    public bool ContainsId(int id) => id >= 0 && id < idToToken.Length && idToToken[id] is not null;

    /// <summary>The token string of an id (byte symbols for model tokens, the content of an
    /// added token), or null for an id the tokenizer does not have.</summary>
    public string? IdToToken(int id) => ContainsId(id) ? idToToken[id] : null;

    /// <summary>The id of an added token's content or of a model token, or null.</summary>
    public int? TokenToId(string token) =>
        addedByContent.TryGetValue(token, out int id) ? id : model.TryGetId(token, out id) ? id : null;

    public bool IsSpecial(int id) => ContainsId(id) && isSpecial[id];

    public int[] Encode(string text)
    {
        var ids = new List<int>(text.Length / 3 + 4);
        Encode(text, ids);
        return ids.ToArray();
    }

    /// <summary>Appends the ids of <paramref name="text"/> to <paramref name="ids"/>.</summary>
    public void Encode(string text, List<int> ids)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (addedTokens.IsEmpty)
        {
            EncodePlain(text, ids);
            return;
        }
        foreach (var (tokenId, plain) in addedTokens.Split(text))
        {
            if (plain is null)
            {
                ids.Add(tokenId);
            }
            else
            {
                EncodePlain(plain, ids);
            }
        }
    }

    /// <summary>
    /// The bytes the ids stand for. Each token contributes the bytes of its byte symbols, or its
    /// UTF-8 when it has a character outside the byte alphabet (HF's ByteLevel decoder rule).
    /// </summary>
    /// <exception cref="TokenizerException">An id the tokenizer does not have (named with its
    /// position).</exception>
    public byte[] DecodeToBytes(ReadOnlySpan<int> ids, bool skipSpecialTokens = false)
    {
        int length = 0;
        for (int i = 0; i < ids.Length; i++)
        {
            int id = ids[i];
            if (!ContainsId(id))
            {
                throw new TokenizerException(
                    $"{SourcePath}: token id {id} (position {i}) is not in the vocabulary (ids 0..{IdCount - 1})");
            }
            if (!(skipSpecialTokens && isSpecial[id]))
            {
                length += tokenByteStart[id + 1] - tokenByteStart[id];
            }
        }
        var bytes = new byte[length];
        int at = 0;
        foreach (int id in ids)
        {
            if (skipSpecialTokens && isSpecial[id])
            {
                continue;
            }
            var span = tokenBytes.AsSpan(tokenByteStart[id], tokenByteStart[id + 1] - tokenByteStart[id]);
            span.CopyTo(bytes.AsSpan(at));
            at += span.Length;
        }
        return bytes;
    }

    /// <summary>
    /// Ids back to text. Invalid UTF-8 becomes U+FFFD (HF's lossy decode).
    /// <paramref name="cleanUpTokenizationSpaces"/> applies transformers' clean_up_tokenization
    /// (" ." → "." and the like), which Llama-3's tokenizer_config.json turns on for
    /// <c>tokenizer.decode</c>.
    /// </summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false,
        bool cleanUpTokenizationSpaces = false)
    {
        string text = Encoding.UTF8.GetString(DecodeToBytes(ids, skipSpecialTokens));
        return cleanUpTokenizationSpaces ? CleanUpTokenizationSpaces(text) : text;
    }

    /// <summary>transformers' <c>clean_up_tokenization</c>, the same replacements in the same order.</summary>
    public static string CleanUpTokenizationSpaces(string text) =>
        text.Replace(" .", ".").Replace(" ?", "?").Replace(" !", "!").Replace(" ,", ",")
            .Replace(" ' ", "'").Replace(" n't", "n't").Replace(" 'm", "'m").Replace(" 's", "'s")
            .Replace(" 've", "'ve").Replace(" 're", "'re");

    /// <summary>The pre-tokenised pieces (after ByteLevel, so in byte symbols) of the plain-text
    /// parts of <paramref name="text"/>, in order; added tokens contribute none.</summary>
    internal List<string> PreTokenize(string text)
    {
        var pieces = new List<string>();
        foreach (var (_, plain) in addedTokens.IsEmpty ? [(-1, text)] : addedTokens.Split(text))
        {
            if (plain is { Length: > 0 })
            {
                pieces.AddRange(preTokenizer is null ? [plain] : preTokenizer.Apply([plain]));
            }
        }
        return pieces;
    }

    private void EncodePlain(string text, List<int> ids)
    {
        if (text.Length == 0)
        {
            return;
        }
        if (preTokenizer is null)
        {
            model.Tokenize(text, ids);
            return;
        }
        foreach (var piece in preTokenizer.Apply([text]))
        {
            model.Tokenize(piece, ids);
        }
    }

    private static (byte[] Bytes, int[] Start) TokenBytes(string?[] tokens)
    {
        var start = new int[tokens.Length + 1];
        var all = new List<byte>(tokens.Length * 4);
        for (int id = 0; id < tokens.Length; id++)
        {
            start[id] = all.Count;
            string? token = tokens[id];
            if (token is null)
            {
                continue;
            }
            bool allSymbols = true;
            foreach (char c in token)
            {
                allSymbols &= ByteLevelAlphabet.CharToByte(c) >= 0;
            }
            if (allSymbols)
            {
                foreach (char c in token)
                {
                    all.Add((byte)ByteLevelAlphabet.CharToByte(c));
                }
            }
            else
            {
                all.AddRange(Encoding.UTF8.GetBytes(token));
            }
        }
        start[tokens.Length] = all.Count;
        return (all.ToArray(), start);
    }
}
