using System.Diagnostics;
using Ellsa.Runtime.Codecs.SpeechOut;

namespace Ellsa.Runtime.Duplex;

/// <summary>What the speech decoder did in one block (or at the session's end).</summary>
/// <param name="Samples">PCM at the speaker's rate that became final.</param>
/// <param name="FirstPacketMs">From the start of the speech stage to its first final sample; null when none.</param>
internal sealed record SpeechWork(float[] Samples, int Rows, int Tokens, double LmMs, double WaveMs, double? FirstPacketMs, IReadOnlyList<BlockEvent> Events);

/// <summary>
/// The session's speech: rows grouped into segments (<see cref="SpeechSegmenter"/>), each segment's
/// rows through the speech LM as they arrive (<see cref="SpeechLmStream"/>, the evaluation's driver),
/// its tokens through the windowed token-to-wave loop (<see cref="TokenToWaveStream"/>), segments
/// joined by plain concatenation with the HiFT cache reset between them (ev:L204-263). The authors
/// synthesise a segment after the episode; here each window runs as soon as its tokens exist, which
/// computes the same windows.
/// </summary>
internal sealed class SessionSpeech : IDisposable
{
    private readonly SpeechSegmenter _segmenter;
    private readonly SpeechLmStream _lm;
    private readonly TokenToWaveStream _wave;
    private readonly int _width;
    private readonly int _sampleRate;
    /// <summary>The open segment still takes rows: false once its LM finished (the driver reads no more) or gave up.</summary>
    private bool _live = true;
    private bool _segmentSpoke;
    private int _segment;

    public SessionSpeech(SpeechSpeaker speaker, SpeechSegmenter segmenter, SpeakOptions options)
    {
        _segmenter = segmenter;
        _width = speaker.Projection.Config.InputSize;
        _sampleRate = speaker.SampleRate;
        int step = options.WindowStep ?? DefaultStep(speaker);
        var hift = options.Deterministic ? HiftOptions.Deterministic
            : options.Seed is { } seed ? HiftOptions.Seeded(unchecked(seed * 31 + 7)) : HiftOptions.Random();
        _wave = speaker.CreateWaveStream(step, hift);
        _lm = speaker.CreateLmStream(new SpeechLmOptions { Greedy = options.Greedy, Seed = options.Seed });
        WindowStep = step;
    }

    public int WindowStep { get; }

    /// <summary>The largest step whose first window runs once the LM's first call has returned its audio_chunk tokens.</summary>
    public static int DefaultStep(SpeechSpeaker speaker) =>
        Math.Max(speaker.MinimumWindowStep, speaker.Config.Llm.AudioChunk - speaker.Config.Streaming.WindowLookahead - 1);

    /// <summary>One block's rows (the text ids that produced them decide where a segment ends).</summary>
    public SpeechWork Block(ReadOnlySpan<int> text, IReadOnlyList<float[]> rows)
    {
        var run = new Run(this);
        var cut = _segmenter.Add(text, rows.Count);
        run.Feed(rows, 0, cut.ToOpen);
        if (cut.Closes)
        {
            run.CloseSegment();
            run.Feed(rows, cut.ToOpen, rows.Count - cut.ToOpen);
        }
        return run.Result(rows.Count);
    }

    /// <summary>The session ends: the open segment's text is complete, so its speech is finished.</summary>
    public SpeechWork Finish()
    {
        var run = new Run(this);
        run.CloseSegment();
        _segmenter.Reset();
        return run.Result(0);
    }

    /// <summary>Barge-in: forgets the open segment (its tokens not yet spoken are dropped); the next rows start a new one.</summary>
    /// <returns>The segment's speech tokens so far.</returns>
    public int Drop()
    {
        int tokens = _lm.Tokens.Count;
        ResetSegment();
        _segmenter.Reset();
        return tokens;
    }

    private void ResetSegment()
    {
        _lm.Reset();
        _wave.Reset();
        _live = true;
        _segmentSpoke = false;
        _segment++;
    }

    /// <summary>The work of one call, timed and collected.</summary>
    private sealed class Run(SessionSpeech owner)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly List<float[]> _pieces = [];
        private readonly List<BlockEvent> _events = [];
        private double _lmMs, _waveMs;
        private double? _firstPacketMs;
        private int _tokens;

        public void Feed(IReadOnlyList<float[]> rows, int first, int count)
        {
            if (count == 0 || !owner._live)
                return;
            var flat = new float[count * owner._width];
            for (int r = 0; r < count; r++)
                rows[first + r].CopyTo(flat.AsSpan(r * owner._width));
            var start = _clock.Elapsed;
            var tokens = owner._lm.Feed(flat, count);
            _lmMs += (_clock.Elapsed - start).TotalMilliseconds;
            Speak(tokens);
            AfterLm();
        }

        public void CloseSegment()
        {
            if (owner._live)
            {
                var start = _clock.Elapsed;
                var tokens = owner._lm.Finish();
                _lmMs += (_clock.Elapsed - start).TotalMilliseconds;
                Speak(tokens);
                AfterLm();
            }
            owner.ResetSegment();
        }

        /// <summary>A finished LM ends the segment's speech now (the driver reads no more rows); one that gave up ends it with what was spoken.</summary>
        private void AfterLm()
        {
            switch (owner._lm.State)
            {
                case SpeechLmState.Finished:
                    var start = _clock.Elapsed;
                    Add(owner._wave.Finish());
                    _waveMs += (_clock.Elapsed - start).TotalMilliseconds;
                    _events.Add(new BlockEvent(BlockEventKind.SpeechEnded,
                        $"segment {owner._segment}: {owner._lm.Tokens.Count} speech tokens from {owner._lm.Features.Count} rows"));
                    owner._live = false;
                    break;
                case SpeechLmState.Abandoned:
                    _events.Add(new BlockEvent(BlockEventKind.SpeechAbandoned,
                        $"segment {owner._segment}: the speech LM drew EOS past max_trials after {owner._lm.Tokens.Count} tokens; the authors' driver drops such a segment, here its later windows are dropped"));
                    owner._live = false;
                    break;
            }
        }

        private void Speak(int[] tokens)
        {
            _tokens += tokens.Length;
            if (tokens.Length == 0)
                return;
            var start = _clock.Elapsed;
            Add(owner._wave.Feed(tokens));
            _waveMs += (_clock.Elapsed - start).TotalMilliseconds;
        }

        private void Add(WavePiece piece)
        {
            if (piece.Samples.Length == 0)
                return;
            _firstPacketMs ??= _clock.Elapsed.TotalMilliseconds;
            if (!owner._segmentSpoke)
            {
                owner._segmentSpoke = true;
                _events.Add(new BlockEvent(BlockEventKind.SpeechStarted, $"segment {owner._segment}"));
            }
            _pieces.Add(piece.Samples);
        }

        public SpeechWork Result(int rows)
        {
            var samples = _pieces.Count == 1 ? _pieces[0] : _pieces.SelectMany(p => p).ToArray();
            return new SpeechWork(samples, rows, _tokens, _lmMs, _waveMs, _firstPacketMs, _events);
        }
    }

    public int SampleRate => _sampleRate;

    public void Dispose() => _lm.Dispose();
}
