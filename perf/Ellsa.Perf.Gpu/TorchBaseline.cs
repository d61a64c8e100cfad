using System.Text.Json;

namespace Ellsa.Perf.Gpu;

/// <summary>
/// What perf/gpu/torch_baseline.py measured in the same run on the same machine: the ceilings
/// (device copy bandwidth, bf16 matmul rate) and PyTorch eager timings of the same scenarios.
/// </summary>
public sealed class TorchBaseline
{
    private readonly Dictionary<string, double> _values = new();

    public string Source { get; private init; } = "(not run)";
    public string Device { get; private init; } = "";

    public double? this[string key] => _values.TryGetValue(key, out double v) ? v : null;

    public static TorchBaseline Read(string? path)
    {
        if (path is null || !File.Exists(path))
            return new TorchBaseline { Source = path is null ? "(not run)" : $"(missing: {path})" };
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var baseline = new TorchBaseline
        {
            Source = Path.GetFileName(path),
            Device = document.RootElement.TryGetProperty("device", out var device) ? device.GetString() ?? "" : "",
        };
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.Number)
                baseline._values[property.Name] = property.Value.GetDouble();
        }
        return baseline;
    }
}
