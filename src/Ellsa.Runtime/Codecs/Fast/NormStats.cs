using System.Text.Json;

namespace Ellsa.Runtime.Codecs.Fast;

/// <summary>
/// Per-dimension action statistics from a file shaped <c>{"norm_stats": {KEY: {"q01": […],
/// "q99": […], "mean": […], "std": […]}}}</c>. The codec uses only the 1st/99th percentiles
/// (02-protocol.md §3.2: the reference de-normalises with q01/q99; mean/std are unused).
/// </summary>
public sealed class NormStats
{
    private NormStats(string sourcePath, string key, double[] q01, double[] q99, double[]? mean, double[]? std)
    {
        SourcePath = sourcePath;
        Key = key;
        Q01 = q01;
        Q99 = q99;
        Mean = mean;
        Std = std;
    }

    public string SourcePath { get; }

    public string Key { get; }

    public IReadOnlyList<double> Q01 { get; }

    public IReadOnlyList<double> Q99 { get; }

    public IReadOnlyList<double>? Mean { get; }

    public IReadOnlyList<double>? Std { get; }

    public int Dimension => Q01.Count;

    /// <param name="key">The entry to use; null picks the only entry of a one-entry file.</param>
    /// <exception cref="FastCodecException">Missing file or key (the message lists the keys that
    /// exist), or q01/q99 that are absent, non-finite, of different lengths or reversed.</exception>
    public static NormStats Load(string path, string? key)
    {
        using var document = JsonFile.ParseAsset(path);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("norm_stats", out var all)
            || all.ValueKind != JsonValueKind.Object)
        {
            throw new FastCodecException($"{path}: norm_stats: expected an object {{\"norm_stats\": {{KEY: {{\"q01\": …, \"q99\": …}}}}}}");
        }
        var keys = all.EnumerateObject().Select(p => p.Name).ToList();
        string existing = keys.Count == 0 ? "the file has none" : "keys in the file: " + string.Join(", ", keys.Select(k => $"\"{k}\""));
        if (key is null)
        {
            key = keys.Count == 1 ? keys[0]
                : throw new FastCodecException($"{path}: norm_stats: choose a key ({existing})");
        }
        if (!all.TryGetProperty(key, out var entry) || entry.ValueKind != JsonValueKind.Object)
        {
            throw new FastCodecException($"{path}: norm_stats: no key \"{key}\" ({existing})");
        }
        string field = $"norm_stats.{key}";
        var q01 = Vector(entry, "q01", path, field, required: true)!;
        var q99 = Vector(entry, "q99", path, field, required: true)!;
        if (q01.Length != q99.Length || q01.Length == 0)
        {
            throw new FastCodecException($"{path}: {field}: q01 has {q01.Length} values and q99 {q99.Length}; they must match and not be empty");
        }
        for (int d = 0; d < q01.Length; d++)
        {
            if (q99[d] < q01[d])
            {
                throw new FastCodecException($"{path}: {field}: dimension {d} has q99 {q99[d]} below q01 {q01[d]}");
            }
        }
        return new NormStats(path, key, q01, q99,
            Vector(entry, "mean", path, field, required: false), Vector(entry, "std", path, field, required: false));
    }

    private static double[]? Vector(JsonElement entry, string name, string path, string field, bool required)
    {
        if (!entry.TryGetProperty(name, out var array) || array.ValueKind == JsonValueKind.Null)
        {
            return required ? throw new FastCodecException($"{path}: {field}.{name}: is missing") : null;
        }
        if (array.ValueKind != JsonValueKind.Array)
        {
            throw new FastCodecException($"{path}: {field}.{name}: expected an array of numbers");
        }
        var values = new double[array.GetArrayLength()];
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !double.IsFinite(item.GetDouble()))
            {
                throw new FastCodecException($"{path}: {field}.{name}[{i}]: expected a finite number, found {item.GetRawText()}");
            }
            values[i++] = item.GetDouble();
        }
        return values;
    }
}
