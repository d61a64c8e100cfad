namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>How a <see cref="SpeechLmStream"/> chooses tokens.</summary>
public sealed record SpeechLmOptions
{
    /// <summary>
    /// The greedy rule of the goldens instead of RAS: the best id the authors' loop accepts — the best
    /// speech token in the interleaved phase; in the final phase the best id up to EOS, and the best
    /// non-EOS id before min_len. Fill ids never win. Ties go to the lowest id.
    /// </summary>
    public bool Greedy { get; init; }

    /// <summary>The seed of RAS's generator (unused when greedy); null seeds it from the system.</summary>
    public int? Seed { get; init; }
}

/// <summary>Where a segment's decoding stands.</summary>
public enum SpeechLmState
{
    /// <summary>Calls remain: feed more rows or finish the text.</summary>
    Running,
    /// <summary>The driver's loop ended (the LM's final flag, or the text limit): the tokens are the segment's speech.</summary>
    Finished,
    /// <summary>sampling_ids drew EOS past max_trials: the authors' driver breaks and the segment is not synthesised at all.</summary>
    Abandoned,
}

/// <summary>One <c>inference_salmonn_stream</c> call of the driver: its text length, the tokens it added and its final flag.</summary>
public readonly record struct SpeechLmCall(int TextLength, int Tokens, bool Final);
