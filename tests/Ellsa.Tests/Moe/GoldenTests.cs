using Ellsa.Runtime.Decoding;
using Ellsa.Runtime.Moe;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Moe;

/// <summary>
/// The engine against the float64 PyTorch reference (tests/reference/ellsa_ref.py) on the tiny
/// model and on checkpoints of other shapes: per-position logits and the block decode's ids.
/// </summary>
public sealed class GoldenTests
{
    /// <summary>The bound for the committed goldens; fp32 arithmetic lands far below it.</summary>
    private const double Tolerance = 1e-4;

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string name in Golden.Names(TestPaths.TinyGoldens))
            data.Add("tiny", name);
        foreach (string variant in Directory.GetDirectories(TestPaths.Variants).Select(d => Path.GetFileName(d)!).Order())
        {
            foreach (string name in Golden.Names(Path.Combine(TestPaths.Variants, variant)))
                data.Add(variant, name);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardLogitsMatchTheReference(string model, string name)
    {
        var golden = Golden.Load(model, name);
        using var loaded = SaMoeModel.Load(golden.Case.ModelDirectory, SharedBackends.Cpu);
        var batch = SequenceFile.Read(golden.Case.SequenceFile, loaded.Config.Speech.HiddenSize);
        using var state = loaded.CreateSequence(batch.Count);
        var sink = new CollectingSink();
        state.Append(batch, sink);

        Assert.Equal(golden.Forward.Experts, string.Concat(sink.Experts.Select(e => e.Letter())));
        Assert.Equal(golden.Forward.Logits.Length, sink.Rows.Count);
        for (int p = 0; p < golden.Forward.Logits.Length; p++)
        {
            Assert.Equal(p, sink.Positions[p]);
            Assert.Equal(golden.Forward.Logits[p].Length, sink.Rows[p].Length);
            double error = Numeric.RelativeL2(sink.Rows[p], golden.Forward.Logits[p]);
            Assert.True(error <= Tolerance, $"{model}/{name} position {p}: relative L2 {error:E2} > {Tolerance:E0}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void GenerateIdsMatchTheReference(string model, string name)
    {
        var golden = Golden.Load(model, name);
        using var loaded = SaMoeModel.Load(golden.Case.ModelDirectory, SharedBackends.Cpu);
        var batch = SequenceFile.Read(golden.Case.SequenceFile, loaded.Config.Speech.HiddenSize);
        var limits = new DecodeLimits(golden.Generate.MaxText, golden.Generate.MaxAction);
        using var state = loaded.CreateSequence(batch.Count + BlockDecoder.MaxNewPositions(limits));
        var output = new BlockDecoder(loaded).Generate(state, batch, limits);
        Assert.Equal(golden.Generate.TextIds, output.TextIds);
        Assert.Equal(golden.Generate.ActionIds, output.ActionIds);
    }

    /// <summary>The logits rows a fresh sequence of <paramref name="model"/> emits for <paramref name="batch"/>.</summary>
    internal static List<float[]> Logits(SaMoeModel model, TokenBatch batch)
    {
        var sink = new CollectingSink();
        using var state = model.CreateSequence(batch.Count);
        state.Append(batch, sink);
        return sink.Rows;
    }

    internal sealed class CollectingSink : ILogitsSink
    {
        public List<int> Positions { get; } = [];
        public List<Expert> Experts { get; } = [];
        public List<float[]> Rows { get; } = [];

        public void Accept(int position, int expert, ReadOnlySpan<float> logits)
        {
            Positions.Add(position);
            Experts.Add((Expert)expert);
            Rows.Add(logits.ToArray());
        }
    }
}
