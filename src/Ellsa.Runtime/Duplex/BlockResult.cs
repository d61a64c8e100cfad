namespace Ellsa.Runtime.Duplex;

public enum BlockEventKind
{
    /// <summary>The first text token is silence: the model says nothing this block.</summary>
    Silent,
    /// <summary>The block carries words.</summary>
    Speaking,
    /// <summary>The model closed its turn: words then silence, or silence after an open turn.</summary>
    EndOfTurn,
    /// <summary>The action chunk turned from the no-op to motion.</summary>
    ActingStarted,
    /// <summary>The action chunk turned from motion to the no-op.</summary>
    ActingStopped,
    /// <summary>The turn's text starts with "Action cancelled." (a heuristic, 02-protocol.md §2).</summary>
    Refusal,
    /// <summary>The oldest history was dropped to stay within the context limit.</summary>
    ContextTrimmed,
    /// <summary>The block took longer than its deadline.</summary>
    DeadlineOverrun,
    /// <summary>Cancel() was called while this block was stepped, or before it: drop its actions; its speech and the open speech segment were dropped.</summary>
    Cancelled,
    /// <summary>A speech segment's first audio is in this block.</summary>
    SpeechStarted,
    /// <summary>A speech segment's last audio is in this block.</summary>
    SpeechEnded,
    /// <summary>The speech LM gave up on a segment (EOS drawn past max_trials): the rest of its speech is dropped.</summary>
    SpeechAbandoned,
}

public sealed record BlockEvent(BlockEventKind Kind, string Detail)
{
    public override string ToString() => Detail.Length == 0 ? Kind.ToString() : $"{Kind}: {Detail}";
}

/// <summary>Wall-clock milliseconds per stage of a block.</summary>
/// <param name="TrimMs">Of <paramref name="PrefillMs"/>, the time a context trim cost: re-prefilling the history it kept (0 without a trim).</param>
/// <param name="ImageMs">Of <paramref name="InputMs"/>, the time the image encoder took for the block's frames (reading files included).</param>
/// <param name="FbankMs">Of <paramref name="InputMs"/>, the time fbank took for the block's PCM.</param>
/// <param name="SpeechEncoderMs">Of <paramref name="InputMs"/>, the time the speech encoder and projector took for the block's PCM.</param>
/// <param name="SpeechMs">The speech stage after the text and action phases: the speech LM, the flow and HiFT (0 when the session does not speak).</param>
/// <param name="SpeechLmMs">Of <paramref name="SpeechMs"/>, generator_proj and the speech-token LM.</param>
/// <param name="SpeechWaveMs">Of <paramref name="SpeechMs"/>, the token-to-wave windows (flow and HiFT).</param>
/// <param name="SpeechFirstPacketMs">From the end of the text phase to the block's first final speech sample (the action phase included); null when the block has no speech.</param>
public sealed record StageTimings(double InputMs, double PrefillMs, double TextMs, double ActionMs, double CodecMs, double TotalMs, double TrimMs = 0,
    double ImageMs = 0, double FbankMs = 0, double SpeechEncoderMs = 0, double SpeechMs = 0, double SpeechLmMs = 0, double SpeechWaveMs = 0,
    double? SpeechFirstPacketMs = null);

