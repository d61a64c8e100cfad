using Ellsa.Runtime.Codecs.SpeechOut;
using Ellsa.Tests.Support;
using Ellsa.Tests.Vision;
using Xunit;

namespace Ellsa.Tests.SpeechOut;

/// <summary>
/// The speaker's token-to-wave paths against the authors' token2wav/tts_salmonn run in float64
/// (tests/goldens/speech_out, sine phases and noise zero): the offline call for every case (mel within
/// 1e-4, waveform within 1e-3 relative L2), and the authors' windowed loop for every streaming case,
/// fed in random uneven pieces: each window's samples must come out when the authors' loop condition
/// first holds, the pieces must have the authors' sizes, and the whole waveform must match theirs.
/// </summary>
public sealed class TokenToWaveStreamTests
{
    public static TheoryData<string, string> OfflineCases() => SpeechOutGoldens.OfflineCaseData();

    public static TheoryData<string, string> StreamCases() => SpeechOutGoldens.CaseData("stream", ".wave");

    [Theory]
    [MemberData(nameof(OfflineCases))]
    public void TheOfflineCallMatchesTheAuthors(string config, string name)
    {
        using var speaker = SpeechSpeaker.Load(SpeechOutGoldens.ModelDirectory(config), SharedBackends.Cpu);
        using var goldens = SpeechOutGoldens.Goldens(config, "offline");
        var result = speaker.Synthesize(goldens.Ints(name + ".tokens"), HiftOptions.Deterministic);
        Assert.Equal((int)goldens.Shape(name + ".mel")[2], result.MelFrames);
        VisionGoldens.AssertClose($"{config}/{name} mel", goldens.Floats(name + ".mel"), result.Mel, 1e-4);
        VisionGoldens.AssertClose($"{config}/{name} waveform", goldens.Floats(name + ".wave"), result.Samples, 1e-3);
    }

    [Theory]
    [MemberData(nameof(StreamCases))]
    public void TheWindowedLoopFedInUnevenPiecesMatchesTheAuthors(string config, string name)
    {
        using var speaker = SpeechSpeaker.Load(SpeechOutGoldens.ModelDirectory(config), SharedBackends.Cpu);
        using var goldens = SpeechOutGoldens.Goldens(config, "stream");
        int step = int.Parse(name[(name.IndexOf("_step", StringComparison.Ordinal) + 5)..]);
        var tokens = goldens.Ints(name + ".tokens");
        var expectedPieces = goldens.Ints(name + ".pieces");
        var stream = speaker.CreateWaveStream(step, HiftOptions.Deterministic);
        var random = new Random(name.Length * 7919 + step);
        var pieces = new List<WavePiece>();
        for (int at = 0; at < tokens.Length;)
        {
            int count = Math.Min(tokens.Length - at, random.Next(1, step + 2));
            int windowsBefore = stream.Windows;
            var piece = stream.Feed(tokens.AsSpan(at, count));
            at += count;
            pieces.Add(piece);
            // The authors' loop runs a window once len(tokens) > its start + step + 3: never earlier, never later.
            Assert.Equal(WindowsReady(at, step), stream.Windows);
            Assert.Equal(expectedPieces[windowsBefore..stream.Windows].Sum(), piece.Samples.Length);
        }
        var last = stream.Finish();
        pieces.Add(last);
        Assert.Equal(expectedPieces[^1], last.Samples.Length);
        Assert.Equal(expectedPieces.Length, stream.Windows);
        var whole = WavePiece.Concat(pieces);
        VisionGoldens.AssertClose($"{config}/{name} streamed waveform", goldens.Floats(name + ".wave"), whole.Samples, 1e-3);
        VisionGoldens.AssertClose($"{config}/{name} streamed mel", NewFrames(goldens, name, speaker.Config.Streaming.MelCacheLen), whole.Mel, 1e-4);
    }

