using Ellsa.Runtime.Codecs.SpeechOut;
using Ellsa.Runtime.Networks;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.SpeechOut;

/// <summary>
/// The speech LM on fresh random models against <see cref="NaiveSpeechLm"/>: the one-expert transformer's
/// logits (prefill, decode steps, rollback) against a plain double-precision forward, and the stream's
/// RAS decoding against a transcription of the authors' driver that re-prefills every call, with the same
/// generator seed, through the paths the greedy goldens never take: EOS redraws before min_len, fill ids
/// rolled back, a final call ending on a fill (the next context restarts from its last token), and
/// sampling_ids giving up (the segment is abandoned). Plus the driver's arithmetic.
/// </summary>
public sealed class SpeechLmStreamTests
{
    [Fact]
    public void OneExpertTransformerMatchesTheNaiveForward()
    {
        int seed = Random.Shared.Next();
        var random = new Random(seed);
        using var temp = TestPaths.CreateTemp();
        var m = RandomSpeechLm.Create(temp.Path, random, (4, 5, 1.25));
        using var loaded = Load(m);
        using var sequence = loaded.Lm.CreateSequence();
        var context = new List<double[]>();
        var logits = new float[m.Config.DecoderRows];

        void Check(string what)
        {
            sequence.LastLogits(0, logits);
            var expected = NaiveSpeechLm.Logits(m, context);
            double error = Numeric.RelativeL2<double>(logits, expected);
            Assert.True(error <= 1e-5, $"seed {seed}, {what} at {context.Count} positions: relative L2 {error:E2}");
        }

        // Prefill: sos and feature-like rows, then decode steps by speech id, then roll back and take another path.
        var batch = new Ellsa.Runtime.Moe.TokenBatch().AddEmbedding(m.Sos.Select(v => (float)v).ToArray());
        context.Add(m.Sos);
        for (int i = 0; i < 5; i++)
        {
            var row = Enumerable.Range(0, m.Config.LlmInputSize).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            batch.AddEmbedding(row);
            context.Add(row.Select(v => (double)v).ToArray());
        }
        sequence.Append(batch);
        Check("prefill");
        for (int i = 0; i < 6; i++)
        {
            int id = random.Next(m.Config.DecoderRows);
            sequence.Step(id, 0);
            context.Add(m.Body.Embedding[id]);
            Check($"step {i}");
        }
        sequence.Truncate(8);
        context.RemoveRange(8, context.Count - 8);
        sequence.Append(new Ellsa.Runtime.Moe.TokenBatch().AddId(3).AddEmbedding(m.TaskId.Select(v => (float)v).ToArray()));
        context.Add(m.Body.Embedding[3]);
        context.Add(m.TaskId);
        Check("after a rollback");
    }

    [Fact]
    public void RasDecodingMatchesTheAuthorsDriverThroughEosRedrawsAndFills()
    {
        int seed = Random.Shared.Next();
        var random = new Random(seed);
        using var temp = TestPaths.CreateTemp();
        // Interleaved calls of 3 features (4 tokens), a partial call, then a final phase where EOS and the
        // fill ids are likely: EOS is redrawn for 14 steps, fills are rolled back. Segments run until both
        // happened (at least 3).
        int redraws = 0, fills = 0;
        for (int run = 0; run < 10 && (run < 3 || redraws == 0 || fills == 0); run++)
        {
            var m = RandomSpeechLm.Create(Path.Combine(temp.Path, $"run{run}"), random, (3, 4, 1.25), eosBias: 1 + 3 * random.NextDouble(), fillBias: 3 * random.NextDouble());
            using var loaded = Load(m);
            var hidden = Hidden(m, random, rows: 7);
            var (engine, naive) = Both(loaded, m, hidden, random.Next());
            Assert.Equal(naive.Abandoned, engine.State == SpeechLmState.Abandoned);
            Assert.Equal(naive.Tokens, engine.Tokens);
            Assert.Equal(naive.Calls, engine.Calls);
            FirstLogitsClose(engine.FirstLogits.ToArray(), NaiveSpeechLm.Logits(m, [m.Sos, .. hidden.Take(3).Select(h => NaiveSpeechLm.Project(m, h))]), seed);
            (redraws, fills) = (redraws + naive.EosRedraws, fills + naive.Fills);
        }
        Assert.True(redraws > 0 && fills > 0, $"seed {seed}: {redraws} EOS redraws and {fills} fills: the paths were not taken");
    }

