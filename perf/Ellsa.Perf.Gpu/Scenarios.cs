using Ellsa.Kernels.Backend;
using Ellsa.Runtime.Decoding;
using Ellsa.Runtime.Moe;

namespace Ellsa.Perf.Gpu;

/// <summary>
/// The benchmark scenarios, driven through the model's own path (SequenceState prefill and steps,
/// BlockDecoder) so that every launch, upload and host wait of real use is in the figures.
/// </summary>
public sealed class Scenarios(SaMoeModel model, BenchShape shape, int repeats, Action<string> log)
{
    /// <summary>Positions per prefill pass: one pass for the whole block, so the GEMM sees every row at once.</summary>
    private const int ChunkRows = 4096;

    private int SpeechId(int i) => 1 + i % Math.Min(shape.Tokens.Bos - 1, shape.SpeechVocab - 2);

    private TokenBatch SpeechIds(int count)
    {
        var batch = new TokenBatch();
        for (int i = 0; i < count; i++)
            batch.AddId(SpeechId(i));
        return batch;
    }

    /// <summary>ms per decode step (Step + argmax over the expert's head) at a fixed context.</summary>
    public double DecodeStep(Expert expert, int context)
    {
        using var state = model.CreateSequence(context + 2, ChunkRows);
        state.Append(SpeechIds(context));
        int id = expert == Expert.Speech ? SpeechId(7) : shape.Tokens.ActionFirst + 3;
        double ms = Stats.MedianMs(3, Math.Max(repeats, 10), () => state.Truncate(context), () =>
        {
            state.Step(id, expert);
            _ = state.ArgMax(expert);
        });
        log($"decode {expert.Describe()} step at context {context}: {ms:F3} ms");
        return ms;
    }

    /// <summary>Time to first token: a prefill of <paramref name="tokens"/> speech positions then the head's argmax.</summary>
    public double Prefill(int tokens)
    {
        using var state = model.CreateSequence(tokens, ChunkRows);
        var batch = SpeechIds(tokens);
        double ms = Stats.MedianMs(1, Math.Max(3, repeats / 2), () => state.Truncate(0), () =>
        {
            state.Append(batch);
            _ = state.ArgMax(Expert.Speech);
        });
        log($"{model.Backend.Description}: prefill {tokens}: {ms:F2} ms");
        return ms;
    }

    /// <summary>A speech-only block after <see cref="BenchShape.History"/> cached positions: new tokens, 9 text steps, 8 action steps.</summary>
    public (double Ms, BlockOutput Output) SpeechBlock() => Block(SpeechBlockBatch(), DecodeLimits.SpeechOnly with { MaxAction = 9 });

    /// <summary>An acting block: ~2600 new positions (text, two camera frames of visual codes), 10 text steps, 25 action steps.</summary>
    public (double Ms, BlockOutput Output) ActingBlock() => Block(ActingBlockBatch(), new DecodeLimits(10, 26));

    public TokenBatch SpeechBlockBatch()
    {
        var batch = new TokenBatch().AddId(shape.Tokens.Bos);
        for (int i = 0; i < shape.SpeechBlockTokens - 2; i++)
            batch.AddId(SpeechId(i + 11));
        return batch.AddId(shape.Tokens.Bot);
    }

    public TokenBatch ActingBlockBatch()
    {
        var t = shape.Tokens;
        var batch = new TokenBatch().AddId(t.Bos);
        int text = Math.Min(20, shape.ActingBlockTokens / 8);
        for (int i = 0; i < text; i++)
            batch.AddId(SpeechId(i + 31));
        int frame = (shape.ActingBlockTokens - text - 2) / 2 - 2;
        for (int f = 0; f < 2; f++)
        {
            batch.AddId(t.Boi);
            for (int i = 0; i < frame; i++)
                batch.AddId(t.VisualBase + (i * 7 + f) % t.VisualCount);
            batch.AddId(t.Eoi);
        }
        return batch.AddId(t.Bot);
    }

    private (double Ms, BlockOutput Output) Block(TokenBatch batch, DecodeLimits limits)
    {
        int history = shape.History;
        using var state = model.CreateSequence(history + batch.Count + BlockDecoder.MaxNewPositions(limits) + 2, ChunkRows);
        state.Append(SpeechIds(history));
        var decoder = new BlockDecoder(model);
        BlockOutput? output = null;
        double ms = Stats.MedianMs(1, Math.Max(3, repeats / 2), () => state.Truncate(history), () => output = decoder.Generate(state, batch, limits));
        log($"{model.Backend.Description}: block of {batch.Count} new positions, {output!.TextIds.Length} text ids, {output.ActionIds.Length} action ids: {ms:F2} ms");
        return (ms, output);
    }

    /// <summary>Positions of each expert in a batch, by the marker rule (for the floors).</summary>
    public (int Speech, int Vision) Routed(TokenBatch batch)
    {
        var experts = model.Router.RouteAll(batch);
        int vision = experts.Count(e => e == Expert.Vision);
        return (experts.Length - vision, vision);
    }
}
