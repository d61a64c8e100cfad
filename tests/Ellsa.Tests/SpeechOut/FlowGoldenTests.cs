using Ellsa.Runtime.Codecs.SpeechOut;
using Ellsa.Tests.Support;
using Ellsa.Tests.Vision;
using Xunit;

namespace Ellsa.Tests.SpeechOut;

/// <summary>
/// The flow against the authors' CosyVoice2 flow run in float64 on the same weights, prompt and
/// noise (tests/goldens/speech_out): every offline case (3 to 151 tokens, both configs), every
/// window of their streaming loop (not-last windows drop the lookahead frames), the segments the
/// speech LM produced, and the debug case's intermediates stage by stage. Mel within 1e-4
/// relative L2 (the authors' own float32 run is within 5e-7).
/// </summary>
public sealed class FlowGoldenTests
{
    private const double MelTolerance = 1e-4;

    public static TheoryData<string, string> OfflineCases() => SpeechOutGoldens.CaseData("offline", ".mel");

    public static TheoryData<string, string> StreamCases() => SpeechOutGoldens.CaseData("stream", ".mels");

    public static TheoryData<string> Configs => new(SpeechOutGoldens.Configs);

    [Theory]
    [MemberData(nameof(OfflineCases))]
    public void OfflineMelMatchesTheAuthors(string config, string name)
    {
        var (flow, tensors) = SpeechOutGoldens.LoadFlow(config, SharedBackends.Cpu);
        using var _ = tensors;
        using var __ = flow;
        using var goldens = SpeechOutGoldens.Goldens(config, "offline");
        var prompt = SpeechOutGoldens.Prompt(config);
        var tokens = goldens.Ints(name + ".tokens");
        var output = flow.Infer(tokens, prompt);
        Assert.Equal((int)goldens.Shape(name + ".mel")[2], output.Frames);
        Assert.Equal(Flow.OutputFrames(tokens.Length, prompt, finalize: true), output.Frames);
        VisionGoldens.AssertClose($"{config} {name} mel", goldens.Floats(name + ".mel"), output.Mel, MelTolerance);
    }

    /// <summary>Each window of the authors' loop (prompt prepended, chunk masks from its start); the mel HiFT got starts with the cached frames.</summary>
    [Theory]
    [MemberData(nameof(StreamCases))]
    public void StreamedWindowsMatchTheAuthors(string config, string name)
    {
        var (flow, tensors) = SpeechOutGoldens.LoadFlow(config, SharedBackends.Cpu);
        using var _ = tensors;
        using var __ = flow;
        using var goldens = SpeechOutGoldens.Goldens(config, "stream");
        var prompt = SpeechOutGoldens.Prompt(config);
        int cache = SpeechOutGoldens.SettingsInt(config, "streaming", "mel_cache_len");
        var tokens = goldens.Ints(name + ".tokens");
        var windows = goldens.Ints(name + ".windows");
        var melFrames = goldens.Ints(name + ".mel_frames");
        var mels = goldens.Floats(name + ".mels");
        int total = (int)goldens.Shape(name + ".mels")[2], at = 0;
        for (int w = 0; w < melFrames.Length; w++)
        {
            int first = windows[3 * w], end = windows[3 * w + 1];
            bool final = windows[3 * w + 2] != 0;
            var output = flow.Infer(tokens.AsSpan(first, end - first), prompt, final);
            int cached = w == 0 ? 0 : cache;
            Assert.Equal(melFrames[w], cached + output.Frames);
            var expected = new float[FlowOutput.Channels * output.Frames];
            for (int c = 0; c < FlowOutput.Channels; c++)
                Array.Copy(mels, c * total + at + cached, expected, c * output.Frames, output.Frames);
            VisionGoldens.AssertClose($"{config} {name} window {w} ({first}…{end}, {(final ? "last" : "not last")})", expected, output.Mel, MelTolerance);
            at += melFrames[w];
        }
        Assert.Equal(total, at);
    }

