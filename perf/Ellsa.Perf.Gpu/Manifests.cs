using System.Runtime.InteropServices;
using Ellsa.Kernels.Numerics;
using System.Text.Json;
using Ellsa.Runtime.Checkpoints;

namespace Ellsa.Perf.Gpu;

/// <summary>
/// Model directories redrawn from a manifest of perf/gpu/make_manifest.py: each .json file as it is,
/// each .safetensors file with the same names, shapes and dtypes and values drawn uniformly with
/// each tensor's mean and standard deviation, clamped to its minimum and maximum (integers uniform
/// over their range). The release-size benchmarks get weights of the right magnitudes without
/// Python or gigabytes in the package.
/// </summary>
public static class Manifests
{
    /// <summary>The manifests shipped beside the program (perf/gpu/manifests, packed by run.sh).</summary>
    public static string Path(string name)
    {
        foreach (string root in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(root); dir is not null; dir = dir.Parent)
            {
                string candidate = System.IO.Path.Combine(dir.FullName, "perf", "gpu", "manifests", name);
                if (File.Exists(candidate))
                    return candidate;
            }
        }
        throw new FileNotFoundException($"perf/gpu/manifests/{name} not found above {AppContext.BaseDirectory}");
    }

    /// <summary>Writes the manifest's files into <paramref name="directory"/> and returns the bytes of weights written.</summary>
    public static long Write(string manifest, string directory, Random random)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(manifest));
        Directory.CreateDirectory(directory);
        long bytes = 0;
        foreach (var file in document.RootElement.GetProperty("files").EnumerateObject())
        {
            string path = System.IO.Path.Combine(directory, file.Name);
            if (!file.Name.EndsWith(".safetensors", StringComparison.Ordinal))
            {
                File.WriteAllText(path, file.Value.GetRawText());
                continue;
            }
            var tensors = file.Value.EnumerateArray().Select(t => Draw(t, random)).ToList();
            SafetensorsWriter.Write(path, tensors);
            bytes += tensors.Sum(t => (long)t.Data.Length);
        }
        return bytes;
    }

    private static TensorData Draw(JsonElement tensor, Random random)
    {
        string name = tensor.GetProperty("name").GetString()!;
        var dtype = Enum.Parse<SafetensorsDtype>(tensor.GetProperty("dtype").GetString()!);
        long[] shape = tensor.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
        long count = shape.Aggregate(1L, (a, b) => a * b);
        double mean = tensor.GetProperty("mean").GetDouble(), std = tensor.GetProperty("std").GetDouble();
        double min = tensor.GetProperty("min").GetDouble(), max = tensor.GetProperty("max").GetDouble();
        if (dtype is SafetensorsDtype.I32 or SafetensorsDtype.I64)
        {
            var ids = new long[count];
            for (long i = 0; i < count; i++)
                ids[i] = random.NextInt64((long)min, (long)max + 1);
            return dtype == SafetensorsDtype.I64
                ? new TensorData(name, dtype, shape, MemoryMarshal.AsBytes(ids.AsSpan()).ToArray())
                : new TensorData(name, dtype, shape, MemoryMarshal.AsBytes(ids.Select(v => (int)v).ToArray().AsSpan()).ToArray());
        }
        var values = new float[count];
        double half = std * Math.Sqrt(3);
        for (long i = 0; i < count; i++)
            values[i] = (float)Math.Clamp(mean + half * (2 * random.NextDouble() - 1), min, max);
        return dtype switch
        {
            SafetensorsDtype.F32 => new TensorData(name, dtype, shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray()),
            SafetensorsDtype.BF16 => new TensorData(name, dtype, shape, MemoryMarshal.AsBytes(values.Select(BFloat16.FromSingle).ToArray().AsSpan()).ToArray()),
            SafetensorsDtype.F16 => new TensorData(name, dtype, shape, MemoryMarshal.AsBytes(values.Select(v => (Half)v).ToArray().AsSpan()).ToArray()),
            _ => throw new InvalidDataException($"{name}: dtype {dtype} is not one a manifest redraws"),
        };
    }
}
