using Ellsa.Runtime.Decoding;
using Ellsa.Runtime.Moe;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Moe;

/// <summary>The shared KV cache: prefill and decode agree, chunking does not matter, truncation restores state.</summary>
public sealed class SequenceStateTests : IClassFixture<SequenceStateTests.TinyModel>
{
    public sealed class TinyModel : IDisposable
    {
        public SaMoeModel Model { get; } = SaMoeModel.Load(TestPaths.Tiny, SharedBackends.Cpu);
        public void Dispose() => Model.Dispose();
    }

    private readonly SaMoeModel _model;

    public SequenceStateTests(TinyModel fixture) => _model = fixture.Model;

    private TokenBatch Sequence(string name) =>
        SequenceFile.Read(Path.Combine(TestPaths.TinyGoldens, name + ".seq.json"), _model.Config.Speech.HiddenSize);

    private List<float[]> PrefillLogits(TokenBatch batch, int chunkRows)
    {
        using var state = _model.CreateSequence(batch.Count, chunkRows);
        var sink = new GoldenTests.CollectingSink();
        state.Append(batch, sink);
        return sink.Rows;
    }

    [Fact]
    public void PrefillThenDecodeEqualsOneLongPrefill()
    {
        var batch = Sequence("long_context");
        var full = PrefillLogits(batch, chunkRows: 512);
        var experts = _model.Router.RouteAll(batch);
        int split = new Random().Next(1, batch.Count - 30);

        var prefix = new TokenBatch();
        for (int i = 0; i < split; i++)
        {
            if (batch.IsEmbedding(i))
                prefix.AddEmbedding(batch.Embedding(i).ToArray());
            else
                prefix.AddId(batch.Id(i));
        }
        using var state = _model.CreateSequence(batch.Count);
        state.Append(prefix);
        var logits = new float[Math.Max(_model.Speech.HeadSize, _model.Vision.HeadSize)];
        for (int i = split; i < batch.Count; i++)
        {
            if (batch.IsEmbedding(i))
            {
                state.Append(new TokenBatch().AddEmbedding(batch.Embedding(i).ToArray()));
            }
            else
            {
                state.Step(batch.Id(i), experts[i]);
            }
            int width = _model[experts[i]].HeadSize;
            state.LastLogits(experts[i], logits.AsSpan(0, width));
            double error = Numeric.RelativeL2(logits.AsSpan(0, width), full[i]);
            // A decode step's products read one row at a time and the prefill's eight rows at a time,
            // so their fp32 sums round in different orders: measured 1.0–1.4e-6 over the tiny model.
            Assert.True(error < 1e-5, $"position {i} (split at {split}): relative L2 {error:E2}");
        }
    }

    [Fact]
    public void ChunkedPrefillEqualsOnePass()
    {
        var batch = Sequence("acting_block");
        var whole = PrefillLogits(batch, chunkRows: 4096);
        var chunked = PrefillLogits(batch, chunkRows: new Random().Next(1, 40));
        // A one-row chunk (or a one-row run of an expert) takes the decode kernels: see PrefillThenDecodeEqualsOneLongPrefill.
        for (int p = 0; p < whole.Count; p++)
            Assert.True(Numeric.RelativeL2(chunked[p], whole[p]) < 1e-5, $"position {p}");
    }

    [Fact]
    public void TruncateAndReappendReproducesTheSameLogits()
    {
        var batch = Sequence("speech_block");
        var decoder = new BlockDecoder(_model);
        var limits = DecodeLimits.SpeechOnly;
        using var state = _model.CreateSequence(batch.Count + BlockDecoder.MaxNewPositions(limits) * 2);
        state.Append(batch);
        int length = state.Length;
        var routing = state.Routing;
        var first = decoder.Decode(state, limits);
        state.Truncate(length);
        Assert.Equal(routing, state.Routing);
        Assert.Throws<InvalidOperationException>(() => state.ArgMax(Expert.Speech));
        // Re-feeding the last prompt token recreates the hidden state the decoder starts from.
        state.Truncate(length - 1);
        state.Append(new TokenBatch().AddId(batch.Id(batch.Count - 1)));
        var second = decoder.Decode(state, limits);
        Assert.Equal(first, second, new OutputComparer());
    }

    [Fact]
    public void OverflowingTheCacheIsAClearError()
    {
        var batch = Sequence("prompt_only");
        using var state = _model.CreateSequence(batch.Count);
        state.Append(batch);
        var error = Assert.Throws<InvalidOperationException>(() => state.Step(1, Expert.Speech));
        Assert.Contains("KV cache holds", error.Message);
    }

    private sealed class OutputComparer : IEqualityComparer<BlockOutput>
    {
        public bool Equals(BlockOutput? a, BlockOutput? b) =>
            a is not null && b is not null && a.TextIds.SequenceEqual(b.TextIds) && a.ActionIds.SequenceEqual(b.ActionIds);

        public int GetHashCode(BlockOutput obj) => obj.TextIds.Length;
    }
}
