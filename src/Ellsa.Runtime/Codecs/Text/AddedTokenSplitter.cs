namespace Ellsa.Runtime.Codecs.Text;

/// <summary>
/// Finds added tokens in raw text before any pre-tokenisation, as HF's AddedVocabulary does:
/// leftmost-longest matching, first over the tokens with <c>normalized: false</c>, then over the
/// others in the text that is left. Matched tokens keep their ids and never reach BPE.
/// </summary>
internal sealed class AddedTokenSplitter
{
    private readonly Dictionary<char, AddedToken[]>[] passes;

    public AddedTokenSplitter(IReadOnlyList<AddedToken> tokens)
    {
        passes = new[] { false, true }
            .Select(normalized => ByFirstChar(tokens.Where(t => t.Normalized == normalized)))
            .Where(pass => pass.Count > 0)
            .ToArray();
    }

    public bool IsEmpty => passes.Length == 0;

    /// <summary>The text as segments: either an added token's id, or a run of plain text.</summary>
    public List<(int TokenId, string? Text)> Split(string text)
    {
        var segments = new List<(int TokenId, string? Text)> { (-1, text) };
        foreach (var pass in passes)
        {
            var next = new List<(int TokenId, string? Text)>(segments.Count);
            foreach (var segment in segments)
            {
                if (segment.Text is null)
                {
                    next.Add(segment);
                }
                else
                {
                    SplitOne(segment.Text, pass, next);
                }
            }
            segments = next;
        }
        return segments;
    }

    private static void SplitOne(string text, Dictionary<char, AddedToken[]> pass,
        List<(int TokenId, string? Text)> output)
    {
        int plainStart = 0;
        for (int i = 0; i < text.Length;)
        {
            var token = LongestAt(text, i, pass);
            if (token is null)
            {
                i++;
                continue;
            }
            if (i > plainStart)
            {
                output.Add((-1, text[plainStart..i]));
            }
            output.Add((token.Id, null));
            i += token.Content.Length;
            plainStart = i;
        }
        if (plainStart < text.Length)
        {
            output.Add((-1, text[plainStart..]));
        }
    }

    private static AddedToken? LongestAt(string text, int index,
        Dictionary<char, AddedToken[]> pass)
    {
        if (!pass.TryGetValue(text[index], out var candidates))
        {
            return null;
        }
        var rest = text.AsSpan(index);
        foreach (var token in candidates)
        {
            if (rest.StartsWith(token.Content, StringComparison.Ordinal))
            {
                return token;
            }
        }
        return null;
    }

    private static Dictionary<char, AddedToken[]> ByFirstChar(IEnumerable<AddedToken> tokens) =>
        tokens.Where(t => t.Content.Length > 0)
            .GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
}
