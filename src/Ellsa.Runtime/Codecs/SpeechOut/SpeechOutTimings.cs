using Ellsa.Kernels.Backend;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// Wall time of the speech decoder's stages, summed over calls, for benchmarks (ellsa-perf
/// speech-out-cpu, ellsa-perf-gpu speech-out): the speech-token LM (generator_proj included), the
/// flow's encoder (token embedding, Conformer, encoder_proj), its estimator (the Euler steps) and
/// HiFT. Off unless a component is given one (<see cref="Flow.Timings"/>, <see cref="Hift.Timings"/>,
/// <see cref="SpeechLmStream.Timings"/>): each stage boundary synchronises the backend, which would
/// stall a GPU's queue in normal use, and an untimed call neither waits nor allocates for it.
/// One instance may be shared by the components of one backend.
/// </summary>
public sealed class SpeechOutTimings(IComputeBackend backend) : BackendClock(backend)
{
    public double LmMs { get; internal set; }
    /// <summary>Speech tokens the timed LM calls produced.</summary>
    public int LmTokens { get; internal set; }
    public double FlowEncoderMs { get; internal set; }
    public double EstimatorMs { get; internal set; }
    /// <summary>Flow calls (windows) and the mel frames they returned.</summary>
    public int FlowCalls { get; internal set; }
    public int MelFrames { get; internal set; }
    public double HiftMs { get; internal set; }
    /// <summary>Samples the timed HiFT calls produced.</summary>
    public long HiftSamples { get; internal set; }

    public void Clear()
    {
        LmMs = FlowEncoderMs = EstimatorMs = HiftMs = 0;
        LmTokens = FlowCalls = MelFrames = 0;
        HiftSamples = 0;
    }
}
