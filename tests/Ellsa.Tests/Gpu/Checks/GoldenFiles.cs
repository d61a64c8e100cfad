using System.Runtime.InteropServices;
using System.Text.Json;
using Ellsa.Runtime.Checkpoints;

namespace Ellsa.Tests.Gpu.Checks;

/// <summary>One golden sequence of tests/goldens (see its README): the model it belongs to and its files.</summary>
public sealed record GoldenCase(string Name, string ModelDirectory, string GoldenDirectory)
{
    public string SequenceFile => Path.Combine(GoldenDirectory, Name + ".seq.json");
    public string ForwardFile => Path.Combine(GoldenDirectory, Name + ".forward.safetensors");
    public string GenerateFile => Path.Combine(GoldenDirectory, Name + ".generate.json");
    public override string ToString() => $"{Path.GetFileName(GoldenDirectory)}/{Name}";
}

/// <summary>A golden forward: per position the routed expert's logits (width varies by expert).</summary>
public sealed record GoldenForward(string Experts, float[][] Logits);

/// <summary>A golden block decode.</summary>
public sealed record GoldenGenerate(int MaxText, int MaxAction, int[] TextIds, int[] ActionIds);

/// <summary>Finds and reads the committed goldens (the repository's, or the copy inside the GPU package).</summary>
public static class GoldenFiles
{
    /// <summary>The directory holding <c>tests/goldens</c> and <c>weights</c>, searched upwards from the running program.</summary>
    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (Directory.Exists(Path.Combine(dir.FullName, "tests", "goldens")) && Directory.Exists(Path.Combine(dir.FullName, "weights")))
                    return dir.FullName;
            }
            throw new DirectoryNotFoundException($"no tests/goldens above {AppContext.BaseDirectory}");
        }
    }

    public static GoldenCase Tiny(string name) =>
        new(name, Path.Combine(Root, "weights", "tiny"), Path.Combine(Root, "tests", "goldens", "tiny"));

    public static GoldenCase Variant(string variant, string name)
    {
        string directory = Path.Combine(Root, "tests", "goldens", "variants", variant);
        return new(name, Path.Combine(directory, "model"), directory);
    }

    public static unsafe GoldenForward ReadForward(GoldenCase golden)
    {
        using var file = SafetensorsFile.Open(golden.ForwardFile);
        var logits = file.Entries["logits"];
        var widths = file.Entries["widths"];
        if (logits.Dtype != SafetensorsDtype.F32 || widths.Dtype != SafetensorsDtype.I32 || logits.Shape.Length != 2)
            throw new InvalidDataException($"{golden.ForwardFile}: expected logits F32 [L, V] and widths I32 [L]");
        int rows = (int)logits.Shape[0];
        int cols = (int)logits.Shape[1];
        var all = MemoryMarshal.Cast<byte, float>(file.Bytes(logits));
        var width = MemoryMarshal.Cast<byte, int>(file.Bytes(widths));
        var result = new float[rows][];
        for (int r = 0; r < rows; r++)
            result[r] = all.Slice(r * cols, width[r]).ToArray();
        return new GoldenForward(file.Metadata["experts"], result);
    }

    public static GoldenGenerate ReadGenerate(GoldenCase golden)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(golden.GenerateFile));
        var root = document.RootElement;
        int[] Ids(string name) => root.GetProperty(name).EnumerateArray().Select(e => e.GetInt32()).ToArray();
        return new GoldenGenerate(root.GetProperty("max_text").GetInt32(), root.GetProperty("max_action").GetInt32(), Ids("text_ids"), Ids("action_ids"));
    }
}
