using Ellsa.Kernels.Backend;
using Ellsa.Runtime.Decoding;
using Ellsa.Runtime.Moe;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Gpu.Checks;

/// <summary>
/// The committed float64-reference goldens through the model on a given backend: every
/// position's logits within 1e-3 relative L2 of the reference row, and the block decode's ids
/// identical (every golden step has a top-2 margin of at least 5e-3, see the goldens README).
/// </summary>
public static class GoldenChecks
{
    public const double Tolerance = 1e-3;

    /// <summary>The goldens the GPU backend is held to (speech-only, ending in vision, and variants with fp32 and mixed dtypes).</summary>
    public static IReadOnlyList<GoldenCase> Cases { get; } =
    [
        GoldenFiles.Tiny("speech_block"),
        GoldenFiles.Tiny("ends_in_vision"),
        GoldenFiles.Variant("merged_f32", "speech_block"),
        GoldenFiles.Variant("d96_mixed", "ends_in_vision"),
    ];

    public static GoldenCase Get(string name) => Cases.Single(c => c.ToString() == name);

    /// <summary>Returns the largest per-row relative L2 error (for reports); throws when a row exceeds <paramref name="tolerance"/>.</summary>
    public static double Forward(IComputeBackend backend, GoldenCase golden, double tolerance = Tolerance)
    {
        var expected = GoldenFiles.ReadForward(golden);
        using var model = SaMoeModel.Load(golden.ModelDirectory, backend);
        var batch = SequenceFile.Read(golden.SequenceFile, model.Config.Speech.HiddenSize);
        var sink = new CollectingSink(batch.Count);
        using (var state = model.CreateSequence(batch.Count))
            state.Append(batch, sink);
        string experts = new(sink.Experts);
        if (experts != expected.Experts)
            throw new CheckFailedException($"{golden}: routed {experts}, golden {expected.Experts}");
        double worst = 0;
        for (int p = 0; p < batch.Count; p++)
        {
            var row = sink.Rows[p] ?? throw new CheckFailedException($"{golden}: position {p} produced no logits");
            if (row.Length != expected.Logits[p].Length)
                throw new CheckFailedException($"{golden}: position {p} has {row.Length} logits, golden {expected.Logits[p].Length}");
            double error = Numeric.RelativeL2<float>(row, expected.Logits[p]);
            if (!(error <= tolerance))
                throw new CheckFailedException($"{golden}: position {p} ({experts[p]}) logits differ by {error:E2} relative L2 (limit {tolerance:E0})");
            worst = Math.Max(worst, error);
        }
        return worst;
    }

    public static void Generate(IComputeBackend backend, GoldenCase golden)
    {
        var expected = GoldenFiles.ReadGenerate(golden);
        using var model = SaMoeModel.Load(golden.ModelDirectory, backend);
        var batch = SequenceFile.Read(golden.SequenceFile, model.Config.Speech.HiddenSize);
        var limits = new DecodeLimits(expected.MaxText, expected.MaxAction);
        using var state = model.CreateSequence(batch.Count + BlockDecoder.MaxNewPositions(limits));
        var output = new BlockDecoder(model).Generate(state, batch, limits);
        if (!output.TextIds.SequenceEqual(expected.TextIds) || !output.ActionIds.SequenceEqual(expected.ActionIds))
            throw new CheckFailedException($"{golden}: generated text [{string.Join(",", output.TextIds)}] actions [{string.Join(",", output.ActionIds)}], " +
                                           $"golden text [{string.Join(",", expected.TextIds)}] actions [{string.Join(",", expected.ActionIds)}]");
    }

    private sealed class CollectingSink(int count) : ILogitsSink
    {
        public float[]?[] Rows { get; } = new float[count][];
        public char[] Experts { get; } = new char[count];

        public void Accept(int position, int expert, ReadOnlySpan<float> logits)
        {
            Rows[position] = logits.ToArray();
            Experts[position] = ((Expert)expert).Letter();
        }
    }
}
