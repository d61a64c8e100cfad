using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Ellsa.Runtime.Codecs.Text;

/// <summary>
/// A .NET <see cref="Regex"/> that matches as if it read Unicode code points, as HF's Oniguruma
/// (and Python's <c>regex</c>) do. .NET matches UTF-16 units, so a supplementary-plane character
/// is two surrogates of category Cs: with the Llama-3 pattern "x😀y" would split as x|😀|y instead
/// of x|😀y, and "a𝐀b" would not be one letter run. Before matching, each supplementary character
/// is replaced by one BMP stand-in of the same general category (categories are all that the
/// tokenizer patterns test, and no supplementary character is white space), and match positions
/// are mapped back onto the original string.
/// </summary>
internal sealed class CodePointRegex
{
    private static readonly char[] StandIns = BuildStandIns();

    /// <summary>
    /// The budget of one match. The patterns have lookahead (Llama-3's <c>\s+(?!\S)</c>), which
    /// RegexOptions.NonBacktracking cannot run, so a backtracking engine is kept and a pattern that
    /// backtracks catastrophically (<c>(.|.|.)*!</c>) is stopped instead; honest patterns take
    /// microseconds per match.
    /// </summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(500);

    private readonly Regex regex;
    private readonly string source;

    /// <param name="source">Names the pattern in errors: the file and its field.</param>
    public CodePointRegex(string pattern, string source = "the pattern")
    {
        regex = new Regex(pattern, RegexOptions.CultureInvariant, MatchTimeout);
        this.source = source;
    }

    /// <summary>Matches as (start, length) pairs in UTF-16 units of <paramref name="text"/>.</summary>
    /// <exception cref="TokenizerException">The pattern ran past <see cref="MatchTimeout"/> (named with its source).</exception>
    public void Matches(string text, List<(int Start, int Length)> matches)
    {
        try
        {
            MatchesCore(text, matches);
        }
        catch (RegexMatchTimeoutException)
        {
            matches.Clear();
            string shown = regex.ToString();
            if (shown.Length > 80)
            {
                shown = shown[..80] + "…";
            }
            throw new TokenizerException(
                $"{source}: the pattern \"{shown}\" ran past {MatchTimeout.TotalMilliseconds} ms on a {text.Length}-character piece (catastrophic backtracking); fix the pattern");
        }
    }

    /// <summary>
    /// Runs the pattern over a few ordinary texts at load, so that a pattern that backtracks
    /// catastrophically is named when the tokenizer is loaded rather than when a session starts.
    /// </summary>
    /// <exception cref="TokenizerException">The pattern ran past <see cref="MatchTimeout"/>.</exception>
    public void Probe()
    {
        var matches = new List<(int Start, int Length)>();
        foreach (string text in ProbeTexts)
        {
            Matches(text, matches);
        }
    }

    private static readonly string[] ProbeTexts =
    [
        new string('a', 48),
        "Hello, world! It's 2025: the robot picks up 3 red blocks.\n\n   Done?",
        new string(' ', 48) + "x",
        string.Concat(Enumerable.Repeat("1a.", 16)),
    ];

    private void MatchesCore(string text, List<(int Start, int Length)> matches)
    {
        matches.Clear();
        if (text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') < 0)
        {
            foreach (ValueMatch m in regex.EnumerateMatches(text))
            {
                matches.Add((m.Index, m.Length));
            }
            return;
        }

        var substituted = new StringBuilder(text.Length);
        var originalIndex = new List<int>(text.Length + 1);
        for (int i = 0; i < text.Length;)
        {
            originalIndex.Add(i);
            if (char.IsSurrogatePair(text, i))
            {
                var category = CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(text, i));
                substituted.Append(StandIns[(int)category]);
                i += 2;
            }
            else
            {
                substituted.Append(text[i]);
                i++;
            }
        }
        originalIndex.Add(text.Length);
        foreach (ValueMatch m in regex.EnumerateMatches(substituted.ToString()))
        {
            int start = originalIndex[m.Index];
            matches.Add((start, originalIndex[m.Index + m.Length] - start));
        }
    }

    /// <summary>
    /// For each general category, the first BMP character above Latin-1 punctuation that has it,
    /// is not white space, and whose case mappings stay outside ASCII (so a case-insensitive
    /// ASCII literal in a pattern cannot match a stand-in). Separators, controls and surrogates
    /// have no supplementary-plane members, so their slots are never used.
    /// </summary>
    private static char[] BuildStandIns()
    {
        var table = new char[32];
        var found = new bool[32];
        for (int c = 0xA1; c <= 0xFFFF; c++)
        {
            if (c is >= 0xD800 and <= 0xDFFF)
            {
                continue;
            }
            char ch = (char)c;
            int category = (int)CharUnicodeInfo.GetUnicodeCategory(ch);
            if (found[category] || char.IsWhiteSpace(ch)
                || char.ToUpperInvariant(ch) < 0x80 || char.ToLowerInvariant(ch) < 0x80)
            {
                continue;
            }
            table[category] = ch;
            found[category] = true;
        }
        return table;
    }
}
