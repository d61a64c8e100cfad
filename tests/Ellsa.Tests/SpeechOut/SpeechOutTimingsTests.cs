using Ellsa.Runtime.Codecs.SpeechOut;
using Ellsa.Tests.Support;
using Ellsa.Tests.Vision;
using Xunit;

namespace Ellsa.Tests.SpeechOut;

/// <summary>
/// Stage timings of the speech decoder (benchmarks' SpeechOutTimings): a timed call gives what an
/// untimed one gives, and the timings count its stages' time and exactly what it produced.
/// </summary>
public sealed class SpeechOutTimingsTests
{
    [Fact]
    public void TimedStagesCountWhatTheyProduced()
    {
        const string config = "small";
        var timings = new SpeechOutTimings(SharedBackends.Cpu);
        var (flow, flowTensors) = SpeechOutGoldens.LoadFlow(config, SharedBackends.Cpu);
        using var _ = flowTensors;
        using var __ = flow;
        var prompt = SpeechOutGoldens.Prompt(config);
        var tokens = Enumerable.Range(0, 23).Select(_ => Random.Shared.Next(flow.Config.VocabSize)).ToArray();
        var untimed = flow.Infer(tokens, prompt);
        flow.Timings = timings;
        var timed = flow.Infer(tokens, prompt);
        VisionGoldens.AssertClose("timed mel", untimed.Mel, timed.Mel, 1e-6);
        Assert.Equal((1, timed.Frames), (timings.FlowCalls, timings.MelFrames));
        Assert.True(timings.FlowEncoderMs > 0 && timings.EstimatorMs > 0);

        var (hift, hiftTensors) = SpeechOutGoldens.LoadHift(config, SharedBackends.Cpu);
        using var ___ = hiftTensors;
        using var ____ = hift;
        hift.Timings = timings;
        var samples = hift.Synthesize(timed.Mel, timed.Frames, HiftOptions.Deterministic);
        Assert.Equal(samples.Length, timings.HiftSamples);
        Assert.True(timings.HiftMs > 0);

        using var golden = SpeechLmGoldens.Lm(config);
        using var loaded = new SpeechLmGoldens.Loaded(config, SharedBackends.Cpu);
        string name = SpeechLmGoldens.Cases(config).First();
        var hidden = golden.Floats(name + ".hidden");
        int rows = (int)golden.Shape(name + ".hidden")[1];
        using var stream = loaded.Stream();
        stream.Timings = timings;
        var produced = stream.Feed(hidden, rows).Concat(stream.Finish()).ToArray();
        Assert.Equal(golden.Ints(name + ".tokens"), produced);
        Assert.Equal(produced.Length, timings.LmTokens);
        Assert.True(timings.LmMs > 0);

        timings.Clear();
        Assert.Equal((0.0, 0, 0, 0L), (timings.LmMs + timings.FlowEncoderMs + timings.EstimatorMs + timings.HiftMs, timings.FlowCalls, timings.LmTokens, timings.HiftSamples));
    }
}
