using System.Text.Json;

namespace Ellsa.Runtime.Configuration;

/// <summary>
/// Reads typed, optional keys of one JSON object and reports a bad value with the file and the
/// full key path (<c>config.json: rope_scaling.factor must be a number</c>).
/// </summary>
public readonly struct JsonSection
{
    private readonly JsonElement _element;

    public JsonSection(string file, string path, JsonElement element)
    {
        File = file;
        Path = path;
        _element = element;
        if (element.ValueKind != JsonValueKind.Object)
            throw new ConfigException($"{file}: {Describe(path)} must be an object");
    }

    public string File { get; }
    public string Path { get; }

    public static JsonDocument ParseFile(string path)
    {
        string name = System.IO.Path.GetFileName(path);
        return JsonFiles.ParseModelFile(path, ModelFile.MaxSettingsBytes, problem => new ConfigException($"{name}: {problem}"));
    }

    public bool Has(string key) => _element.TryGetProperty(key, out _);

    public bool IsNull(string key) => _element.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Null;

    public IEnumerable<string> Keys => _element.EnumerateObject().Select(p => p.Name);

    /// <summary>Refuses a key this section does not define: a typo ("sesion") must not be dropped silently.</summary>
    public void RequireKnownKeys(IReadOnlyCollection<string> known)
    {
        foreach (string key in Keys)
        {
            if (!known.Contains(key))
                throw Bad(key, $"is not a known key{(string.IsNullOrEmpty(Path) ? "" : $" of {Path}")} (known: {string.Join(", ", known)})");
        }
    }

    public int Int(string key, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        if (!TryGet(key, out var v))
            return fallback;
        if (v.ValueKind != JsonValueKind.Number)
            throw Bad(key, "must be an integer");
        if (!v.TryGetInt32(out int value))
        {
            // Say which bound an integer too large for int breaks, rather than "not an integer".
            if (v.TryGetDouble(out double number) && number == Math.Floor(number) && double.IsFinite(number))
                throw number > 0 ? Bad(key, $"must be at most {max}, got {v.GetRawText()}") : Bad(key, $"must be at least {min}, got {v.GetRawText()}");
            throw Bad(key, "must be an integer");
        }
        if (value < min)
            throw Bad(key, $"must be at least {min}, got {value}");
        if (value > max)
            throw Bad(key, $"must be at most {max}, got {value}");
        return value;
    }

    public int? OptionalInt(string key, int min = int.MinValue, int max = int.MaxValue) =>
        TryGet(key, out _) ? Int(key, 0, min, max) : null;

    public double Number(string key, double fallback, bool positive = false)
    {
        if (!TryGet(key, out var v))
            return fallback;
        if (v.ValueKind != JsonValueKind.Number)
            throw Bad(key, "must be a number");
        if (!v.TryGetDouble(out double value) || !double.IsFinite(value))
            throw Bad(key, $"must be a finite number, got {v.GetRawText()}");
        if (positive && !(value > 0))
            throw Bad(key, $"must be positive, got {value}");
        return value;
    }

    public bool Bool(string key, bool fallback)
    {
        if (!TryGet(key, out var v))
            return fallback;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Bad(key, "must be true or false"),
        };
    }

    public string? String(string key, string? fallback)
    {
        if (!TryGet(key, out var v))
            return fallback;
        if (v.ValueKind != JsonValueKind.String)
            throw Bad(key, "must be a string");
        return v.GetString();
    }

    public int[]? IntArray(string key)
    {
        if (!TryGet(key, out var v))
            return null;
        if (v.ValueKind != JsonValueKind.Array)
            throw Bad(key, "must be an array of integers");
        var result = new int[v.GetArrayLength()];
        int i = 0;
        foreach (var item in v.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out result[i]) || result[i] < 0)
                throw Bad($"{key}[{i}]", "must be a non-negative integer");
            i++;
        }
        return result;
    }

    /// <summary>An array of integer arrays ([[1, 3, 5], [1, 3, 5]]), or null when the key is absent or null.</summary>
    public int[][]? IntArrays(string key)
    {
        if (!TryGet(key, out var v))
            return null;
        if (v.ValueKind != JsonValueKind.Array)
            throw Bad(key, "must be an array of arrays of integers");
        var result = new int[v.GetArrayLength()][];
        int i = 0;
        foreach (var row in v.EnumerateArray())
        {
            if (row.ValueKind != JsonValueKind.Array)
                throw Bad($"{key}[{i}]", "must be an array of integers");
            result[i] = new int[row.GetArrayLength()];
            int j = 0;
            foreach (var item in row.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out result[i][j]) || result[i][j] < 0)
                    throw Bad($"{key}[{i}][{j}]", "must be a non-negative integer");
                j++;
            }
            i++;
        }
        return result;
    }

    /// <summary>A nested object, or null when the key is absent or null.</summary>
    public JsonSection? Section(string key)
    {
        if (!TryGet(key, out var v))
            return null;
        if (v.ValueKind != JsonValueKind.Object)
            throw Bad(key, "must be an object");
        return new JsonSection(File, Join(key), v);
    }

    public ConfigException Bad(string key, string problem) => new($"{File}: {Join(key)} {problem}");

    private bool TryGet(string key, out JsonElement value) =>
        _element.TryGetProperty(key, out value) && value.ValueKind != JsonValueKind.Null;

    private string Join(string key) => string.IsNullOrEmpty(Path) ? key : $"{Path}.{key}";

    private static string Describe(string path) => string.IsNullOrEmpty(path) ? "the top level" : path;
}
