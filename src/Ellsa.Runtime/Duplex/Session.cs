using System.Diagnostics;
using Ellsa.Runtime.Codecs.Fast;
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
/// limit; <see cref="Cancel"/> may be called from any thread.
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
    /// <summary>The key of every position held in the KV cache.</summary>
    private readonly List<long> _cachedKeys = [];
    private readonly object _outputGate = new();
    private BlockResult? _pending;
    private int _inFlightBlock = -1;
    private bool _cancelInFlight;
    private int _nextBlock;

    internal Session(Model model, SessionOptions options)
    {
        _model = model;
        _options = options;
        var config = model.Network.Config;
        _tokens = config.Settings.Tokens;
        _image = config.Settings.Image;
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

        int limit = options.ContextLimit ?? config.Settings.Session.ContextLimit
            ?? Math.Min(config.Speech.MaxPositionEmbeddings, config.Vision.MaxPositionEmbeddings);
        _policy = new ContextPolicy(limit, BlockDecoder.MaxNewPositions(_limits));
        _state = model.Network.CreateSequence(limit);
        _turns = new TurnTracker(_tokens);
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
    /// <summary>The ids of the no-op action chunk (boa … eoa), computed from the FAST assets.</summary>
    public IReadOnlyList<int> NoOpActionIds => _noOpActionIds;
    /// <summary>The task prompt's ids (bop … eop) every sequence starts with.</summary>
    public IReadOnlyList<int> PromptIds => _layout.Prompt;

    /// <summary>Runs one block: build its sequence, prefill what is not cached, decode text and actions, decode the codecs.</summary>
    public BlockResult Step(BlockInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        lock (_model.ComputeGate)
        {
            var total = Stopwatch.StartNew();
            int index = _nextBlock;
            var current = Resolve(input, index);
            double inputMs = total.Elapsed.TotalMilliseconds;
            lock (_outputGate)
            {
                _inFlightBlock = index;
                _cancelInFlight = false;
            }

            var events = new List<BlockEvent>();
            if (_policy.Apply(_history, current, _layout) is { } trim)
                events.Add(new BlockEvent(BlockEventKind.ContextTrimmed, trim));

            var stage = Stopwatch.StartNew();
            var sequence = _layout.Build(_history, current);
            int prefilled, recomputed, decoded;
            int[] text, actions;
            double prefillMs, textMs, actionMs;
            try
            {
                (prefilled, recomputed) = Prefill(sequence);
                prefillMs = stage.Elapsed.TotalMilliseconds;

                stage.Restart();
                int before = _state.Length;
                text = _decoder.DecodeText(_state, _limits.MaxText);
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
            }
            catch
            {
                // The cache may hold part of this block: forget it, so the next block prefills from scratch.
                _state.Truncate(0);
                _cachedKeys.Clear();
                lock (_outputGate)
                    _inFlightBlock = -1;
                throw;
            }

            stage.Restart();
            current.Text = ForceEot(text);
            current.Actions = actions;
            _history.Add(current);
            _nextBlock++;
            var result = Outputs(index, text, actions, events);
            double codecMs = stage.Elapsed.TotalMilliseconds;

            double totalMs = total.Elapsed.TotalMilliseconds;
            if (total.Elapsed > _options.BlockDeadline)
                events.Add(new BlockEvent(BlockEventKind.DeadlineOverrun, $"{totalMs:F0} ms > {_options.BlockDeadline.TotalMilliseconds:F0} ms"));
            result = result with
            {
                Timings = new StageTimings(inputMs, prefillMs, textMs, actionMs, codecMs, totalMs),
                Counters = new BlockCounters(sequence.Count, prefilled, recomputed, decoded),
            };

            lock (_outputGate)
            {
                _inFlightBlock = -1;
                if (_cancelInFlight)
                {
                    events.Add(new BlockEvent(BlockEventKind.Cancelled, "Cancel() was called while the block was computed"));
                    _pending = null;
                }
                else
                {
                    _pending = result;
                }
            }
            return result;
        }
    }

    /// <summary>
    /// Barge-in: drops the speech and the action chunk of the latest block (or of the block being
    /// computed, whose result then carries a Cancelled event) and says what was dropped. The model's
    /// history is kept: it did produce that output, and the next block is built from it.
    /// </summary>
    public CancelReport Cancel()
    {
        lock (_outputGate)
        {
            if (_inFlightBlock >= 0)
            {
                _cancelInFlight = true;
                return new CancelReport(_inFlightBlock, InFlight: true, [], "", 0);
            }
            if (_pending is not { } pending)
                return new CancelReport(-1, InFlight: false, [], "", 0);
            _pending = null;
            int steps = pending.Actions?.GetLength(0) ?? pending.NormalizedActions?.GetLength(0) ?? 0;
            return new CancelReport(pending.Block, InFlight: false, pending.TextIds, pending.Text, steps);
        }
    }

    private BlockRecord Resolve(BlockInput input, int index)
    {
        int d = _model.Network.Config.Speech.HiddenSize;
        float[][] audio = input.Audio switch
        {
            AudioInput.Embeddings e => e.Rows,
            AudioInput.Pcm pcm => _model.SpeechEncoder?.EncodeBlock(pcm.Samples)
                ?? throw new NotSupportedException($"block {index}: raw audio needs the speech encoder, which this build does not have; pass the block's 5 audio embeddings"),
            _ => throw new ArgumentException($"block {index}: unknown audio input"),
        };
        if (audio.Length != 5)
            throw new ArgumentException($"block {index}: {audio.Length} audio embeddings; a 1-second block has 5");
        for (int r = 0; r < audio.Length; r++)
        {
            if (audio[r] is null || audio[r].Length != d)
                throw new ArgumentException($"block {index}: audio embedding {r} has {audio[r]?.Length ?? 0} values; hidden_size is {d}");
        }

        var images = input.Images.Select((image, i) => image switch
        {
            ImageInput.Codes c => c.Values,
            ImageInput.Rgb rgb => _model.ImageEncoder?.Encode(rgb)
                ?? throw new NotSupportedException($"block {index}: image {i} is a raw frame, which needs the image encoder this build does not have; pass its VQ codes"),
            _ => throw new ArgumentException($"block {index}: unknown image input"),
        }).ToArray();
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
        return new BlockRecord(index, audio, images);
    }

    /// <summary>
    /// Makes the cache hold <paramref name="sequence"/>: keeps the longest prefix whose keys match
    /// what is cached (nothing in parity mode), truncates the rest and prefills from there. A cached
    /// position is reusable only with its whole prefix, so "recomputed" counts the reusable
    /// positions that were prefilled again anyway.
    /// </summary>
    private (int Prefilled, int Recomputed) Prefill(ReferenceSequence sequence)
    {
        // The last position is always computed: the decoder needs its hidden state.
        int limit = Math.Min(_cachedKeys.Count, sequence.Count - 1);
        int reusable = 0;
        while (reusable < limit && _cachedKeys[reusable] == sequence.Keys[reusable])
            reusable++;
        int keep = _options.Parity ? 0 : reusable;
        _state.Truncate(keep);
        _cachedKeys.RemoveRange(keep, _cachedKeys.Count - keep);
        _state.Append(sequence.Batch(keep));
        _cachedKeys.AddRange(sequence.Keys.Skip(keep));
        return (sequence.Count - keep, reusable - keep);
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

    public void Dispose() => _state.Dispose();
}
