namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// The authors' windowed token-to-wave loop (ev:L237-260 around <c>tts_salmonn</c>/<c>token2wav</c>,
/// cv/cli/model.py:L324-356, L416-437; tests/goldens/speech_out/README.md §6), fed as speech tokens
/// arrive. With step s and look-ahead 3: the first window is tokens [0, s), then [num, num + s + 3)
/// with num = s − 3, s − 3 + s, …; a window runs once more tokens than its end have arrived (their
/// <c>num + s + 3 &lt; len</c>), and <see cref="Finish"/> runs the rest, [num, len), as the last.
/// Every window goes through the flow alone with the prompt prepended (a window that is not the last
/// drops its look-ahead tokens' frames); HiFT then sees the previous window's last mel_cache_len
/// frames in front of the new ones, its source starts with the previous source_cache_len source
/// samples, its first source_cache_len samples are crossfaded with the previous window's tail by a
/// symmetric Hamming window of twice that length (summing to 1.08, as theirs), and a window that is
/// not the last keeps its last source_cache_len samples back for that crossfade. A null step is the
/// offline call: everything at <see cref="Finish"/>, one window. Not thread-safe; one segment at a
/// time (<see cref="Reset"/> starts the next, as the evaluation resets the cache per segment).
/// </summary>
public sealed class TokenToWaveStream
{
    private readonly Flow _flow;
    private readonly Hift _hift;
    private readonly SpeechPrompt _prompt;
    private readonly SpeechStreamingConfig _streaming;
    private readonly HiftOptions _options;
    private readonly double[] _hamming;
    private readonly List<int> _tokens = [];
    private int _next;
    private bool _first = true, _finished;
    private float[]? _cacheMel, _cacheSource, _cacheSpeech;

    /// <param name="step">Tokens per window (at least <see cref="MinimumStep"/>), or null for one offline call.</param>
    public TokenToWaveStream(Flow flow, Hift hift, SpeechPrompt prompt, SpeechStreamingConfig streaming, int? step, HiftOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (step is { } s)
        {
            int minimum = MinimumStep(prompt, streaming, hift.SamplesPerFrame);
            if (s < minimum)
                throw new ArgumentException($"a window step of {s} tokens is too small: with the {prompt.Tokens.Length}-token prompt " +
                    $"and the caches ({streaming.MelCacheLen} frames, {streaming.SourceCacheLen} samples) it takes at least {minimum}");
        }
        _flow = flow;
        _hift = hift;
        _prompt = prompt;
        _streaming = streaming;
        Step = step;
        _options = options;
        int overlap = streaming.SourceCacheLen;
        // numpy.hamming(2L): symmetric, 0.54 − 0.46·cos(2πn/(2L − 1)) (cv/utils/common.py:L140-148).
        _hamming = Enumerable.Range(0, 2 * overlap).Select(n => 0.54 - 0.46 * Math.Cos(2 * Math.PI * n / (2 * overlap - 1))).ToArray();
    }

    /// <summary>Tokens per window; null: offline.</summary>
    public int? Step { get; }
    /// <summary>The segment's tokens so far.</summary>
    public IReadOnlyList<int> Tokens => _tokens;
    /// <summary>Windows run so far in this segment.</summary>
    public int Windows { get; private set; }

    /// <summary>
    /// The smallest step whose windows the loop can run exactly: the first window's frames fill the
    /// mel cache and cover the source cache, a later window's (cache frames + new frames) cover the
    /// source cache, and each window advances (step &gt; the look-ahead).
    /// </summary>
    public static int MinimumStep(SpeechPrompt prompt, SpeechStreamingConfig streaming, int samplesPerFrame)
    {
        int lookahead = streaming.WindowLookahead;
        long cacheFrames = (streaming.SourceCacheLen + samplesPerFrame - 1) / samplesPerFrame;
        for (int step = lookahead + 1; step < 1 << 20; step++)
        {
            int first = Flow.OutputFrames(step, prompt, finalize: false);
            int later = Flow.OutputFrames(step + lookahead, prompt, finalize: false);
            if (first >= streaming.MelCacheLen && first >= cacheFrames && later >= 1 && streaming.MelCacheLen + later >= cacheFrames)
                return step;
        }
        throw new ArgumentException($"{prompt.FileName}: no window step fits its {prompt.Tokens.Length} tokens and {prompt.FeatFrames} mel frames");
    }

