using Ellsa.Kernels.Backend;
using Ellsa.Runtime.Moe;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// One segment through the speech LM as the evaluation's driver runs it (ev:L204-234 with
/// <c>inference_salmonn_stream</c>, cv/llm/llm.py:L635-779; tests/goldens/speech_out/README.md §2),
/// fed as the hidden rows arrive: every <c>text_chunk</c> rows complete one call, which decodes its
/// tokens at once; <see cref="Finish"/> says the text ended and runs the rest (the final EOS phase
/// when the segment is short enough). Call k (from 0) sees text_len = min((k+1)·text_chunk, N):
/// <list type="bullet">
/// <item>k = 0: sos ⊕ the first features, then audio_chunk tokens from the first V logits.</item>
/// <item>k·text_chunk &lt; text_len: the next m = text_len − k·text_chunk (≤ text_chunk) features, then
/// int(min(audio_chunk, ratio·m)) tokens from the first V logits.</item>
/// <item>otherwise the final phase: task_id, then up to max_len − already_decoded steps over all V+3
/// logits: EOS ends the segment (redrawn before min_len), a fill id rolls the step back and re-feeds
/// its input, the last budget step ends it.</item>
/// </list>
/// The driver stops after the call whose next text end passes 100. The reference re-prefills the whole
/// lm_input on every call; here the KV cache is kept across calls, which is the same causal computation:
/// the rows the reference's next input holds beyond the cache (the last sampled token, a task_id when a
/// final call decodes nothing) wait in <c>_pending</c>. One quirk is kept: a final call whose last step
/// drew a fill returns only its last token's embedding as lm_input, so the next call starts a new context
/// from that token.
/// </summary>
public sealed class SpeechLmStream : IDisposable
{
    private readonly SpeechLm _lm;
    private readonly GeneratorProjection _projection;
    private readonly SpeechLmOptions _options;
    private readonly Workspace _workspace;
    private readonly SequenceState _sequence;
    private readonly RasSampler? _sampler;
    private readonly IdRange[] _speechIds;
    private readonly IdRange[] _speechIdsAndEos;
    private readonly float[] _logits;
    private readonly List<float[]> _features = [];
    private readonly List<int> _tokens = [];
    private readonly List<SpeechLmCall> _calls = [];
    private TokenBatch _pending = new();
    private bool _textComplete;
    private float[]? _firstLogits;

    internal SpeechLmStream(SpeechLm lm, GeneratorProjection projection, SpeechLmOptions options)
    {
        _lm = lm;
        _projection = projection;
        _options = options;
        var config = lm.Config;
        _sampler = options.Greedy ? null : new RasSampler(config.Sampling, options.Seed is { } seed ? new Random(seed) : new Random());
        _speechIds = [new IdRange(0, config.SpeechTokenSize - 1)];
        _speechIdsAndEos = [new IdRange(0, config.Eos)];
        _logits = new float[config.DecoderRows];
        _workspace = new Workspace(lm.Backend);
        try
        {
            _sequence = lm.CreateSequence();
        }
        catch
        {
            _workspace.Dispose();
            throw;
        }
    }

    public SpeechLmState State { get; private set; }
    /// <summary>The segment's speech tokens so far, in order.</summary>
    public IReadOnlyList<int> Tokens => _tokens;
    /// <summary>The calls made so far.</summary>
    public IReadOnlyList<SpeechLmCall> Calls => _calls;
    /// <summary>generator_proj's features of the rows the calls read (at most ⌊100 / text_chunk⌋ · text_chunk).</summary>
    public IReadOnlyList<float[]> Features => _features;
    /// <summary>The raw llm_decoder output (V+3 logits) at the segment's first decode step; null before it.</summary>
    public ReadOnlySpan<float> FirstLogits => _firstLogits;

    /// <summary>When set, Feed and Finish are timed into it with the tokens they produce (benchmarks only; see <see cref="SpeechOutTimings"/>).</summary>
    public SpeechOutTimings? Timings { get; set; }

    private LlmConfig Config => _lm.Config;
    private int TextChunk => Config.TextChunk;
    private int MaxFeatures => SpeechLmDriver.MaxCalls(TextChunk) * TextChunk;

    /// <summary>
    /// The segment's next hidden rows (the speech expert's last hidden states, [rows, generator_proj.input_size]
    /// row-major). Runs every call they complete; returns the tokens those calls produced.
    /// </summary>
    public int[] Feed(ReadOnlySpan<float> hidden, int rows)
    {
        if (_textComplete)
            throw new InvalidOperationException("the segment's text was finished; Reset starts the next segment");
        int width = _projection.Config.InputSize;
        if (rows < 0 || hidden.Length != (long)rows * width)
            throw new ArgumentException($"{hidden.Length} hidden values are not {rows} rows of generator_proj.input_size {width}");
        var timings = Timings;
        long start = timings?.Start() ?? 0;
        // Rows past the last call's text end are never read (the driver's limit).
        int used = Math.Clamp(MaxFeatures - _features.Count, 0, rows);
        _features.AddRange(_projection.Project(_workspace, hidden[..(used * width)], used));
        return Timed(RunReadyCalls(), timings, start);
    }

    /// <summary>The segment's text is complete: runs the remaining calls and returns the tokens they produced.</summary>
    public int[] Finish()
    {
        _textComplete = true;
        var timings = Timings;
        long start = timings?.Start() ?? 0;
        return Timed(RunReadyCalls(), timings, start);
    }