/// <summary>How much work a block did, for checking what incremental decoding saves.</summary>
/// <param name="SequenceLength">Positions of the block's prompt sequence (as the reference builds it).</param>
/// <param name="PrefilledPositions">Positions this block ran through a prefill.</param>
/// <param name="RecomputedPositions">Prefilled positions whose K/V was already cached (same tokens up to and including them): work done twice.</param>
/// <param name="DecodedPositions">Single-token decode steps.</param>
/// <param name="TrimRePrefilledPositions">Of <paramref name="PrefilledPositions"/>, the history positions a context trim made this block prefill again (0 without a trim).</param>
/// <param name="FramesEncoded">Camera frames the image encoder turned into codes this block (frames given as codes do not count).</param>
/// <param name="AudioSamples">Samples the session's PCM stream had taken when the block ran (0 when the block gave embeddings).</param>
/// <param name="AudioLookaheadMs">Audio past the block's end that its PCM stream had to reach: the speech encoder's lookahead, the added delay of listening (0 after the stream's end).</param>
/// <param name="SpeechRows">Hidden rows the block handed the speech decoder (one per text token but an eot's, none after a silent start).</param>
/// <param name="SpeechTokens">Speech tokens the speech LM produced in the block.</param>
/// <param name="SpeechSamples">PCM samples in <see cref="BlockResult.Speech"/>.</param>
/// <param name="SpeechDroppedSamples">Samples a Cancel dropped from this block's speech.</param>
/// <param name="SpeechDroppedTokens">Speech tokens of the open segment a Cancel dropped (some may have been spoken in earlier blocks).</param>
public sealed record BlockCounters(int SequenceLength, int PrefilledPositions, int RecomputedPositions, int DecodedPositions, int TrimRePrefilledPositions = 0,
    int FramesEncoded = 0, long AudioSamples = 0, double AudioLookaheadMs = 0, int SpeechRows = 0, int SpeechTokens = 0, int SpeechSamples = 0,
    int SpeechDroppedSamples = 0, int SpeechDroppedTokens = 0);

/// <summary>What one block produced.</summary>
public sealed record BlockResult
{
    public required int Block { get; init; }
    /// <summary>The generated text ids, as generated (the history stores them with the last forced to eot).</summary>
    public required int[] TextIds { get; init; }
    /// <summary>The text, special tokens removed (empty without a tokenizer).</summary>
    public required string Text { get; init; }
    /// <summary>The block's action ids, boa first: generated when acting, the no-op chunk in speech dialogue.</summary>
    public required int[] ActionIds { get; init; }
    /// <summary>The FAST tokenizer's ids of the chunk (fast_base − id), as the reference decodes them.</summary>
    public required int[] FastIds { get; init; }
    /// <summary>The decoded chunk, [time][dim], normalised; null without FAST assets.</summary>
    public float[,]? NormalizedActions { get; init; }
    /// <summary>The chunk in environment units (gripper ±1); null without norm stats.</summary>
    public float[,]? Actions { get; init; }
    /// <summary>Why the chunk was replaced by the safe no-op, if it was.</summary>
    public IReadOnlyList<string> ActionProblems { get; init; } = [];
    public required IReadOnlyList<BlockEvent> Events { get; init; }
    /// <summary>
    /// The speech that became ready in this block: mono PCM in [−1, 1] at <see cref="Session.SpeechSampleRate"/>,
    /// continuing the previous block's. Empty when nothing became ready, when the session does not speak,
    /// or when the block was cancelled.
    /// </summary>
    public float[] Speech { get; init; } = [];
    /// <summary>
    /// The speech expert's final-normed hidden rows the block handed the speech decoder (the rows
    /// generator_proj reads; <see cref="BlockCounters.SpeechRows"/> of them), for embedders running
    /// their own speech output. Empty when the session does not speak.
    /// </summary>
    public IReadOnlyList<float[]> SpeechHidden { get; init; } = [];
    public required StageTimings Timings { get; init; }
    public required BlockCounters Counters { get; init; }

    public bool Has(BlockEventKind kind) => Events.Any(e => e.Kind == kind);
}

/// <summary>Which block <see cref="Session.Cancel"/> cancelled: that block's result carries a Cancelled event.</summary>
/// <param name="Block">The cancelled block: the one being stepped, else the next one to be stepped.</param>
/// <param name="InFlight">True when its Step had already been called (computing, or waiting for the model); false when the cancel waits for the next Step.</param>
public sealed record CancelReport(int Block, bool InFlight)
{
    public override string ToString() => $"block {Block} ({(InFlight ? "in flight" : "next")}) cancelled";
}
