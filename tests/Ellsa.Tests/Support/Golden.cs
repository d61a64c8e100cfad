using System.Runtime.InteropServices;
using System.Text.Json;
using Ellsa.Runtime.Checkpoints;

namespace Ellsa.Tests.Support;

/// <summary>One sequence's goldens written by tests/reference/make_goldens.py (see tests/goldens/tiny/README.md).</summary>
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
        using var file = SafetensorsFile.Open(Path.Combine(directory, name + ".forward.safetensors"));
        var logitsEntry = file.Entries["logits"];
        var widthsEntry = file.Entries["widths"];
        int rows = (int)logitsEntry.Shape[0];
        int width = (int)logitsEntry.Shape[1];
        var all = MemoryMarshal.Cast<byte, float>(file.Bytes(logitsEntry));
        var widths = MemoryMarshal.Cast<byte, int>(file.Bytes(widthsEntry));
        var logits = new float[rows][];
        for (int r = 0; r < rows; r++)
            logits[r] = all.Slice(r * width, widths[r]).ToArray();

        using var generate = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, name + ".generate.json")));
        var root = generate.RootElement;
        return new Golden(name, Path.Combine(directory, name + ".seq.json"), file.Metadata["experts"], logits,
            root.GetProperty("max_text").GetInt32(), root.GetProperty("max_action").GetInt32(),
            root.GetProperty("text_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            root.GetProperty("action_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray());
    }

    /// <summary>The golden names present in a directory.</summary>
    public static IEnumerable<string> Names(string directory) =>
        Directory.GetFiles(directory, "*.generate.json").Select(p => Path.GetFileName(p)[..^".generate.json".Length]).Order();
}

public static class Numeric
{
    /// <summary>‖a − b‖₂ / ‖b‖₂ in double precision.</summary>
    public static double RelativeL2(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        if (actual.Length != expected.Length)
            throw new ArgumentException($"lengths differ: {actual.Length} vs {expected.Length}");
        double diff = 0, norm = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = (double)actual[i] - expected[i];
            diff += d * d;
            norm += (double)expected[i] * expected[i];
        }
        return Math.Sqrt(diff / Math.Max(norm, 1e-300));
    }

    public static double RelativeL2(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        double diff = 0, norm = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = actual[i] - expected[i];
            diff += d * d;
            norm += expected[i] * expected[i];
        }
        return Math.Sqrt(diff / Math.Max(norm, 1e-300));
    }
}
