using System.Diagnostics;
using Ellsa.Runtime.Codecs.Fast;
using Ellsa.Runtime.Codecs.Vision;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Decoding;
using Ellsa.Runtime.Moe;

namespace Ellsa.Runtime.Duplex;

/// <summary>
/// One conversation: call <see cref="Step"/> once per 1-second block. Each block's sequence is
/// built as the reference builds it; in the default incremental mode the KV cache keeps the prefix
/// that sequence shares with what is cached (the prompt, the stable history, in speech dialogue
/// everything up to the last answer) and only the rest is prefilled. Parity mode re-prefills the
/// whole sequence every block, as the reference does. The KV cache is preallocated for the context
/// limit.
/// <para>
/// Threads: one <see cref="Step"/> at a time per session (a second concurrent one throws);
/// <see cref="Cancel"/> and <see cref="Dispose"/> may be called from any thread at any time.
/// Dispose waits for a block being computed on the model, then frees the cache; afterwards Step
/// and Cancel throw <see cref="ObjectDisposedException"/> naming the session. Once the model is
/// disposed, Step throws <see cref="ObjectDisposedException"/> naming the model.
/// </para>
/// </summary>
public sealed class Session : IDisposable
{
    private readonly Model _model;
    private readonly SessionOptions _options;
    private readonly SpecialTokens _tokens;
    private readonly ImageSettings _image;
    private readonly DecodeLimits _limits;
    private readonly bool _runSpeechActionLoop;
    private readonly BlockDecoder _decoder;
    private readonly ReferenceLayout _layout;
    private readonly ContextPolicy _policy;
    private readonly SequenceState _state;
    private readonly TurnTracker _turns;
    private readonly int[] _noOpActionIds;
    private readonly int[]? _noOpFastIds;
    private readonly List<BlockRecord> _history = [];
    /// <summary>The PCM stream through the model's speech encoder; null when the model cannot listen.</summary>
    private readonly SessionAudio? _audio;
    /// <summary>The speech decoder's streams; null when the session does not speak.</summary>
    private readonly SessionSpeech? _speech;
    /// <summary>The key of every position held in the KV cache.</summary>
    private readonly List<long> _cachedKeys = [];
    /// <summary>Guards the fields below, which Cancel and Dispose touch from other threads.</summary>
    private readonly object _controlGate = new();
    /// <summary>From the call of Step to its return, waiting for the model included.</summary>
    private bool _stepping;
    /// <summary>Cancel() was called for the block being stepped or, when none is, for the next one.</summary>
    private bool _cancelArmed;
    private volatile bool _disposed;
    private int _nextBlock;

    internal Session(Model model, SessionOptions options)
    {
        _model = model;
        _options = options;
        var config = model.Network.Config;
        _tokens = config.Settings.Tokens;
        _image = config.Settings.Image;
        SessionOptionsCheck.Scalars(options);
        SessionOptionsCheck.Limits(options.Limits);
        int limit = SessionOptionsCheck.ContextLimit(options, config);
        double trimAt = options.TrimAt ?? config.Settings.Session.TrimAt ?? ContextPolicy.DefaultTrimAt;
        double trimTo = options.TrimTo ?? config.Settings.Session.TrimTo ?? ContextPolicy.DefaultTrimTo;
        SessionOptionsCheck.TrimFractions(trimAt, trimTo,
            options.TrimAt is null ? "ellsa.json session.trim_at" : "SessionOptions.TrimAt",
            options.TrimTo is null ? "ellsa.json session.trim_to" : "SessionOptions.TrimTo");
        if (options.PromptIds is { } promptIds)
            SessionOptionsCheck.PromptIds(promptIds, model.Network, "SessionOptions.PromptIds");

        _limits = options.Limits ?? (options.Mode == SessionMode.Act ? DecodeLimits.Acting : DecodeLimits.SpeechOnly);
        _runSpeechActionLoop = options.RunSpeechActionLoop ?? options.Parity;
        _decoder = new BlockDecoder(model.Network);

        _noOpFastIds = model.Fast is { HasNormStats: true } fast ? fast.NoOpIds.ToArray() : null;
        if (options.Mode == SessionMode.Speech && _noOpFastIds is null)
            throw new ConfigException(
                "speech dialogue needs the FAST assets (fast/tokenizer.json, fast/processor_config.json) and norm_stats.json: its history carries the no-op action chunk, which is computed from them");
        _noOpActionIds = _noOpFastIds is null ? [] : [_tokens.Boa, .. _noOpFastIds.Select(ToActionId), _tokens.Eoa];

        var prompt = options.PromptIds?.ToArray() ?? EncodePrompt(options);
        _layout = new ReferenceLayout(options.Mode, _tokens, _image, prompt, _noOpActionIds);

        _policy = new ContextPolicy(limit, BlockDecoder.MaxNewPositions(_limits), trimAt, trimTo);
        _state = model.Network.CreateSequence(limit);
        _turns = new TurnTracker(_tokens);
        _audio = model.Speech is { } speech ? new SessionAudio(speech, SessionFile.AudioRowsPerBlock) : null;
        _speech = CreateSpeech(model, options.Speak);
    }

