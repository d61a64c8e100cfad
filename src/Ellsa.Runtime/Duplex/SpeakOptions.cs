namespace Ellsa.Runtime.Duplex;

/// <summary>How a session speaks: the speech decoder's choices (03-speech-out.md; issue 11 item 4).</summary>
public sealed record SpeakOptions
{
    /// <summary>False: decode text only, even when the model has a speech decoder.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>
    /// Speech tokens per token-to-wave window (the evaluation's <c>step</c>), at least the speaker's
    /// minimum. Null: the largest step whose first window runs as soon as the speech LM's first call
    /// returns (audio_chunk − look-ahead − 1, 21 for the release), so a segment's first audio comes
    /// with its first text_chunk rows. ellsa.json's streaming.window_step (5000 in the release: one
    /// offline call per segment, as the authors' evaluation) is what <c>ellsa speak</c> uses.
    /// </summary>
    public int? WindowStep { get; init; }

    /// <summary>The goldens' greedy rule instead of RAS sampling in the speech LM.</summary>
    public bool Greedy { get; init; }

    /// <summary>HiFT's sine phases and additive noise zero.</summary>
    public bool Deterministic { get; init; }

    /// <summary>Seeds RAS and HiFT's noise (null: from the system), so a session's speech is reproducible.</summary>
    public int? Seed { get; init; }
}
