using Ellsa.Tests.Gpu.Checks;

namespace Ellsa.Tests.Support;

/// <summary>One sequence's goldens written by tests/reference/make_goldens.py (see tests/goldens/tiny/README.md), read by <see cref="GoldenFiles"/>.</summary>
public sealed class Golden
{
    private Golden(string name, string sequencePath, string experts, float[][] logits, int maxText, int maxAction, int[] textIds, int[] actionIds)
    {
        Name = name;
        SequencePath = sequencePath;
        Experts = experts;
        Logits = logits;
        MaxText = maxText;
        MaxAction = maxAction;
        TextIds = textIds;
        ActionIds = actionIds;
    }

    public string Name { get; }
    public string SequencePath { get; }
    public string Experts { get; }
    /// <summary>Per position, the routed head's logits (already cut to their real width).</summary>
    public float[][] Logits { get; }
    public int MaxText { get; }
    public int MaxAction { get; }
    public int[] TextIds { get; }
    public int[] ActionIds { get; }

    public override string ToString() => Name;

    public static Golden Load(string directory, string name)
    {
        var golden = new GoldenCase(name, ModelDirectory: Path.Combine(directory, "model"), directory);
        var forward = GoldenFiles.ReadForward(golden);
        var generate = GoldenFiles.ReadGenerate(golden);
        return new Golden(name, golden.SequenceFile, forward.Experts, forward.Logits,
            generate.MaxText, generate.MaxAction, generate.TextIds, generate.ActionIds);
    }

    /// <summary>The golden names present in a directory.</summary>
    public static IEnumerable<string> Names(string directory) =>
        Directory.GetFiles(directory, "*.generate.json").Select(p => Path.GetFileName(p)[..^".generate.json".Length]).Order();
}
