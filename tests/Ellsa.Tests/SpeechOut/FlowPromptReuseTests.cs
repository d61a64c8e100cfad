using System.Runtime.InteropServices;
using Ellsa.Runtime.Checkpoints;
using Ellsa.Runtime.Codecs.SpeechOut;
using Ellsa.Tests.Support;
using Ellsa.Tests.Vision;
using Xunit;

namespace Ellsa.Tests.SpeechOut;

/// <summary>
/// The estimator's stored work on the prompt's complete chunks (<see cref="EstimatorPrefix"/>)
/// against every frame computed in every pass (<see cref="Flow.ReusePromptRows"/> off, the
/// authors' way): the same mel within 1e-6 relative L2 on the goldens' offline cases and streamed
/// windows of both configs and on fresh random tokens, on the call that records the rows and on
/// the calls that replay them, and for a fresh random prompt that replaces the stored rows.
/// </summary>
public sealed class FlowPromptReuseTests
{
    private const double Tolerance = 1e-6;

    public static TheoryData<string> Configs => new(SpeechOutGoldens.Configs);

    [Fact]
    public void ThePromptRowsAreTheCompleteChunksWhoseInputsThePromptFixes()
    {
        // small: 84 tokens in chunks of 50 (50 + 3 lookahead ≤ 84) → 100 frames, one chunk of 100 within 167.
        Assert.Equal(100, EstimatorPrefix.PromptRows(SpeechOutGoldens.FlowConfig("small"), SpeechOutGoldens.Prompt("small")));
        // wide: 47 tokens in chunks of 40 (40 + 3 ≤ 47) → 80 frames, one chunk of 80 within 92.
        Assert.Equal(80, EstimatorPrefix.PromptRows(SpeechOutGoldens.FlowConfig("wide"), SpeechOutGoldens.Prompt("wide")));
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void ReusedPromptRowsGiveTheMelOfFullPasses(string config)
    {
        var (flow, tensors) = SpeechOutGoldens.LoadFlow(config, SharedBackends.Cpu);
        using var _ = tensors;
        using var __ = flow;
        var prompt = SpeechOutGoldens.Prompt(config);
        var windows = Windows(config, flow.Config.VocabSize);
        flow.ReusePromptRows = false;
        var expected = windows.Select(w => flow.Infer(w.Tokens, prompt, w.Final).Mel).ToList();
        Assert.Equal(0, flow.PromptRowsBytes);

        flow.ReusePromptRows = true;
        for (int call = 0; call < 2; call++)
        {
            for (int i = 0; i < windows.Count; i++)
                VisionGoldens.AssertClose($"{config} call {call} window {i} ({windows[i].Tokens.Length} tokens)", expected[i],
                    flow.Infer(windows[i].Tokens, prompt, windows[i].Final).Mel, Tolerance);
            Assert.True(flow.PromptRowsBytes > 0);
        }
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void AnotherPromptReplacesTheStoredRows(string config)
    {
        var (flow, tensors) = SpeechOutGoldens.LoadFlow(config, SharedBackends.Cpu);
        using var _ = tensors;
        using var __ = flow;
        var golden = SpeechOutGoldens.Prompt(config);
        using var directory = TestPaths.CreateTemp();
        var fresh = RandomPrompt(directory.File("fresh.safetensors"), golden, flow.Config.VocabSize, new Random(config.Length * 7919 + Environment.TickCount));
        var tokens = RandomTokens(new Random(), 37, flow.Config.VocabSize);

        flow.ReusePromptRows = false;
        var expectedFresh = flow.Infer(tokens, fresh).Mel;
        var expectedGolden = flow.Infer(tokens, golden).Mel;
        flow.ReusePromptRows = true;
        foreach (var (prompt, expected, what) in new[] { (fresh, expectedFresh, "fresh"), (golden, expectedGolden, "golden"), (fresh, expectedFresh, "fresh again") })
            VisionGoldens.AssertClose($"{config} {what} prompt", expected, flow.Infer(tokens, prompt).Mel, Tolerance);
    }

    /// <summary>The shortest and longest offline cases, the first windows of a streamed case and fresh random tokens (a not-last window and a last one).</summary>
    private static List<(int[] Tokens, bool Final)> Windows(string config, int vocabulary)
    {
        var result = new List<(int[] Tokens, bool Final)>();
        using (var offline = SpeechOutGoldens.Goldens(config, "offline"))
        {
            var cases = offline.Names.Where(n => n.EndsWith(".tokens", StringComparison.Ordinal)).Select(offline.Ints).OrderBy(t => t.Length).ToList();
            result.Add((cases[0], true));
            result.Add((cases[^1], true));
        }
        using (var stream = SpeechOutGoldens.Goldens(config, "stream"))
        {
            string name = stream.Names.First(n => n.EndsWith(".windows", StringComparison.Ordinal))[..^".windows".Length];
            var tokens = stream.Ints(name + ".tokens");
            var bounds = stream.Ints(name + ".windows");
            for (int w = 0; w < Math.Min(3, bounds.Length / 3); w++)
                result.Add((tokens[bounds[3 * w]..bounds[3 * w + 1]], bounds[3 * w + 2] != 0));
        }
        var random = new Random();
        result.Add((RandomTokens(random, 29, vocabulary), false));
        result.Add((RandomTokens(random, 61, vocabulary), true));
        return result;
    }

    private static int[] RandomTokens(Random random, int count, int vocabulary) =>
        Enumerable.Range(0, count).Select(_ => random.Next(vocabulary)).ToArray();

    /// <summary>A prompt file of the golden prompt's shapes with fresh random tokens, mel, x-vector and noise.</summary>
    private static SpeechPrompt RandomPrompt(string path, SpeechPrompt like, int vocabulary, Random random)
    {
        float[] Draw(int count) => Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        TensorData Floats(string name, long[] shape, float[] values) =>
            new(name, SafetensorsDtype.F32, shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
        var tokens = RandomTokens(random, like.Tokens.Length, vocabulary);
        SafetensorsWriter.Write(path,
        [
            new TensorData(SpeechPrompt.TokenName, SafetensorsDtype.I32, [1, tokens.Length], MemoryMarshal.AsBytes(tokens.AsSpan()).ToArray()),
            Floats(SpeechPrompt.FeatName, [1, like.FeatFrames, FlowConfig.MelChannels], Draw(like.Feat.Length)),
            Floats(SpeechPrompt.EmbeddingName, [1, like.Embedding.Length], Draw(like.Embedding.Length)),
            Floats(SpeechPrompt.NoiseName, [1, FlowConfig.MelChannels, like.NoiseFrames], Draw(like.Noise.Length)),
        ]);
        return SpeechPrompt.Load(path);
    }
}
