namespace Ellsa.Runtime.Codecs.Fast;

/// <summary>One decoded action chunk.</summary>
public sealed class FastDecodeResult
{
    /// <summary>[T, D] actions in the model's normalised units (≈ [−1, 1]).</summary>
    public required float[,] Normalized { get; init; }

    /// <summary>[T, D] actions in environment units with the gripper (last dim) at ±1; null when
    /// the codec was loaded without norm stats.</summary>
    public float[,]? Actions { get; init; }

    /// <summary>Why the ids were rejected; empty for a chunk decoded normally.</summary>
    public required IReadOnlyList<string> Problems { get; init; }

    /// <summary>True when the ids were rejected and the chunk is the safe no-op.</summary>
    public bool IsSafeFallback => Problems.Count > 0;

    /// <summary>How many DCT coefficients the ids decoded to; fewer than T·D are zero-padded as
    /// in the reference (a normal chunk, not a problem).</summary>
    public int CoefficientCount { get; init; }
}
