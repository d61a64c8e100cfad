using System.Text.Json;
using System.Text.RegularExpressions;
using Ellsa.Runtime.Codecs.Text;
using Xunit;

namespace Ellsa.Tests.Codecs;

/// <summary>HF's Split behaviours. The table is the one in HF tokenizers' documentation of
/// SplitDelimiterBehavior (splitting "the-final--countdown" on '-'); the edge rows follow HF's
/// merge rules by hand (a delimiter joins a neighbour only when that neighbour is not itself a
/// delimiter).</summary>
public class SplitPreTokenizerTests
{
    public static TheoryData<string, string, string[]> Table => new()
    {
        { "Removed", "the-final--countdown", ["the", "final", "countdown"] },
        { "Isolated", "the-final--countdown", ["the", "-", "final", "-", "-", "countdown"] },
        { "MergedWithPrevious", "the-final--countdown", ["the-", "final-", "-", "countdown"] },
        { "MergedWithNext", "the-final--countdown", ["the", "-final", "-", "-countdown"] },
        { "Contiguous", "the-final--countdown", ["the", "-", "final", "--", "countdown"] },
        { "MergedWithPrevious", "--the-final--countdown--", ["-", "-", "the-", "final-", "-", "countdown-", "-"] },
        { "MergedWithNext", "--the-final--countdown-", ["-", "-the", "-final", "-", "-countdown", "-"] },
        { "Contiguous", "--a---b-", ["--", "a", "---", "b", "-"] },
        { "Removed", "---", [] },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void BehavioursFollowHuggingFace(string behavior, string text, string[] expected)
    {
        var split = new SplitPreTokenizer(new CodePointRegex(Regex.Escape("-")), Enum.Parse<SplitBehavior>(behavior), invert: false);
        Assert.Equal(expected, split.Apply([text]));
    }

    [Fact]
    public void InvertedRemovedKeepsOnlyTheMatches()
    {
        var split = new SplitPreTokenizer(new CodePointRegex(Regex.Escape("-")), SplitBehavior.Removed, invert: true);
        Assert.Equal(["-", "-", "-"], split.Apply(["the-final--countdown"]));
    }

    /// <summary>GPT-2 style tokenizers often say Split(pattern, Removed, invert: true); with a
    /// pattern that covers all text it must equal Isolated. Fresh random strings.</summary>
    [Fact]
    public void InvertedRemovedEqualsIsolatedForACoveringPattern()
    {
        var pattern = new CodePointRegex(ByteLevelPreTokenizer.Gpt2Pattern);
        var isolated = new SplitPreTokenizer(pattern, SplitBehavior.Isolated, invert: false);
        var inverted = new SplitPreTokenizer(pattern, SplitBehavior.Removed, invert: true);
        int seed = RandomText.FreshSeed();
        var random = new Random(seed);
        for (int i = 0; i < 200; i++)
        {
            string text = RandomText.Next(random, 50);
            var pieces = isolated.Apply([text]);
            Assert.True(pieces.SequenceEqual(inverted.Apply([text])), $"seed {seed}: {JsonSerializer.Serialize(text)}");
            Assert.Equal(text, string.Concat(pieces));
        }
    }
}