    private static int[] Timed(int[] tokens, SpeechOutTimings? timings, long start)
    {
        if (timings is not null)
        {
            timings.LmMs += timings.Since(start);
            timings.LmTokens += tokens.Length;
        }
        return tokens;
    }

    /// <summary>Forgets the segment (keeping the allocations) so the stream takes the next one.</summary>
    public void Reset()
    {
        _sequence.Truncate(0);
        _features.Clear();
        _tokens.Clear();
        _calls.Clear();
        _pending = new TokenBatch();
        _textComplete = false;
        _firstLogits = null;
        State = SpeechLmState.Running;
    }

    private int[] RunReadyCalls()
    {
        int before = _tokens.Count;
        while (State == SpeechLmState.Running)
        {
            int k = _calls.Count;
            int end = (k + 1) * TextChunk;
            if (!_textComplete && _features.Count < end && _features.Count < MaxFeatures)
                break;
            int textLength = Math.Min(end, _features.Count);
            int start = k * TextChunk;
            SpeechLmCall? call = k == 0 ? Interleaved(textLength, 0, textLength, Config.AudioChunk)
                : start < textLength ? Interleaved(textLength, start, textLength - start, SpeechLmDriver.InterleavedTokens(Config, textLength - start))
                : FinalPhase(textLength);
            if (call is not { } made)
            {
                State = SpeechLmState.Abandoned;
                break;
            }
            _calls.Add(made);
            if (made.Final || (k + 2) * TextChunk > LlmConfig.StreamTextLimit)
                State = SpeechLmState.Finished;
        }
        return _tokens.Skip(before).ToArray();
    }

    /// <summary>An interleaved call: the pending rows (sos first in call 0) and features [first, first + count), then <paramref name="steps"/> speech tokens.</summary>
    private SpeechLmCall Interleaved(int textLength, int first, int count, int steps)
    {
        var input = _pending;
        if (_calls.Count == 0)
            input.AddEmbedding(_lm.Sos);
        for (int i = first; i < first + count; i++)
            input.AddEmbedding(_features[i]);
        int produced = 0;
        for (int i = 0; i < steps; i++)
        {
            if (i == 0)
                _sequence.Append(input);
            else
                _sequence.Step(_tokens[^1], 0);
            // Only the first V logits are choosable here (llm.py:L698-699): neither EOS nor a fill id,
            // so sampling_ids never redraws.
            int id = _sampler is null ? ChooseGreedy(_speechIds) : SampleRas(Config.SpeechTokenSize, ignoreEos: false)!.Value;
            _tokens.Add(id);
            produced++;
        }
        _pending = produced > 0 ? new TokenBatch().AddId(_tokens[^1]) : input;
        return new SpeechLmCall(textLength, produced, Final: false);
    }

    /// <summary>The final phase (llm.py:L742-772); null when sampling_ids gives up.</summary>
    private SpeechLmCall? FinalPhase(int textLength)
    {
        int previousLength = _sequence.Length + _pending.Count;
        var input = _pending.AddEmbedding(_lm.TaskId);
        int budget = SpeechLmDriver.FinalBudget(Config, textLength, previousLength);
        int minLength = SpeechLmDriver.MinLength(textLength);
        int produced = 0;
        for (int i = 0; i < budget; i++)
        {
            int rollback = _sequence.Length;
            _sequence.Append(input);
            int id;
            if (_sampler is null)
                id = ChooseGreedy(i < minLength ? _speechIds : _speechIdsAndEos);
            else if (SampleRas(Config.DecoderRows, ignoreEos: i < minLength) is { } drawn)
                id = drawn;
            else
                return null;
            if (id == Config.Eos)
                return new SpeechLmCall(textLength, produced, Final: true);
            if (id > Config.Eos)
            {
                // A fill id: the authors restore the cache and feed the same input at the next step.
                _sequence.Truncate(rollback);
                continue;
            }
            _tokens.Add(id);
            produced++;
            input = new TokenBatch().AddId(id);
            if (i == budget - 1)
                return new SpeechLmCall(textLength, produced, Final: true);
        }
        // Not final: the next call's lm_input is this call's last input (llm.py:L767 reassigns it per
        // accepted token), which holds the whole context only if no token was accepted; otherwise the
        // next call starts a new context from the last token.
        if (produced > 0)
            _sequence.Truncate(0);
        _pending = input;
        return new SpeechLmCall(textLength, produced, Final: false);
    }

    private int ChooseGreedy(IdRange[] allowed)
    {
        CaptureFirstLogits();
        return _sequence.ArgMax(0, allowed);
    }

    /// <summary>sampling_ids over the first <paramref name="choosable"/> logits; null when it gives up.</summary>
    private int? SampleRas(int choosable, bool ignoreEos)
    {
        _sequence.LastLogits(0, _logits);
        _firstLogits ??= (float[])_logits.Clone();
        var scores = _logits.AsSpan(0, choosable);
        int bad = FiniteValues.FirstNonFinite(scores);
        if (bad >= 0)
            throw new NonFiniteException($"speech LM position {_sequence.Length - 1}: llm_decoder's logit {bad} is {scores[bad]}; the hidden state is not finite");
        return _sampler!.TrySampleIds(scores, _tokens, Config.Eos, ignoreEos, out int id) ? id : null;
    }

    private void CaptureFirstLogits()
    {
        if (_firstLogits is not null)
            return;
        _firstLogits = new float[Config.DecoderRows];
        _sequence.LastLogits(0, _firstLogits);
    }

    public void Dispose()
    {
        _sequence.Dispose();
        _workspace.Dispose();
    }
}
