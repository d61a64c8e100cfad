using System.Text;
using System.Text.Json;

namespace Ellsa.Runtime.Checkpoints;

/// <summary>A tensor to write: raw little-endian bytes with their dtype and shape.</summary>
public sealed record TensorData(string Name, SafetensorsDtype Dtype, long[] Shape, byte[] Data);

/// <summary>
/// Writes safetensors files the way the reference writer does (header padded with spaces to a
/// multiple of 8, tensors back to back in name order), alone or as shards with an index.
/// Used for test checkpoints and by `ellsa` tooling; the engine itself only reads.
/// </summary>
public static class SafetensorsWriter
{
    public static void Write(string path, IEnumerable<TensorData> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var streamed = tensors.Select(tensor =>
        {
            long expected = tensor.Shape.Aggregate(1L, (a, b) => a * b) * SafetensorsDtypes.Bits(tensor.Dtype) / 8;
            if (expected != tensor.Data.Length)
                throw new ArgumentException($"{tensor.Name}: {tensor.Data.Length} bytes for shape [{string.Join(", ", tensor.Shape)}] of {tensor.Dtype} (expected {expected})");
            return new StreamedTensor(tensor.Name, tensor.Dtype, tensor.Shape, stream => stream.Write(tensor.Data));
        }).ToList();
        SafetensorsStreamWriter.Write(path, streamed, metadata, overwrite: true);
    }

    /// <summary>Writes <paramref name="shardCount"/> shards named like Hugging Face's and the index that maps names to them.</summary>
    public static void WriteSharded(string directory, IReadOnlyList<TensorData> tensors, int shardCount)
    {
        if (shardCount < 1)
            throw new ArgumentOutOfRangeException(nameof(shardCount));
        var ordered = tensors.OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        long total = 0;
        for (int s = 0; s < shardCount; s++)
        {
            string name = $"model-{s + 1:D5}-of-{shardCount:D5}.safetensors";
            var shard = ordered.Where((_, i) => i * shardCount / Math.Max(1, ordered.Count) == s).ToList();
            Write(Path.Combine(directory, name), shard);
            foreach (var tensor in shard)
            {
                weightMap[tensor.Name] = name;
                total += tensor.Data.Length;
            }
        }
        var index = new Dictionary<string, object>
        {
            ["metadata"] = new Dictionary<string, long> { ["total_size"] = total },
            ["weight_map"] = weightMap,
        };
        File.WriteAllText(Path.Combine(directory, CheckpointStore.IndexFileName),
            JsonSerializer.Serialize(index, new JsonSerializerOptions { WriteIndented = true }), new UTF8Encoding(false));
    }
}