    private SessionSpeech? CreateSpeech(Model model, SpeakOptions? speak)
    {
        if (speak is { Enabled: false })
            return null;
        if (model.Speaker is not { } speaker)
        {
            return speak is null ? null : throw new NotSupportedException(
                "SessionOptions.Speak asks for speech, but the model has no speech decoder (speech_decoder.safetensors or speech_expert.generator.* tensors, and speech_prompt.safetensors)");
        }
        var options = speak ?? new SpeakOptions();
        if (options.WindowStep is { } step && step < speaker.MinimumWindowStep)
            throw new ArgumentOutOfRangeException(nameof(SessionOptions.Speak), step,
                $"SessionOptions.Speak.WindowStep is {step}; the speech decoder's windows take at least {speaker.MinimumWindowStep} tokens");
        var segmenter = new SpeechSegmenter(SpeechSegmenter.SentenceEndIds(model.Tokenizer), _tokens);
        return new SessionSpeech(speaker, segmenter, options);
    }

    public SessionOptions Options => _options;
    public DecodeLimits Limits => _limits;
    public int ContextLimit => _policy.Limit;
    /// <summary>Bytes of the preallocated KV cache.</summary>
    public long KvCacheBytes => _state.Cache.ByteSize;
    /// <summary>Positions currently held in the KV cache.</summary>
    public int CachedPositions => _state.Length;
    /// <summary>Blocks stepped so far.</summary>
    public int Blocks => _nextBlock;
    /// <summary>History blocks the next sequence will contain (fewer than <see cref="Blocks"/> after a trim).</summary>
    public int HistoryBlocks => _history.Count;
    /// <summary>
    /// Samples of the session's audio stream (counted from its first PCM block) that must have
    /// arrived for the next block's Step: the block's end plus the speech encoder's lookahead.
    /// A live caller steps the next block once <see cref="AudioSamplesReceived"/> plus what it
    /// passes reaches this. 0 when the model cannot listen.
    /// </summary>
    public long AudioSamplesNeeded => _audio?.SamplesNeeded(_nextBlock) ?? 0;
    /// <summary>Samples the session's audio stream has taken so far.</summary>
    public long AudioSamplesReceived => _audio?.SamplesReceived ?? 0;
    /// <summary>The ids of the no-op action chunk (boa … eoa), computed from the FAST assets.</summary>
    public IReadOnlyList<int> NoOpActionIds => _noOpActionIds;
    /// <summary>The task prompt's ids (bop … eop) every sequence starts with.</summary>
    public IReadOnlyList<int> PromptIds => _layout.Prompt;
    /// <summary>True when the blocks carry speech (<see cref="BlockResult.Speech"/>).</summary>
    public bool Speaks => _speech is not null;
    /// <summary>The rate of <see cref="BlockResult.Speech"/> (24 000 for the release); 0 when the session does not speak.</summary>
    public int SpeechSampleRate => _speech?.SampleRate ?? 0;
    /// <summary>Speech tokens per token-to-wave window; 0 when the session does not speak.</summary>
    public int SpeechWindowStep => _speech?.WindowStep ?? 0;

