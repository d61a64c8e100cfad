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
        var (directory, modelDirectory) = Locate(model);
        var golden = Golden.Load(directory, name);
        using var loaded = SaMoeModel.Load(modelDirectory, SharedBackends.Cpu);
        var batch = SequenceFile.Read(golden.SequencePath, loaded.Config.Speech.HiddenSize);
        using var state = loaded.CreateSequence(batch.Count);
        var sink = new CollectingSink();
        state.Append(batch, sink);

        Assert.Equal(golden.Experts, string.Concat(sink.Experts.Select(e => e.Letter())));
        Assert.Equal(golden.Logits.Length, sink.Rows.Count);
        for (int p = 0; p < golden.Logits.Length; p++)
        {
            Assert.Equal(p, sink.Positions[p]);
            Assert.Equal(golden.Logits[p].Length, sink.Rows[p].Length);
            double error = Numeric.RelativeL2(sink.Rows[p], golden.Logits[p]);
            Assert.True(error <= Tolerance, $"{model}/{name} position {p}: relative L2 {error:E2} > {Tolerance:E0}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void GenerateIdsMatchTheReference(string model, string name)
    {
        var (directory, modelDirectory) = Locate(model);
        var golden = Golden.Load(directory, name);
        using var loaded = SaMoeModel.Load(modelDirectory, SharedBackends.Cpu);
        var batch = SequenceFile.Read(golden.SequencePath, loaded.Config.Speech.HiddenSize);
        var limits = new DecodeLimits(golden.MaxText, golden.MaxAction);
        using var state = loaded.CreateSequence(batch.Count + BlockDecoder.MaxNewPositions(limits));
        var output = new BlockDecoder(loaded).Generate(state, batch, limits);
        Assert.Equal(golden.TextIds, output.TextIds);
        Assert.Equal(golden.ActionIds, output.ActionIds);
    }

    private static (string Goldens, string Model) Locate(string model) => model == "tiny"
        ? (TestPaths.TinyGoldens, TestPaths.Tiny)
        : (Path.Combine(TestPaths.Variants, model), Path.Combine(TestPaths.Variants, model, "model"));

    internal sealed class CollectingSink : ILogitsSink
    {
        public List<int> Positions { get; } = [];
        public List<Expert> Experts { get; } = [];
        public List<float[]> Rows { get; } = [];

        public void Accept(int position, Expert expert, ReadOnlySpan<float> logits)
        {
            Positions.Add(position);
            Experts.Add(expert);
            Rows.Add(logits.ToArray());
        }
    }
}
