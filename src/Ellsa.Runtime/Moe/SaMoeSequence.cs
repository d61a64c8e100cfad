using Ellsa.Kernels.Backend;

namespace Ellsa.Runtime.Moe;

/// <summary>A <see cref="SequenceState"/>'s decode calls with SA-MoE's experts named by <see cref="Expert"/> (their indices).</summary>
public static class SaMoeSequence
{
    /// <inheritdoc cref="SequenceState.Step(int, int)"/>
    public static void Step(this SequenceState state, int id, Expert expert) => state.Step(id, (int)expert);

    /// <inheritdoc cref="SequenceState.ArgMax(int, ReadOnlySpan{IdRange})"/>
    public static int ArgMax(this SequenceState state, Expert head, ReadOnlySpan<IdRange> allowed = default) => state.ArgMax((int)head, allowed);

    /// <inheritdoc cref="SequenceState.LastLogits(int, Span{float})"/>
    public static void LastLogits(this SequenceState state, Expert head, Span<float> destination) => state.LastLogits((int)head, destination);
}