    /// <summary>
    /// Runs one block: build its sequence, prefill what is not cached, decode text and actions,
    /// decode the codecs. Sessions of one model take turns: this waits while another block computes.
    /// Bad input (wrong shapes, codes outside the codebook, non-finite embedding values) is refused
    /// before anything changes, naming the block and row; the session stays as it was.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The session or its model was disposed, before or while this Step waited for the model.</exception>
    /// <exception cref="NonFiniteException">The network produced non-finite values (an overflowing checkpoint); the block is not added to the history.</exception>
    public BlockResult Step(BlockInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        lock (_controlGate)
        {
            ThrowIfDisposed();
            if (_stepping)
                throw new InvalidOperationException(
                    $"block {_nextBlock}: Step is already running on this session in another thread; a session steps one block at a time");
            _stepping = true;
        }
        try
        {
            return _model.Compute(() =>
            {
                // Dispose may have taken the gate first while this Step waited for it.
                ThrowIfDisposed();
                return Run(input);
            });
        }
        catch
        {
            // A refused or failed block is not consumed: an armed cancel stays for the block that replaces it.
            lock (_controlGate)
                _stepping = false;
            throw;
        }
    }

    private BlockResult Run(BlockInput input)
    {
        var total = Stopwatch.StartNew();
        int index = _nextBlock;
        var (current, imageMs, framesEncoded, audioWork) = Resolve(input, index);
        double inputMs = total.Elapsed.TotalMilliseconds;

        var events = new List<BlockEvent>();
        var trim = _policy.Apply(_history, current, _layout);
        if (trim is not null)
            events.Add(new BlockEvent(BlockEventKind.ContextTrimmed, trim));

        var stage = Stopwatch.StartNew();
        var sequence = _layout.Build(_history, current);
        PrefillWork prefill;
        int decoded;
        int[] text, actions;
        double prefillMs, textMs, actionMs;
        var speechRows = _speech is null ? null : new List<float[]>();
        SpeechWork? speech = null;
        try
        {
            prefill = Prefill(sequence, trimmed: trim is not null);
            prefillMs = stage.Elapsed.TotalMilliseconds;

            stage.Restart();
            int before = _state.Length;
            text = _decoder.DecodeText(_state, _limits.MaxText, speechRows);
            _cachedKeys.AddRange(text.Select(id => (long)id));
            textMs = stage.Elapsed.TotalMilliseconds;

            stage.Restart();
            if (_options.Mode == SessionMode.Act || _runSpeechActionLoop)
            {
                var generated = _decoder.DecodeActions(_state, _limits.MaxAction);
                // Every action id but the last was fed back through the model.
                _cachedKeys.AddRange(generated[..^1].Select(id => (long)id));
                actions = _options.Mode == SessionMode.Act ? generated : _noOpActionIds;
            }
            else
            {
                actions = _noOpActionIds;
            }
            actionMs = stage.Elapsed.TotalMilliseconds;
            decoded = _state.Length - before;

            // After the actions: a controller waits for the chunk, a listener already hears the
            // previous block's speech. The first-packet time counts from the end of the text.
            speech = _speech?.Block(text, speechRows!);
        }
        catch (Exception e)
        {
            // The cache may hold part of this block: forget it, so the next block prefills from scratch.
            _state.Truncate(0);
            _cachedKeys.Clear();
            // The open segment may hold part of this block's rows: it ends unspoken.
            _speech?.Drop();
            if (e is NonFiniteException)
                throw new NonFiniteException($"block {index}: {e.Message}");
            throw;
        }

        stage.Restart();
        current.Text = ForceEot(text);
        current.Actions = actions;
        _history.Add(current);
        var result = Outputs(index, text, actions, events);
        double codecMs = stage.Elapsed.TotalMilliseconds;

        double totalMs = total.Elapsed.TotalMilliseconds;
        if (total.Elapsed > _options.BlockDeadline)
            events.Add(new BlockEvent(BlockEventKind.DeadlineOverrun, $"{totalMs:F0} ms > {_options.BlockDeadline.TotalMilliseconds:F0} ms"));
        if (speech is not null)
            events.AddRange(speech.Events);

        // The block is delivered and the next one becomes the target of Cancel in one step, so a
        // Cancel never lands between the two and is never charged to a block already returned.
        bool cancelled;
        lock (_controlGate)
        {
            cancelled = _cancelArmed;
            _cancelArmed = false;
            _nextBlock++;
            _stepping = false;
        }
        float[] pcm = speech?.Samples ?? [];
        int droppedSamples = 0, droppedTokens = 0;
        if (cancelled)
        {
            // Barge-in: the listener must stop hearing the model now, so neither this block's audio
            // nor the rest of the open segment is spoken; the next rows open a new segment.
            droppedSamples = pcm.Length;
            droppedTokens = _speech?.Drop() ?? 0;
            pcm = [];
            string dropped = _speech is null ? "" : $"; dropped {droppedSamples} speech samples ({(double)droppedSamples / _speech.SampleRate:F2} s) and the open segment's {droppedTokens} speech tokens";
            events.Add(new BlockEvent(BlockEventKind.Cancelled, "Cancel() was called while the block was stepped or before it" + dropped));
        }
        return result with
        {
            Speech = pcm,
            SpeechHidden = speechRows ?? [],
            Timings = new StageTimings(inputMs, prefillMs, textMs, actionMs, codecMs, totalMs, prefill.TrimMs, imageMs,
                audioWork?.FbankMs ?? 0, audioWork?.EncoderMs ?? 0, speech is null ? 0 : speech.LmMs + speech.WaveMs, speech?.LmMs ?? 0,
                speech?.WaveMs ?? 0, speech?.FirstPacketMs is { } first ? actionMs + first : null),
            Counters = new BlockCounters(sequence.Count, prefill.Prefilled, prefill.Recomputed, decoded, prefill.TrimRePrefilled, framesEncoded,
                audioWork?.Samples ?? 0, audioWork?.LookaheadMs ?? 0, speech?.Rows ?? 0, speech?.Tokens ?? 0, pcm.Length, droppedSamples, droppedTokens),
        };
    }

