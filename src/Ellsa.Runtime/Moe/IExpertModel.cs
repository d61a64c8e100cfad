using Ellsa.Kernels.Backend;

namespace Ellsa.Runtime.Moe;

/// <summary>
/// A decoder whose positions each run through one of its experts, all resident on one backend and
/// sharing the attention geometry (one set of heads over one KV cache), which is what a
/// <see cref="SequenceState"/> runs. SA-MoE is two experts routed by markers (<see cref="SaMoeModel"/>,
/// indices = <see cref="Expert"/>); CosyVoice2's speech-token LM is one.
/// </summary>
internal interface IExpertModel
{
    IComputeBackend Backend { get; }

    /// <summary>The experts by index: routing returns these indices, and decode steps and heads take them.</summary>
    IReadOnlyList<ExpertWeights> Experts { get; }

    /// <summary>The expert of a position holding <paramref name="id"/> (−1 for an embedding row) when routing stood at <paramref name="current"/> (0 before any position).</summary>
    int Route(int id, int current);

    /// <summary>Throws <see cref="ObjectDisposedException"/> once the weights are freed.</summary>
    void ThrowIfDisposed();
}
