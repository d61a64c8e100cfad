using System.Text.Json;

namespace Ellsa.Perf.Gpu;

/// <summary>What each ellsa-perf-gpu benchmark leaves in --out: NAME.md (the table for perf/RESULTS.md) and NAME.json (its figures).</summary>
public static class ResultFiles
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Writes both files and returns <paramref name="markdown"/>, for the console.</summary>
    public static string Write(string folder, string name, string markdown, object figures)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, name + ".md"), markdown);
        File.WriteAllText(Path.Combine(folder, name + ".json"), JsonSerializer.Serialize(figures, Indented));
        return markdown;
    }
}