    /// <summary>
    /// Barge-in, from any thread: cancels the block being stepped (its Step was called and has not
    /// returned, whether it computes or waits for the model) or, when none is, the next block to be
    /// stepped. That block's result carries a Cancelled event: drop its speech and its action chunk.
    /// A block already returned is never affected; repeated calls before that block returns cancel
    /// it once. The model's history is kept either way: it did produce that output, and the next
    /// block is built from it.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The session was disposed.</exception>
    public CancelReport Cancel()
    {
        lock (_controlGate)
        {
            ThrowIfDisposed();
            _cancelArmed = true;
            return new CancelReport(_nextBlock, InFlight: _stepping);
        }
    }

    /// <summary>
    /// The conversation ends: the open speech segment's text is complete, so the rest of its speech is
    /// synthesised and returned (PCM at <see cref="SpeechSampleRate"/>, continuing the last block's).
    /// Empty when the session does not speak or nothing is pending. Later blocks start a new segment.
    /// </summary>
    public float[] FinishSpeech()
    {
        lock (_controlGate)
        {
            ThrowIfDisposed();
            if (_stepping)
                throw new InvalidOperationException("FinishSpeech was called while a block is stepped; call it after the Step returns");
            _stepping = true;
        }
        try
        {
            return _speech is null ? [] : _model.Compute(() =>
            {
                ThrowIfDisposed();
                return _speech.Finish().Samples;
            });
        }
        finally
        {
            lock (_controlGate)
                _stepping = false;
        }
    }