    /// <summary>The same tokens all at once, one by one, and after a Reset give the same samples bit for bit.</summary>
    [Fact]
    public void HowTheTokensArriveDoesNotChangeTheWaveform()
    {
        using var speaker = SpeechSpeaker.Load(SpeechOutGoldens.ModelDirectory("small"), SharedBackends.Cpu);
        using var goldens = SpeechOutGoldens.Goldens("small", "stream");
        var tokens = goldens.Ints("n16_step10.tokens");
        var stream = speaker.CreateWaveStream(10, HiftOptions.Deterministic);
        var atOnce = WavePiece.Concat([stream.Feed(tokens), stream.Finish()]);
        stream.Reset();
        var pieces = new List<WavePiece>();
        foreach (int token in tokens)
            pieces.Add(stream.Feed([token]));
        pieces.Add(stream.Finish());
        Assert.Equal(atOnce.Samples, WavePiece.Concat(pieces).Samples);
        Assert.Equal(atOnce.Mel, WavePiece.Concat(pieces).Mel);
    }

    /// <summary>Without a step nothing comes out before Finish, and Finish is the offline call.</summary>
    [Fact]
    public void WithoutAStepEverythingComesAtFinish()
    {
        using var speaker = SpeechSpeaker.Load(SpeechOutGoldens.ModelDirectory("small"), SharedBackends.Cpu);
        using var goldens = SpeechOutGoldens.Goldens("small", "offline");
        var tokens = goldens.Ints("n16.tokens");
        var stream = speaker.CreateWaveStream(null, HiftOptions.Deterministic);
        Assert.True(stream.Feed(tokens.AsSpan(0, 10)).IsEmpty);
        Assert.True(stream.Feed(tokens.AsSpan(10)).IsEmpty);
        var result = stream.Finish();
        Assert.Equal(1, stream.Windows);
        VisionGoldens.AssertClose("small/n16 waveform", goldens.Floats("n16.wave"), result.Samples, 1e-3);
        Assert.Throws<InvalidOperationException>(() => stream.Feed([1]));
        Assert.Throws<InvalidOperationException>(() => stream.Finish());
    }

    [Fact]
    public void StepsBelowTheMinimumAndIdsOutsideTheVocabularyAreRefused()
    {
        using var speaker = SpeechSpeaker.Load(SpeechOutGoldens.ModelDirectory("small"), SharedBackends.Cpu);
        int minimum = speaker.MinimumWindowStep;
        Assert.InRange(minimum, 4, 10);
        // The first window's frames must hold the mel cache and cover the source cache.
        int spf = speaker.Hift.SamplesPerFrame;
        Assert.True(Flow.OutputFrames(minimum, speaker.Prompt, finalize: false) * spf >= speaker.Config.Streaming.SourceCacheLen);
        var error = Assert.Throws<ArgumentException>(() => speaker.CreateWaveStream(minimum - 1, HiftOptions.Deterministic));
        Assert.Contains($"at least {minimum}", error.Message);
        var stream = speaker.CreateWaveStream(minimum, HiftOptions.Deterministic);
        var bad = Assert.Throws<ArgumentException>(() => stream.Feed([1, 2, speaker.Config.Flow.VocabSize]));
        Assert.Contains($"speech token 2 is {speaker.Config.Flow.VocabSize}", bad.Message);
        Assert.True(stream.Finish().IsEmpty);
    }

    /// <summary>Windows the authors' loop has run once <paramref name="count"/> tokens exist: while num + step + 3 &lt; len.</summary>
    private static int WindowsReady(int count, int step)
    {
        int windows = 0, num = 0;
        while (num + step + 3 < count)
        {
            num += windows == 0 ? step - 3 : step;
            windows++;
        }
        return windows;
    }

    /// <summary>The goldens' per-window mels (cache frames in front of each but the first) without the cached frames.</summary>
    private static float[] NewFrames(VisionGoldens.Tensors goldens, string name, int cache)
    {
        var mels = goldens.Floats(name + ".mels");
        var frames = goldens.Ints(name + ".mel_frames");
        int total = (int)goldens.Shape(name + ".mels")[2], kept = frames.Sum() - cache * (frames.Length - 1);
        var result = new float[FlowOutput.Channels * kept];
        for (int c = 0; c < FlowOutput.Channels; c++)
        {
            int at = 0, into = 0;
            for (int w = 0; w < frames.Length; w++)
            {
                int skip = w == 0 ? 0 : cache;
                Array.Copy(mels, c * total + at + skip, result, c * kept + into, frames[w] - skip);
                at += frames[w];
                into += frames[w] - skip;
            }
        }
        return result;
    }
}
