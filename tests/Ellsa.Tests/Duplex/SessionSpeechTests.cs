using Ellsa.Runtime.Codecs.SpeechOut;
using Ellsa.Runtime.Duplex;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Duplex;

/// <summary>
/// The session's speech on weights/tiny (which has a speech decoder) against the same pieces run the
/// evaluation's way: the blocks' rows grouped by the wrapper's list code, each segment's rows through
/// a fresh speech-LM stream at once, its tokens through a fresh token-to-wave stream with the session's
/// step, the segments concatenated. The rows themselves are checked in SpeechHiddenRowsTests, the
/// streams against the authors' goldens in SpeechOut.
/// </summary>
public sealed class SessionSpeechTests : IClassFixture<SessionGoldenTests.TinySpeakingModel>
{
    private readonly Model _model;

    public SessionSpeechTests(SessionGoldenTests.TinySpeakingModel fixture) => _model = fixture.Model;

    private static SessionScript Script => SessionFile.Read(Path.Combine(TestPaths.Root, "tests", "goldens", "sessions", "speech_14.session.json"));

    private static SpeakOptions Frozen(int? step = null) => new() { Greedy = true, Deterministic = true, WindowStep = step };

    [Fact]
    public void BlocksCarryTheSegmentsSpeechAsTheEvaluationMakesIt()
    {
        var speaker = _model.Speaker!;
        var script = Script;
        using var session = _model.CreateSession(new SessionOptions { Mode = script.Mode, Speak = Frozen() });
        Assert.True(session.Speaks);
        Assert.Equal(speaker.SampleRate, session.SpeechSampleRate);
        var results = script.Blocks.Select(session.Step).ToList();
        var tail = session.FinishSpeech();
        var spoken = results.SelectMany(r => r.Speech).Concat(tail).ToArray();

        var segments = new List<List<float[]>>();
        foreach (var r in results)
            SpeechSegmenterTests.Wrapper(segments, r.TextIds, r.SpeechHidden.ToList(), SpeechSegmenter.SentenceEndIds(_model.Tokenizer));
        Assert.True(results.Sum(r => r.Counters.SpeechRows) >= 8, "the tiny session should hand the speech decoder at least one LM call of rows");
        var expected = new List<float>();
        foreach (var segment in segments)
            expected.AddRange(Evaluate(speaker, segment, session.SpeechWindowStep));

        Assert.True(expected.Count > 0);
        Assert.Equal(expected.Count, spoken.Length);
        double error = Numeric.RelativeL2(spoken, expected.Select(v => (double)v).ToArray());
        Assert.True(error < 1e-6, $"session speech vs the segments run offline: relative L2 {error:E2}");

        foreach (var r in results)
        {
            Assert.Equal(r.Speech.Length, r.Counters.SpeechSamples);
            Assert.Equal(r.SpeechHidden.Count, r.Counters.SpeechRows);
            Assert.Equal(r.Speech.Length > 0, r.Timings.SpeechFirstPacketMs is not null);
            Assert.True(r.Timings.SpeechMs >= r.Timings.SpeechLmMs);
        }
        Assert.Contains(results, r => r.Has(BlockEventKind.SpeechStarted));
    }

    [Fact]
    public void CancelDropsTheBlocksSpeechAndTheOpenSegment()
    {
        var script = Script;
        using var session = _model.CreateSession(new SessionOptions { Mode = script.Mode, Speak = Frozen() });
        var results = new List<BlockResult>();
        int cancelAt = -1;
        for (int b = 0; b < script.Blocks.Count; b++)
        {
            // Cancel the first block that would have spoken: known only by stepping a twin session up to it.
            if (cancelAt < 0 && b > 0 && results[^1].Counters.SpeechRows > 0)
            {
                cancelAt = b;
                session.Cancel();
            }
            results.Add(session.Step(script.Blocks[b]));
        }
        Assert.True(cancelAt > 0, "no block of the tiny session handed rows to the speech decoder");
        var cancelled = results[cancelAt];
        Assert.Empty(cancelled.Speech);
        var notice = Assert.Single(cancelled.Events, e => e.Kind == BlockEventKind.Cancelled);
        Assert.Contains($"dropped {cancelled.Counters.SpeechDroppedSamples} speech samples", notice.Detail);
        Assert.Contains($"{cancelled.Counters.SpeechDroppedTokens} speech tokens", notice.Detail);

        // The blocks after the cancel are a new conversation's speech: their rows through fresh streams.
        var tail = session.FinishSpeech();
        var after = results.Skip(cancelAt + 1).ToList();
        var segments = new List<List<float[]>>();
        foreach (var r in after)
            SpeechSegmenterTests.Wrapper(segments, r.TextIds, r.SpeechHidden.ToList(), SpeechSegmenter.SentenceEndIds(_model.Tokenizer));
        var expected = segments.SelectMany(s => Evaluate(_model.Speaker!, s, session.SpeechWindowStep)).ToArray();
        var spoken = after.SelectMany(r => r.Speech).Concat(tail).ToArray();
        Assert.Equal(expected.Length, spoken.Length);
        if (expected.Length > 0)
            Assert.True(Numeric.RelativeL2(spoken, expected.Select(v => (double)v).ToArray()) < 1e-6);
    }

    [Fact]
    public void SpeakOptionsAreChecked()
    {
        using var silent = _model.CreateSession(new SessionOptions { Speak = new SpeakOptions { Enabled = false } });
        Assert.False(silent.Speaks);
        Assert.Empty(silent.FinishSpeech());
        var low = Assert.Throws<ArgumentOutOfRangeException>(() => _model.CreateSession(new SessionOptions { Speak = Frozen(_model.Speaker!.MinimumWindowStep - 1) }));
        Assert.Contains($"at least {_model.Speaker!.MinimumWindowStep} tokens", low.Message);
    }

    /// <summary>One segment the evaluation's way: all rows into a fresh LM stream, its tokens into a fresh wave stream.</summary>
    private static float[] Evaluate(SpeechSpeaker speaker, List<float[]> rows, int step)
    {
        using var lm = speaker.CreateLmStream(new SpeechLmOptions { Greedy = true });
        int width = speaker.Projection.Config.InputSize;
        var flat = rows.SelectMany(r => r).ToArray();
        var tokens = lm.Feed(flat, rows.Count).Concat(lm.Finish()).ToArray();
        if (lm.State == SpeechLmState.Abandoned)
            return [];
        var wave = speaker.CreateWaveStream(step, HiftOptions.Deterministic);
        var first = wave.Feed(tokens);
        return first.Samples.Concat(wave.Finish().Samples).ToArray();
    }
}