    /// <returns>The block's record, the time and count of the frames the image encoder turned into codes, and what its PCM cost.</returns>
    private (BlockRecord Record, double ImageMs, int FramesEncoded, AudioWork? Audio) Resolve(BlockInput input, int index)
    {
        float[][]? audio = null;
        var pcm = input.Audio as AudioInput.Pcm;
        switch (input.Audio)
        {
            case AudioInput.Embeddings e:
                if (_audio is { FirstBlock: >= 0 } stream)
                    throw new ArgumentException($"block {index}: the session's audio is a PCM stream since block {stream.FirstBlock}; pass PCM for every later block");
                audio = e.Rows ?? throw new ArgumentException($"block {index}: the audio embeddings are null");
                CheckEmbeddings(audio, index);
                break;
            case AudioInput.Pcm:
                var listener = _audio ?? throw new NotSupportedException(
                    $"block {index}: raw audio needs the speech encoder (speech_encoder.safetensors, or speech_expert.speechencoder.* tensors in the checkpoint); pass the block's 5 audio embeddings");
                listener.Check(index, pcm!);
                break;
            default:
                throw new ArgumentException($"block {index}: unknown audio input");
        }

        var imageClock = Stopwatch.StartNew();
        int encoded = 0;
        var images = new int[input.Images.Count][];
        for (int i = 0; i < images.Length; i++)
        {
            images[i] = input.Images[i] switch
            {
                ImageInput.Codes c => c.Values,
                ImageInput.Rgb rgb => EncodeFrame(index, i, () => RgbImage.FromBuffer(rgb.Pixels, rgb.Width, rgb.Height), ref encoded),
                ImageInput.File file => EncodeFrame(index, i, () => ImageFile.Read(file.Path), ref encoded),
                _ => throw new ArgumentException($"block {index}: image {i} is an unknown kind of input"),
            };
        }
        double imageMs = encoded == 0 ? 0 : imageClock.Elapsed.TotalMilliseconds;
        for (int i = 0; i < images.Length; i++)
        {
            if (images[i].Length != _image.CodesPerFrame)
                throw new ArgumentException($"block {index}: image {i} has {images[i].Length} codes; a frame has {_image.CodesPerFrame}");
            int bad = Array.FindIndex(images[i], c => c < 0 || c >= _tokens.VisualCount);
            if (bad >= 0)
                throw new ArgumentException($"block {index}: image {i} code {bad} is {images[i][bad]}, outside 0…{_tokens.VisualCount - 1}");
        }
        if (_options.Mode == SessionMode.Act && images.Length != 2)
            throw new ArgumentException($"block {index}: acting takes 2 images per block (agent view, wrist view), got {images.Length}");
        if (_options.Mode == SessionMode.Speech && images.Length > (index == 0 ? 1 : 0))
            throw new ArgumentException($"block {index}: speech dialogue takes no image (one VQA image in block 0 at most), got {images.Length}");

        AudioWork? work = null;
        if (pcm is not null)
        {
            // Last, once nothing of the caller's input can refuse the block: the stream keeps what it takes.
            (audio, var taken) = _audio!.Take(index, pcm);
            work = taken;
            int bad = Array.FindIndex(audio, row => FiniteValues.FirstNonFinite(row) >= 0);
            if (bad >= 0)
                throw new NonFiniteException($"block {index}: the speech encoder's row {bad} is not finite (an overflowing speech encoder checkpoint)");
        }
        return (new BlockRecord(index, audio!, images), imageMs, encoded, work);
    }

    private void CheckEmbeddings(float[][] audio, int index)
    {
        int d = _model.Network.Config.Speech.HiddenSize;
        if (audio.Length != SessionFile.AudioRowsPerBlock)
            throw new ArgumentException($"block {index}: {audio.Length} audio embeddings; a 1-second block has {SessionFile.AudioRowsPerBlock}");
        for (int r = 0; r < audio.Length; r++)
        {
            if (audio[r] is null || audio[r].Length != d)
                throw new ArgumentException($"block {index}: audio embedding {r} has {audio[r]?.Length ?? 0} values; hidden_size is {d}");
            // One NaN would spread through attention into this and every later block until trimmed away.
            int bad = FiniteValues.FirstNonFinite(audio[r]);
            if (bad >= 0)
                throw new ArgumentException($"block {index}: audio embedding {r} value {bad} is {audio[r][bad]}; embeddings must be finite");
        }
    }

    /// <summary>One raw frame through the model's image encoder; errors name the block and the frame.</summary>
    private int[] EncodeFrame(int block, int frame, Func<RgbImage> read, ref int encoded)
    {
        var encoder = _model.ImageEncoder
            ?? throw new NotSupportedException($"block {block}: image {frame} is a raw frame, which needs the image encoder (a vision_tokenizer/ folder in the model directory); pass its VQ codes instead");
        try
        {
            var codes = encoder.Encode(read());
            encoded++;
            return codes;
        }
        catch (Exception e) when (e is ImageFileException or ArgumentException)
        {
            throw new ArgumentException($"block {block}: image {frame}: {e.Message}");
        }
    }

    private readonly record struct PrefillWork(int Prefilled, int Recomputed, int TrimRePrefilled, double TrimMs);

