using Ellsa.Runtime.Codecs.SpeechOut;
using Ellsa.Tests.Support;
using Ellsa.Tests.Vision;

namespace Ellsa.Tests.SpeechOut;

/// <summary>
/// The speech LM against the authors' Qwen2LM and driver (float64, greedy; tests/goldens/speech_out
/// lm.safetensors): for every case of both configs, the generator_proj features, the first logits,
/// every token and each call's token count and final flag, fed whole and fed row by row.
/// </summary>
public sealed class SpeechLmGoldenTests
{
    public static IEnumerable<object[]> Cases() => SpeechLmGoldens.AllCases();

    [Theory]
    [MemberData(nameof(Cases))]
    public void GreedyDecodingMatchesTheAuthors(string config, string name)
    {
        using var golden = SpeechLmGoldens.Lm(config);
        using var loaded = new SpeechLmGoldens.Loaded(config, SharedBackends.Cpu);
        var hidden = golden.Floats(name + ".hidden");
        int rows = (int)golden.Shape(name + ".hidden")[1];
        using var stream = loaded.Stream();
        var produced = stream.Feed(hidden, rows).Concat(stream.Finish()).ToArray();

        Assert.Equal(SpeechLmState.Finished, stream.State);
        VisionGoldens.AssertClose($"{config} {name} features", golden.Floats(name + ".features"), Flatten(stream.Features), 1e-5);
        VisionGoldens.AssertClose($"{config} {name} first logits", golden.Floats(name + ".first_logits"), stream.FirstLogits.ToArray(), 1e-4);
        Assert.Equal(golden.Ints(name + ".tokens"), stream.Tokens);
        Assert.Equal(golden.Ints(name + ".tokens"), produced);
        Assert.Equal(golden.Ints(name + ".call_tokens"), stream.Calls.Select(c => c.Tokens));
        Assert.Equal(golden.Ints(name + ".call_final"), stream.Calls.Select(c => c.Final ? 1 : 0));
    }

    /// <summary>Row by row, each call runs as soon as its text_chunk rows are in, giving the golden's tokens for that call.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void RowByRowEachCallRunsWhenItsRowsArrive(string config, string name)
    {
        using var golden = SpeechLmGoldens.Lm(config);
        using var loaded = new SpeechLmGoldens.Loaded(config, SharedBackends.Cpu);
        var hidden = golden.Floats(name + ".hidden");
        int width = loaded.Projection.Config.InputSize;
        int rows = hidden.Length / width;
        int chunk = loaded.Lm.Config.TextChunk;
        var callTokens = golden.Ints(name + ".call_tokens");
        using var stream = loaded.Stream();
        for (int r = 0; r < rows; r++)
        {
            var tokens = stream.Feed(hidden.AsSpan(r * width, width), 1);
            // With r + 1 rows in, the calls whose text end (k+1)·text_chunk they reach have run (the
            // final phase's calls need Finish: their text end lies past the last row).
            int before = Math.Min(r / chunk, callTokens.Length);
            int after = Math.Min((r + 1) / chunk, callTokens.Length);
            Assert.Equal(after, stream.Calls.Count);
            Assert.Equal(callTokens[before..after].Sum(), tokens.Length);
        }
        stream.Finish();
        Assert.Equal(golden.Ints(name + ".tokens"), stream.Tokens);
        Assert.Equal(callTokens, stream.Calls.Select(c => c.Tokens));
    }

    private static float[] Flatten(IReadOnlyList<float[]> rows) => rows.SelectMany(r => r).ToArray();
}
