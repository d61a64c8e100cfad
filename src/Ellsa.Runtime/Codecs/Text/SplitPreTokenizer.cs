namespace Ellsa.Runtime.Codecs.Text;

/// <summary>
/// HF's Split: the pattern's matches and the gaps between them become pieces, then the behaviour
/// decides what happens to the matches (kept alone, dropped, glued to a neighbour, or runs of them
/// joined). <c>invert</c> swaps the roles of matches and gaps.
/// </summary>
internal sealed class SplitPreTokenizer(CodePointRegex pattern, SplitBehavior behavior, bool invert)
    : PreTokenizer
{
    public override List<string> Apply(List<string> pieces)
    {
        var output = new List<string>(pieces.Count * 4);
        var matches = new List<(int Start, int Length)>();
        var parts = new List<(int Start, int End, bool IsMatch)>();
        foreach (var piece in pieces)
        {
            pattern.Matches(piece, matches);
            Segment(piece.Length, matches, parts);
            foreach (var (start, end, _) in Combine(parts))
            {
                if (end > start)
                {
                    output.Add(piece[start..end]);
                }
            }
        }
        return output;
    }

    private void Segment(int length, List<(int Start, int Length)> matches,
        List<(int Start, int End, bool IsMatch)> parts)
    {
        parts.Clear();
        int previous = 0;
        foreach (var (start, len) in matches)
        {
            if (start != previous)
            {
                parts.Add((previous, start, invert));
            }
            parts.Add((start, start + len, !invert));
            previous = start + len;
        }
        if (previous != length || length == 0)
        {
            parts.Add((previous, length, invert));
        }
    }

    private List<(int Start, int End, bool IsMatch)> Combine(List<(int Start, int End, bool IsMatch)> parts)
    {
        var result = new List<(int Start, int End, bool IsMatch)>(parts.Count);
        bool previousMatch = false;
        switch (behavior)
        {
            case SplitBehavior.Isolated:
                result.AddRange(parts);
                break;
            case SplitBehavior.Removed:
                result.AddRange(parts.Where(p => !p.IsMatch));
                break;
            case SplitBehavior.MergedWithPrevious:
                foreach (var p in parts)
                {
                    if (p.IsMatch && !previousMatch && result.Count > 0)
                    {
                        result[^1] = (result[^1].Start, p.End, false);
                    }
                    else
                    {
                        result.Add((p.Start, p.End, false));
                    }
                    previousMatch = p.IsMatch;
                }
                break;
            case SplitBehavior.MergedWithNext:
                for (int i = parts.Count - 1; i >= 0; i--)
                {
                    var p = parts[i];
                    if (p.IsMatch && !previousMatch && result.Count > 0)
                    {
                        result[^1] = (p.Start, result[^1].End, false);
                    }
                    else
                    {
                        result.Add((p.Start, p.End, false));
                    }
                    previousMatch = p.IsMatch;
                }
                result.Reverse();
                break;
            case SplitBehavior.Contiguous:
                foreach (var p in parts)
                {
                    if (p.IsMatch == previousMatch && result.Count > 0)
                    {
                        result[^1] = (result[^1].Start, p.End, false);
                    }
                    else
                    {
                        result.Add((p.Start, p.End, false));
                    }
                    previousMatch = p.IsMatch;
                }
                break;
        }
        return result;
    }
}