    /// <summary>
    /// Makes the cache hold <paramref name="sequence"/>: keeps the longest prefix whose keys match
    /// what is cached (nothing in parity mode), truncates the rest and prefills from there. A cached
    /// position is reusable only with its whole prefix, so "recomputed" counts the reusable
    /// positions that were prefilled again anyway. After a trim the kept history is prefilled in a
    /// pass of its own, so that the trim's cost can be reported apart from the block's own input.
    /// </summary>
    private PrefillWork Prefill(ReferenceSequence sequence, bool trimmed)
    {
        // The last position is always computed: the decoder needs its hidden state.
        int limit = Math.Min(_cachedKeys.Count, sequence.Count - 1);
        int reusable = 0;
        while (reusable < limit && _cachedKeys[reusable] == sequence.Keys[reusable])
            reusable++;
        int keep = _options.Parity ? 0 : reusable;
        _state.Truncate(keep);
        _cachedKeys.RemoveRange(keep, _cachedKeys.Count - keep);
        int start = keep;
        int trimRePrefilled = 0;
        double trimMs = 0;
        if (trimmed && sequence.CurrentStart > keep)
        {
            var clock = Stopwatch.StartNew();
            _state.Append(sequence.Batch(keep, sequence.CurrentStart));
            trimMs = clock.Elapsed.TotalMilliseconds;
            trimRePrefilled = sequence.CurrentStart - keep;
            start = sequence.CurrentStart;
        }
        _state.Append(sequence.Batch(start));
        _cachedKeys.AddRange(sequence.Keys.Skip(keep));
        return new PrefillWork(sequence.Count - keep, reusable - keep, trimRePrefilled, trimMs);
    }

    private BlockResult Outputs(int index, int[] text, int[] actions, List<BlockEvent> events)
    {
        var history = ForceEot(text);
        string decoded = _model.Tokenizer?.Decode(history.Where(_model.Tokenizer.ContainsId).ToArray(), skipSpecialTokens: true) ?? "";
        _turns.Text(text, decoded, events);

        // As the reference decodes: drop boa and the last id (eoa, or a real action when the cap was hit).
        var fastIds = actions.Length < 2 ? [] : actions[1..^1].Select(id => _tokens.FastBase - id).ToArray();
        FastDecodeResult? chunk = _model.Fast?.Decode(fastIds);
        bool? motion = _noOpFastIds is null || chunk is null ? null : !(fastIds.SequenceEqual(_noOpFastIds) || chunk.IsSafeFallback);
        if (_options.Mode == SessionMode.Act)
            _turns.Actions(motion, events);

        return new BlockResult
        {
            Block = index,
            TextIds = text,
            Text = decoded,
            ActionIds = actions,
            FastIds = fastIds,
            NormalizedActions = chunk?.Normalized,
            Actions = chunk?.Actions,
            ActionProblems = chunk?.Problems ?? [],
            Events = events,
            Timings = new StageTimings(0, 0, 0, 0, 0, 0),
            Counters = new BlockCounters(0, 0, 0, 0),
        };
    }

    /// <summary>The history keeps a block's text with its last id forced to eot (the cap may have cut it).</summary>
    private int[] ForceEot(int[] text)
    {
        var forced = (int[])text.Clone();
        forced[^1] = _tokens.Eot;
        return forced;
    }

    private int ToActionId(int fastId) => _tokens.FastBase - fastId;

    private int[] EncodePrompt(SessionOptions options)
    {
        var tokenizer = _model.Tokenizer
            ?? throw new ConfigException("the session has no prompt_ids and the model directory has no tokenizer.json to encode the prompt with");
        return [_tokens.Bop, .. tokenizer.Encode(options.PromptText), _tokens.Eop];
    }

    /// <summary>Waits for a block being computed on the model, then frees the KV cache (once).</summary>
    public void Dispose()
    {
        lock (_controlGate)
        {
            if (_disposed)
                return;
            if (_stepping && Monitor.IsEntered(_model.ComputeGate))
                throw new InvalidOperationException(
                    "Session.Dispose was called from inside this session's Step (an encoder callback); dispose the session after the Step returns");
            _disposed = true;
        }
        lock (_model.ComputeGate)
        {
            _state.Dispose();
            _audio?.Dispose();
            _speech?.Dispose();
        }
    }

    private void ThrowIfDisposed()
    {
        if (_disposed)
            throw new ObjectDisposedException(nameof(Session), "the session was disposed (Session.Dispose); create a new one with Model.CreateSession");
    }
}
