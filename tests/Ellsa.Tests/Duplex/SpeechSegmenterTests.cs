using Ellsa.Runtime.Codecs.Text;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Duplex;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Duplex;

/// <summary>
/// The segmenter against a line-by-line transcription of the wrapper's list code
/// (ev/model_wrapper_emu.py:L874-907: tts_features as lists of row tags, torch slicing as clamped
/// ranges) on random block sequences with punctuation, silence and eot ids placed anywhere.
/// </summary>
public sealed class SpeechSegmenterTests
{
    private static readonly SpecialTokens Tokens = new();
    private static readonly int[] Dots = [13, 0, 30, 198];

    [Fact]
    public void SegmentsMatchTheWrappersListCode()
    {
        int seed = Environment.TickCount;
        var random = new Random(seed);
        for (int trial = 0; trial < 200; trial++)
        {
            var segmenter = new SpeechSegmenter(Dots, Tokens);
            var expected = new List<List<int>>();
            var actual = new List<List<int>>();
            int tag = 0;
            int blocks = random.Next(1, 30);
            for (int b = 0; b < blocks; b++)
            {
                var text = RandomText(random);
                // Rows come from generate: at most one per text id, none after a silent start.
                int rows = text[0] == Tokens.Silence ? 0 : random.Next(0, text.Length + 1);
                var tags = Enumerable.Range(tag, rows).ToList();
                tag += rows;

                Wrapper(expected, text, tags);
                var cut = segmenter.Add(text, rows);
                if (rows == 0)
                {
                    Assert.Equal(new SegmentCut(0, false), cut);
                    continue;
                }
                if (actual.Count == 0)
                    actual.Add([]);
                actual[^1].AddRange(tags.Take(cut.ToOpen));
                if (cut.Closes)
                    actual.Add(tags.Skip(cut.ToOpen).ToList());
                Assert.Equal(actual[^1].Count, segmenter.OpenRows);
            }
            Assert.True(expected.Count == actual.Count, $"seed {seed} trial {trial}: {expected.Count} segments expected, {actual.Count} made");
            for (int s = 0; s < expected.Count; s++)
                Assert.True(expected[s].SequenceEqual(actual[s]), $"seed {seed} trial {trial}: segment {s}: [{string.Join(",", actual[s])}] vs [{string.Join(",", expected[s])}]");
        }
    }

    [Fact]
    public void SentenceEndsAreTheSingleIdEncodings()
    {
        var tokenizer = TextTokenizer.Load(Path.Combine(TestPaths.Tiny, "tokenizer.json"));
        var ids = SpeechSegmenter.SentenceEndIds(tokenizer);
        var single = SpeechSegmenter.SentenceEnds.Select(tokenizer.Encode).Where(e => e.Length == 1).Select(e => e[0]).Distinct().Order();
        Assert.Equal(single, ids.Order());
        Assert.Contains(tokenizer.Encode(".")[0], ids);
        Assert.Empty(SpeechSegmenter.SentenceEndIds(null));
    }

    [Fact]
    public void ResetStartsAFreshFirstSegment()
    {
        var segmenter = new SpeechSegmenter(Dots, Tokens);
        Assert.Equal(new SegmentCut(9, false), segmenter.Add([1, 2, 3, 4, 5, 6, 7, 8, 9], 9));
        Assert.Equal(new SegmentCut(9, false), segmenter.Add([1, 2, 3, 4, 5, 6, 7, 8, 9], 9));
        // 18 + 9 > 20 with a period at index 1: rows 0…1 close the segment.
        Assert.Equal(new SegmentCut(2, true), segmenter.Add([1, 13, 3, 4, 5, 6, 7, 8, 9], 9));
        Assert.Equal(7, segmenter.OpenRows);
        segmenter.Reset();
        Assert.Equal(new SegmentCut(9, false), segmenter.Add([1, 13, 3, 4, 5, 6, 7, 8, 9], 9));
    }

    private static int[] RandomText(Random random)
    {
        int n = random.Next(1, 10);
        var text = new int[n];
        for (int i = 0; i < n; i++)
        {
            text[i] = random.Next(10) switch
            {
                0 => Tokens.Silence,
                1 => Tokens.Eot,
                2 or 3 => Dots[random.Next(Dots.Length)],
                _ => 40 + random.Next(50),
            };
        }
        return text;
    }

    /// <summary>The wrapper's code, statement by statement, over any row type (tags here, hidden rows in the session tests).</summary>
    internal static void Wrapper<T>(List<List<T>> ttsFeatures, int[] generated, List<T> validHidden) => Wrapper(ttsFeatures, generated, validHidden, Dots);

    internal static void Wrapper<T>(List<List<T>> ttsFeatures, int[] generated, List<T> validHidden, IReadOnlyList<int> dots)
    {
        if (validHidden.Count == 0)
            return;
        var outputs = (int[])generated.Clone();
        if (outputs[^1] != Tokens.Eot)
            outputs[^1] = Tokens.Eot;
        var validOut = outputs.Where(id => id != Tokens.Silence && id != Tokens.Eot).ToList();
        int splitIdx = -1;
        foreach (int d in dots)
        {
            int last = validOut.LastIndexOf(d);
            if (last >= 0 && last > splitIdx)
                splitIdx = last;
        }
        if (ttsFeatures.Count == 0)
        {
            ttsFeatures.Add([.. validHidden]);
        }
        else if (ttsFeatures[^1].Count + validHidden.Count > 20 && splitIdx >= 0)
        {
            ttsFeatures[^1].AddRange(validHidden.Take(splitIdx + 1));
            ttsFeatures.Add(validHidden.Skip(splitIdx + 1).ToList());
        }
        else
        {
            ttsFeatures[^1].AddRange(validHidden);
        }
    }
}
