using Ellsa.Kernels.Backend;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.Speech;

/// <summary>The parts of a Zipformer layer, timed together over every layer of every stack.</summary>
public enum LayerPart
{
    /// <summary>The three feed-forward modules.</summary>
    FeedForward,
    /// <summary>The attention weights' in_proj, the positional scores and both SelfAttention modules.</summary>
    Attention,
    /// <summary>NonlinAttention: its in_proj, the tanh gate, the weighted sum and out_proj.</summary>
    NonlinAttention,
    /// <summary>The two convolution modules.</summary>
    Convolution,
    /// <summary>The bypasses, the BiasNorm and the state windows' upkeep.</summary>
    Rest,
}

/// <summary>
/// Wall time of a speech stream's stages (the subsampling, each stack, the projector) and of the
/// layers' parts, for benchmarks (ellsa-perf speech-cpu). Off unless a stream is given one: each
/// stage boundary synchronises the backend, which would stall a GPU's queue in normal use.
/// </summary>
public sealed class SpeechTimings(IComputeBackend backend, int stacks) : BackendClock(backend)
{
    public double SubsamplingMs { get; internal set; }
    public double ProjectorMs { get; internal set; }
    public double[] StackMs { get; } = new double[stacks];
    public double[] LayerPartMs { get; } = new double[Enum.GetValues<LayerPart>().Length];

    internal void Add(LayerPart part, long start) => LayerPartMs[(int)part] += Since(start);

    public void Clear()
    {
        SubsamplingMs = ProjectorMs = 0;
        Array.Clear(StackMs);
        Array.Clear(LayerPartMs);
    }
}
