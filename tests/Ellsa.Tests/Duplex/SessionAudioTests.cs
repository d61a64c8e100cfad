using Ellsa.Runtime.Codecs.Speech;
using Ellsa.Runtime.Duplex;
using Ellsa.Runtime.Moe;
using Ellsa.Tests.Support;
using Xunit;

namespace Ellsa.Tests.Duplex;

/// <summary>
/// A session that listens: PCM blocks through fbank, the speech encoder and the projector, with the
/// encoder's lookahead held by the documented policy (a block steps once the stream reaches its end
/// plus the lookahead). Checked against a twin session fed the whole-file encoding as embeddings.
/// </summary>
public sealed class SessionAudioTests : IClassFixture<SessionGoldenTests.TinyModel>
{
    private const int Second = LhotseFbank.SampleRate;
    private readonly Model _model;
    private readonly Random _random = new();

    public SessionAudioTests(SessionGoldenTests.TinyModel fixture) => _model = fixture.Model;

    private SpeechListener Listener => _model.Speech ?? throw new InvalidOperationException("weights/tiny has no speech encoder");

    /// <summary>Speech-like test audio: a few random tones under noise, fresh each run.</summary>
    private float[] Audio(int samples)
    {
        var tones = Enumerable.Range(0, 3).Select(_ => (Hz: 100 + 2000 * _random.NextDouble(), Amplitude: 0.05 + 0.2 * _random.NextDouble())).ToArray();
        return Enumerable.Range(0, samples).Select(i => (float)(tones.Sum(t => t.Amplitude * Math.Sin(2 * Math.PI * t.Hz * i / Second))
                                                                 + 0.02 * (_random.NextDouble() - 0.5))).ToArray();
    }

    [Fact]
    public void APcmSessionDecodesAsATwinFedTheWholeFileEncoding()
    {
        int blocks = 4;
        var audio = Audio(blocks * Second - _random.Next(1, Second / 2));
        // The reference: the audio zero-padded to whole blocks, encoded at once, 5 rows per block.
        var padded = new float[blocks * Second];
        audio.CopyTo(padded, 0);
        var fbank = LhotseFbank.Compute(padded, Listener.Config.NumMelBins);
        var encoding = Listener.Encoder.EncodeOffline(fbank, LhotseFbank.FrameCount(padded.Length));
        Assert.Equal(blocks * SessionFile.AudioRowsPerBlock, encoding.Rows);
        int width = encoding.Embeddings.Length / encoding.Rows;

        using var listening = _model.CreateSession();
        using var twin = _model.CreateSession();
        int given = 0;
        for (int b = 0; b < blocks; b++)
        {
            // A live caller: everything that arrived by the time the block's lookahead is in, the end marked once reached.
            int end = (int)Math.Min(audio.Length, listening.AudioSamplesNeeded);
            bool last = end == audio.Length && given < audio.Length;
            var heard = listening.Step(new BlockInput(new AudioInput.Pcm(audio[given..end], EndOfStream: last), []));
            given = end;
            var rows = Enumerable.Range(b * 5, 5).Select(r => encoding.Embeddings.AsSpan(r * width, width).ToArray()).ToArray();
            var fed = twin.Step(BlockInput.FromEmbeddings(rows));
            Assert.Equal(fed.TextIds, heard.TextIds);
            Assert.Equal(fed.ActionIds, heard.ActionIds);
            Assert.True(heard.Timings.SpeechEncoderMs > 0 || b == blocks - 1 && heard.Counters.AudioSamples == padded.Length);
        }
        Assert.Equal(padded.Length, listening.AudioSamplesReceived);
    }