    [Fact]
    public void AFinalCallEndingOnAFillRestartsTheContextFromItsLastToken()
    {
        int seed = Random.Shared.Next();
        var random = new Random(seed);
        using var temp = TestPaths.CreateTemp();
        // EOS never drawn; fills from rare to nearly certain across the models (their bias against the
        // speech logits): a final call ends on a fill about as often as fills are drawn, and then the next
        // call (text_chunk 25: up to 4 calls) starts over from [last token, task_id].
        bool restarted = false;
        for (int run = 0; run < 30 && !restarted; run++)
        {
            var m = RandomSpeechLm.Create(Path.Combine(temp.Path, $"run{run}"), random, (25, 3, 2), eosBias: -40, fillBias: 6 * random.NextDouble());
            using var loaded = Load(m);
            var hidden = Hidden(m, random, rows: 2);
            var (engine, naive) = Both(loaded, m, hidden, random.Next());
            Assert.Equal(naive.Tokens, engine.Tokens);
            Assert.Equal(naive.Calls, engine.Calls);
            restarted = engine.Calls.Skip(1).SkipLast(1).Any(c => !c.Final && c.Tokens > 0);
        }
        Assert.True(restarted, $"seed {seed}: no final call ended on a fill in 30 segments");
    }

    [Fact]
    public void ASegmentIsAbandonedWhenSamplingIdsGivesUp()
    {
        int seed = Random.Shared.Next();
        var random = new Random(seed);
        using var temp = TestPaths.CreateTemp();
        var m = RandomSpeechLm.Create(temp.Path, random, (4, 6, 1.5), eosBias: 60);
        using var loaded = Load(m);
        var hidden = Hidden(m, random, rows: 3);
        var (engine, naive) = Both(loaded, m, hidden, random.Next());
        Assert.True(naive.Abandoned);
        Assert.Equal(SpeechLmState.Abandoned, engine.State);
        Assert.Equal(naive.Tokens, engine.Tokens);
        Assert.Equal(6, engine.Tokens.Count);
        Assert.Single(engine.Calls);
    }

    [Fact]
    public void TheDriversArithmeticIsTheAuthors()
    {
        var release = new LlmConfig();
        // The 3.75 ratio quirk: k = 1…8 new features give int(min(25, 3.75·k)) tokens.
        Assert.Equal([3, 7, 11, 15, 18, 22, 25, 25], Enumerable.Range(1, 8).Select(k => SpeechLmDriver.InterleavedTokens(release, k)));
        Assert.Equal((12, 16, 1, 100), (SpeechLmDriver.MaxCalls(8), SpeechLmDriver.MaxCalls(6), SpeechLmDriver.MaxCalls(100), SpeechLmDriver.MaxCalls(1)));
        // One row: max_len 15, but the first call's lm_input (sos, 1 feature, 25 tokens) counts int(27·(1 − 1/4.75)) = 21.
        Assert.Equal(15 - 21, SpeechLmDriver.FinalBudget(release, 1, 27));
        // 13 rows (small's n13): after 25 + 18 tokens the lm_input holds 57 rows, and 57·(1 − 1/4.75) is 45 in
        // double arithmetic (not 44.99…), so the final call has 195 − 45 = 150 steps, as the golden decodes.
        Assert.Equal((26, 150), (SpeechLmDriver.MinLength(13), SpeechLmDriver.FinalBudget(release, 13, 57)));
    }

    private static void FirstLogitsClose(float[] actual, double[] expected, int seed)
    {
        double error = Numeric.RelativeL2<double>(actual, expected);
        Assert.True(error <= 1e-5, $"seed {seed}: first logits relative L2 {error:E2}");
    }

    private static List<float[]> Hidden(RandomSpeechLm m, Random random, int rows) =>
        Enumerable.Range(0, rows).Select(_ => Enumerable.Range(0, m.Projection.InputSize).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray()).ToList();

    /// <summary>The engine's stream fed row by row, and the naive driver, drawing with generators of one seed.</summary>
    private static (SpeechLmStream Engine, NaiveSpeechLm.Result Naive) Both(Loaded loaded, RandomSpeechLm m, List<float[]> hidden, int seed)
    {
        var stream = loaded.Lm.CreateStream(loaded.Projection, new SpeechLmOptions { Seed = seed });
        foreach (var row in hidden)
            stream.Feed(row, 1);
        stream.Finish();
        loaded.Streams.Add(stream);
        return (stream, NaiveSpeechLm.Drive(m, hidden, new RasSampler(m.Config.Sampling, new Random(seed))));
    }

    private static Loaded Load(RandomSpeechLm m) => new(m);

    private sealed class Loaded : IDisposable
    {
        private readonly TensorSet _tensors;

        public Loaded(RandomSpeechLm m)
        {
            _tensors = TensorSet.OpenFile(m.WeightsPath, "speech_decoder.safetensors");
            Projection = GeneratorProjection.Load(_tensors, m.Projection, SharedBackends.Cpu, new WeightBindings());
            Lm = SpeechLm.Load(_tensors, m.Config, SharedBackends.Cpu, new WeightBindings());
        }

        public GeneratorProjection Projection { get; }
        public SpeechLm Lm { get; }
        public List<SpeechLmStream> Streams { get; } = [];

        public void Dispose()
        {
            foreach (var stream in Streams)
                stream.Dispose();
            Lm.Dispose();
            Projection.Dispose();
            _tensors.Dispose();
        }
    }
}
