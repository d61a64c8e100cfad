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
    /// <summary>Cancel() dropped this block's output while it was being computed.</summary>
    Cancelled,
}

public sealed record BlockEvent(BlockEventKind Kind, string Detail)
{
    public override string ToString() => Detail.Length == 0 ? Kind.ToString() : $"{Kind}: {Detail}";
}

/// <summary>Wall-clock milliseconds per stage of a block.</summary>
public sealed record StageTimings(double InputMs, double PrefillMs, double TextMs, double ActionMs, double CodecMs, double TotalMs);

/// <summary>How much work a block did, for checking what incremental decoding saves.</summary>
/// <param name="SequenceLength">Positions of the block's prompt sequence (as the reference builds it).</param>
/// <param name="PrefilledPositions">Positions this block ran through a prefill.</param>
/// <param name="RecomputedPositions">Prefilled positions whose K/V was already cached (same tokens up to and including them): work done twice.</param>
/// <param name="DecodedPositions">Single-token decode steps.</param>
public sealed record BlockCounters(int SequenceLength, int PrefilledPositions, int RecomputedPositions, int DecodedPositions);

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
    public required StageTimings Timings { get; init; }
    public required BlockCounters Counters { get; init; }

    public bool Has(BlockEventKind kind) => Events.Any(e => e.Kind == kind);
}

/// <summary>What <see cref="Session.Cancel"/> dropped.</summary>
/// <param name="Block">The block whose output was dropped (−1 when there was none).</param>
/// <param name="InFlight">True when the block was still being computed.</param>
public sealed record CancelReport(int Block, bool InFlight, int[] DroppedTextIds, string DroppedText, int DroppedActionSteps)
{
    public override string ToString() => Block < 0
        ? "nothing to cancel"
        : $"block {Block}{(InFlight ? " (in flight)" : "")}: dropped {DroppedTextIds.Length} text ids \"{DroppedText}\" and {DroppedActionSteps} action steps";
}