    [Fact]
    public void ABlockIsRefusedUntilItsLookaheadHasArrivedAndTheSessionIsUnchanged()
    {
        using var session = _model.CreateSession();
        long needed = session.AudioSamplesNeeded;
        // Chunk 8 at the release's rates: row 4 needs encoder frames to 55, the chunk to 55, fbank to 124: 257.5 ms past the block.
        Assert.Equal(Listener.Lookahead.SamplesNeeded(5), needed);
        Assert.Equal(Second + 4120, needed);
        var audio = Audio((int)needed + 3 * Second);
        var refused = Assert.Throws<ArgumentException>(() => session.Step(new BlockInput(new AudioInput.Pcm(audio[..(int)(needed - 1)]), [])));
        Assert.Contains($"reach sample {needed}", refused.Message);
        Assert.Contains("257.5 ms", refused.Message);
        Assert.Equal(0, session.AudioSamplesReceived);
        Assert.Equal(0, session.Blocks);

        var first = session.Step(new BlockInput(new AudioInput.Pcm(audio[..(int)needed]), []));
        Assert.Equal(needed, first.Counters.AudioSamples);
        Assert.Equal(257.5, first.Counters.AudioLookaheadMs, 6);
        // Block 1 needs 217.5 ms past its end; more audio than that is kept for the blocks after it.
        long next = session.AudioSamplesNeeded;
        Assert.Equal(2 * Second + 3480, next);
        var second = session.Step(new BlockInput(new AudioInput.Pcm(audio[(int)needed..]), []));
        Assert.Equal(audio.Length, second.Counters.AudioSamples);
    }

    [Fact]
    public void BadAudioIsRefusedNamingTheBlockAndTheSample()
    {
        using var session = _model.CreateSession();
        var audio = Audio(2 * Second);
        audio[12345] = float.NaN;
        var nan = Assert.Throws<ArgumentException>(() => session.Step(new BlockInput(new AudioInput.Pcm(audio), [])));
        Assert.Contains("block 0: audio sample 12345 is NaN", nan.Message);
        Assert.Equal(0, session.AudioSamplesReceived);

        audio[12345] = 0;
        session.Step(new BlockInput(new AudioInput.Pcm(audio), []));
        var embeddings = Assert.Throws<ArgumentException>(() => session.Step(BlockInput.FromEmbeddings(
            Enumerable.Range(0, 5).Select(_ => new float[_model.Network.Config.Speech.HiddenSize]).ToArray())));
        Assert.Contains("a PCM stream since block 0", embeddings.Message);

        // The end, 100 samples into block 2: zero-padded to block 2's end and finished; block 2 then passes no samples and takes its rows.
        session.Step(new BlockInput(new AudioInput.Pcm(Audio(100), EndOfStream: true), []));
        Assert.Equal(3 * Second, session.AudioSamplesReceived);
        var after = Assert.Throws<ArgumentException>(() => session.Step(new BlockInput(new AudioInput.Pcm(Audio(10)), [])));
        Assert.Contains("block 2: 10 audio samples after the end of the stream", after.Message);
        session.Step(new BlockInput(new AudioInput.Pcm([]), []));
        var spent = Assert.Throws<ArgumentException>(() => session.Step(new BlockInput(new AudioInput.Pcm([]), [])));
        Assert.Contains("block 3: the audio stream ended", spent.Message);
        Assert.Equal(3, session.Blocks);
    }

    [Fact]
    public void RowsBecomeFinalExactlyWhenTheLookaheadSaysSo()
    {
        // The stream's own emission against the formula the session waits by, on fresh audio.
        foreach (int rows in new[] { 1, 4, 5, 6, 10, 13, 20 })
        {
            long needed = Listener.Lookahead.SamplesNeeded(rows);
            var audio = Audio((int)needed);
            using var stream = Listener.CreateStream();
            var emitted = new List<float[]>();
            stream.Push(audio.AsSpan(0, (int)needed - 1), emitted);
            Assert.True(emitted.Count < rows, $"{rows} rows: {emitted.Count} emitted one sample before {needed}");
            stream.Push(audio.AsSpan((int)needed - 1), emitted);
            Assert.True(emitted.Count >= rows, $"{rows} rows: {emitted.Count} emitted at {needed} samples");
        }
    }

    [Fact]
    public void TheLookaheadIsTheIssuesFormulaAtAnyChunkSize()
    {
        foreach (int chunk in new[] { 4, 8, 16, 32 })
        {
            var lookahead = new SpeechLookahead(chunk, 10, 1);
            for (int r = 0; r < 40; r++)
            {
                long j = chunk * ((10L * r + 9) / chunk) + chunk - 1;
                Assert.Equal(320 * j + 2520, lookahead.SamplesNeeded(r + 1));
            }
        }
        // At the release: 257.5, 217.5, 177.5, 137.5 ms past the ends of blocks 0–3, then again.
        var release = new SpeechLookahead(8, 10, 1);
        Assert.Equal([257.5, 217.5, 177.5, 137.5, 257.5],
            Enumerable.Range(0, 5).Select(k => (release.SamplesNeeded(5 * (k + 1)) - (k + 1) * 16000L) / 16.0));
    }
}