    /// <summary>The speech LM's segments (its greedy tokens) through the released synthesis: one offline window each.</summary>
    [Theory]
    [MemberData(nameof(Configs))]
    public void SegmentsOfTheSpeechLmMatchTheAuthors(string config)
    {
        var (flow, tensors) = SpeechOutGoldens.LoadFlow(config, SharedBackends.Cpu);
        using var _ = tensors;
        using var __ = flow;
        using var goldens = SpeechOutGoldens.Goldens(config, "lm");
        var prompt = SpeechOutGoldens.Prompt(config);
        var segments = GoldenNames(goldens, ".mel").ToList();
        Assert.NotEmpty(segments);
        foreach (string segment in segments)
        {
            var tokens = goldens.Ints("n" + segment[1..] + ".tokens");
            var output = flow.Infer(tokens, prompt);
            VisionGoldens.AssertClose($"{config} {segment} mel", goldens.Floats(segment + ".mel"), output.Mel, MelTolerance);
        }
    }

    /// <summary>The debug case stage by stage, so a mismatch points at its stage.</summary>
    [Theory]
    [MemberData(nameof(Configs))]
    public void IntermediatesMatchTheAuthors(string config)
    {
        var (flow, tensors) = SpeechOutGoldens.LoadFlow(config, SharedBackends.Cpu);
        using var _ = tensors;
        using var __ = flow;
        using var goldens = SpeechOutGoldens.Goldens(config, "debug");
        var prompt = SpeechOutGoldens.Prompt(config);
        var probe = new RecordingProbe();
        var output = flow.Infer(goldens.Ints("tokens"), prompt, finalize: true, probe);
        AssertStagesMatch(goldens, probe, flow.Config.InputSize, prompt.Tokens.Length + goldens.Ints("tokens").Length);
        VisionGoldens.AssertClose("mel", goldens.Floats("mel"), output.Mel, MelTolerance);
    }

    /// <summary>The debug case's tables, encoder stages, μ and first Euler step's velocities against the goldens.</summary>
    /// <param name="unguided">Whether the probe holds the unconditioned pass too (the goldens' second row).</param>
    internal static void AssertStagesMatch(VisionGoldens.Tensors goldens, RecordingProbe probe, int dim, int tokens, bool unguided = true)
    {
        // The espnet tables, built as the authors build them (float32).
        VisionGoldens.AssertClose("encoder.pos_emb", goldens.Floats("encoder.pos_emb"), ConformerPositions.Table(tokens, dim), 1e-6);
        VisionGoldens.AssertClose("encoder.up_pos_emb", goldens.Floats("encoder.up_pos_emb"), ConformerPositions.Table(2 * tokens, dim), 1e-6);
        foreach (string name in new[] { "flow.token_embedding", "flow.spks", "encoder.embed", "encoder.pre_lookahead", "encoder.encoders",
                     "encoder.up_embed", "encoder.out", "flow.mu" })
            VisionGoldens.AssertClose(name, goldens.Floats(name), probe[name], 1e-4);
        VisionGoldens.AssertClose("encoder.up_layer", goldens.Floats("encoder.up_layer"), probe.Channels("encoder.up_layer"), 1e-4);
        // estimator.out: the first Euler step's [cond; uncond] velocities, channel-major.
        var expected = goldens.Floats("estimator.out");
        var first = unguided ? probe.Channels("estimator.cond").Concat(probe.Channels("estimator.uncond")).ToArray() : probe.Channels("estimator.cond");
        VisionGoldens.AssertClose("estimator.out", expected[..first.Length], first, 1e-4);
    }

    /// <summary>Names before <paramref name="suffix"/> in a golden file ("n3" of "n3.mel").</summary>
    private static IEnumerable<string> GoldenNames(VisionGoldens.Tensors goldens, string suffix) =>
        goldens.Names.Where(n => n.EndsWith(suffix, StringComparison.Ordinal)).Select(n => n[..^suffix.Length]).Order(StringComparer.Ordinal);
}