    /// <summary>The next speech tokens (ids 0 … flow vocab_size − 1); returns what the windows they complete made final.</summary>
    public WavePiece Feed(ReadOnlySpan<int> tokens)
    {
        if (_finished)
            throw new InvalidOperationException("the segment was finished; Reset starts the next one");
        for (int i = 0; i < tokens.Length; i++)
        {
            if ((uint)tokens[i] >= (uint)_flow.Config.VocabSize)
                throw new ArgumentException($"speech token {_tokens.Count + i} is {tokens[i]}, outside the flow's vocabulary 0…{_flow.Config.VocabSize - 1}");
        }
        foreach (int token in tokens)
            _tokens.Add(token);
        if (Step is not { } step)
            return WavePiece.Empty;
        int lookahead = _streaming.WindowLookahead;
        var pieces = new List<WavePiece>();
        while (_next + step + lookahead < _tokens.Count)
        {
            if (_first)
            {
                pieces.Add(Window(0, step, finalize: false));
                _next += step - lookahead;
            }
            else
            {
                pieces.Add(Window(_next, step + lookahead, finalize: false));
                _next += step;
            }
        }
        return pieces.Count == 0 ? WavePiece.Empty : WavePiece.Concat(pieces);
    }

    /// <summary>The segment is complete: runs the last window over the tokens left and returns everything still held back.</summary>
    public WavePiece Finish()
    {
        if (_finished)
            throw new InvalidOperationException("the segment was finished already; Reset starts the next one");
        _finished = true;
        if (_tokens.Count == 0)
            return WavePiece.Empty;
        return Window(_next, _tokens.Count - _next, finalize: true);
    }

    /// <summary>Forgets the segment and the HiFT cache.</summary>
    public void Reset()
    {
        _tokens.Clear();
        _next = 0;
        _first = true;
        _finished = false;
        Windows = 0;
        _cacheMel = _cacheSource = _cacheSpeech = null;
    }

    /// <summary>One <c>tts_salmonn</c> call: the flow over tokens [first, first + count), HiFT with the cache, the crossfade, the new cache.</summary>
    private WavePiece Window(int first, int count, bool finalize)
    {
        var tokens = _tokens.GetRange(first, count).ToArray();
        var flow = _flow.Infer(tokens, _prompt, finalize);
        int channels = FlowOutput.Channels, cached = _cacheMel is null ? 0 : _streaming.MelCacheLen, frames = cached + flow.Frames;
        var mel = new float[channels * frames];
        for (int c = 0; c < channels; c++)
        {
            if (_cacheMel is { } cacheMel)
                Array.Copy(cacheMel, c * cached, mel, c * frames, cached);
            Array.Copy(flow.Mel, c * flow.Frames, mel, c * frames + cached, flow.Frames);
        }
        var output = _hift.Run(mel, frames, _options, _cacheSource);
        var y = output.Samples;
        int overlap = _streaming.SourceCacheLen;
        if (_cacheSpeech is { } previous)
        {
            for (int i = 0; i < overlap; i++)
                y[i] = (float)(y[i] * _hamming[i] + previous[i] * _hamming[overlap + i]);
        }
        _first = false;
        Windows++;
        if (finalize)
            return new WavePiece(y, flow.Mel, flow.Frames);
        int keep = _streaming.MelCacheLen;
        _cacheMel = new float[channels * keep];
        for (int c = 0; c < channels; c++)
            Array.Copy(mel, c * frames + frames - keep, _cacheMel, c * keep, keep);
        _cacheSource = output.Source[^overlap..];
        _cacheSpeech = y[^overlap..];
        return new WavePiece(y[..^overlap], flow.Mel, flow.Frames);
    }
}
