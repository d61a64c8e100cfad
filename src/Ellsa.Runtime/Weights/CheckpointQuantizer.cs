using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Numerics;
using Ellsa.Runtime.Checkpoints;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Moe;

namespace Ellsa.Runtime.Weights;

/// <summary>
/// <c>ellsa quantize</c>: writes a model directory whose projections and heads are stored as q8,
/// exactly the values a <c>--weights q8</c> load of the source makes (LoRA merged first, in f32).
/// Each such tensor becomes an I8 tensor of its own name and shape plus an F16 tensor
/// <c>name.q8_scale</c> [rows, ⌈cols/32⌉]; merged LoRA factors are left out; every other tensor is
/// copied byte for byte into a shard of the source's name, and every other file of the directory
/// (configs, tokenizers, codec assets) is copied. ellsa.json gets <c>"weights": {"format": "q8"}</c>.
/// </summary>
public static class CheckpointQuantizer
{
    public static void Write(string modelDirectory, string outputDirectory, IProgress<LoadProgress>? progress = null)
    {
        if (File.Exists(outputDirectory))
            throw new IOException($"{outputDirectory}: the output exists and is a file; give a new or empty directory");
        if (Directory.Exists(outputDirectory) && Directory.EnumerateFileSystemEntries(outputDirectory).Any())
            throw new IOException($"{outputDirectory}: the output directory is not empty; give a new or empty directory");
        var config = ModelConfig.Load(modelDirectory);
        using var store = CheckpointStore.Open(modelDirectory);
        var plan = WeightPlan.Create(store, config);
        plan.ThrowIfIncomplete();

        var quantised = new Dictionary<string, ProjectionPlan>(StringComparer.Ordinal);
        var dropped = new HashSet<string>(StringComparer.Ordinal);
        // A head tied to an embedding (one tensor bound twice) stays as stored: the lookup needs it.
        var embeddings = new[] { plan[Expert.Speech], plan[Expert.Vision] }
            .SelectMany(e => new[] { e.Embedding, e.ExtraEmbedding }).OfType<TensorBinding>().Select(b => b.Tensor.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var expert in new[] { plan[Expert.Speech], plan[Expert.Vision] })
        {
            foreach (var layer in expert.Layers)
            {
                foreach (var projection in new[] { layer.Q, layer.K, layer.V, layer.O, layer.Gate, layer.Up, layer.Down })
                    Mark(projection, quantised, dropped);
            }
            foreach (var head in new[] { expert.Head, expert.ExtraHead }.OfType<TensorBinding>())
            {
                if (!embeddings.Contains(head.Tensor.Name))
                    Mark(new ProjectionPlan(head, null, null, null), quantised, dropped);
            }
        }

        Directory.CreateDirectory(outputDirectory);
        var tracker = new Progress(store.Tensors.Values.Where(t => !dropped.Contains(t.Name)).ToList(), progress);
        var lora = config.Settings.Lora;
        var byFile = store.Tensors.Values.Where(t => !dropped.Contains(t.Name)).GroupBy(t => t.File);
        foreach (var group in byFile)
        {
            var tensors = new List<StreamedTensor>();
            foreach (var tensor in group)
            {
                if (quantised.TryGetValue(tensor.Name, out var projection))
                    tensors.AddRange(Quantised(tensor, projection, lora, tracker));
                else
                    tensors.Add(new StreamedTensor(tensor.Name, tensor.Entry.Dtype, tensor.Entry.Shape, stream =>
                    {
                        Copy(stream, tensor);
                        tracker.Done(tensor);
                    }));
            }
            SafetensorsStreamWriter.Write(Path.Combine(outputDirectory, Path.GetFileName(group.Key.Path)), tensors, group.Key.Metadata);
        }
        if (store.IsSharded)
            WriteIndex(store, dropped, quantised, outputDirectory);
        CopyOtherFiles(modelDirectory, outputDirectory, store);
        WriteSettings(modelDirectory, outputDirectory);
        tracker.Finish();
    }

    private static unsafe void Copy(Stream stream, StoredTensor tensor) =>
        WriteBytes(stream, tensor.File.DataPointer(tensor.Entry), tensor.Entry.ByteLength);

    private static void Mark(ProjectionPlan projection, Dictionary<string, ProjectionPlan> quantised, HashSet<string> dropped)
    {
        // A tensor the source already stores as q8 is copied as it is, its scales with it.
        if (projection.Weight.IsQ8)
            return;
        quantised[projection.Weight.Tensor.Name] = projection;
        if (projection.HasLora)
        {
            dropped.Add(projection.LoraA!.Tensor.Name);
            dropped.Add(projection.LoraB!.Tensor.Name);
        }
    }

    /// <summary>The I8 values and F16 scales of one projection, computed when the writer reaches the values (the scales follow them in name order).</summary>
    private static StreamedTensor[] Quantised(StoredTensor tensor, ProjectionPlan projection, LoraSettings lora, Progress tracker)
    {
        long rows = tensor.Entry.Shape[0], cols = tensor.Entry.Shape[1];
        long blocks = Q8Format.BlocksPerRow((int)cols);
        byte[]? scales = null;
        return
        [
            new StreamedTensor(tensor.Name, SafetensorsDtype.I8, [rows, cols], stream =>
            {
                scales = WriteQuantised(stream, tensor, projection, lora, values: true);
                tracker.Done(tensor);
            }),
            // Quantised again should another name sort between the two: deterministic, so the same scales.
            new StreamedTensor(tensor.Name + Q8Format.ScaleSuffix, SafetensorsDtype.F16, [rows, blocks], stream =>
            {
                stream.Write(scales ?? WriteQuantised(Stream.Null, tensor, projection, lora, values: false));
                scales = null;
            }),
        ];
    }

    /// <summary>Quantises the projection, writes its int8 values when asked, and returns its scales' bytes.</summary>
    private static unsafe byte[] WriteQuantised(Stream stream, StoredTensor tensor, ProjectionPlan projection, LoraSettings lora, bool values)
    {
        var owned = new List<IDisposable>();
        try
        {
            var part = Quantize(tensor, projection, lora, owned);
            if (values)
                WriteBytes(stream, (byte*)part.Data, (long)part.Rows * part.Cols);
            long scaleBytes = (long)part.Rows * Q8Format.BlocksPerRow(part.Cols) * 2;
            return new ReadOnlySpan<byte>(part.Scales, checked((int)scaleBytes)).ToArray();
        }
        finally
        {
            foreach (var item in owned)
                item.Dispose();
        }
    }

    /// <summary>In pieces below 2 GB, the most one span may hold.</summary>
    private static unsafe void WriteBytes(Stream stream, byte* data, long count)
    {
        for (long offset = 0; offset < count; offset += 1 << 30)
            stream.Write(new ReadOnlySpan<byte>(data + offset, (int)Math.Min(1 << 30, count - offset)));
    }

    private static MatrixPart Quantize(StoredTensor tensor, ProjectionPlan projection, LoraSettings lora, List<IDisposable> owned)
    {
        var part = projection.HasLora
            ? TensorConversion.MergeLora(tensor, projection.LoraA!.Tensor, projection.LoraB!.Tensor, lora.Scaling, roundToBf16: false, owned)
            : TensorConversion.Matrix(tensor, owned);
        return Q8Quantization.Quantize(part, tensor, owned);
    }

    private static void WriteIndex(CheckpointStore store, HashSet<string> dropped, Dictionary<string, ProjectionPlan> quantised, string outputDirectory)
    {
        var map = new SortedDictionary<string, string>(StringComparer.Ordinal);
        long total = 0;
        foreach (var tensor in store.Tensors.Values.Where(t => !dropped.Contains(t.Name)))
        {
            string shard = Path.GetFileName(tensor.File.Path);
            map[tensor.Name] = shard;
            if (quantised.ContainsKey(tensor.Name))
            {
                long rows = tensor.Entry.Shape[0], cols = tensor.Entry.Shape[1];
                map[tensor.Name + Q8Format.ScaleSuffix] = shard;
                total += rows * cols + rows * Q8Format.BlocksPerRow((int)cols) * 2;
            }
            else
            {
                total += tensor.Entry.ByteLength;
            }
        }
        var index = new JsonObject
        {
            ["metadata"] = new JsonObject { ["total_size"] = total },
            ["weight_map"] = new JsonObject(map.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
        };
        File.WriteAllText(Path.Combine(outputDirectory, CheckpointStore.IndexFileName), index.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Everything but the checkpoint itself and ellsa.json, recursively (symbolic links are followed: a Hugging Face cache links its files).</summary>
    private static void CopyOtherFiles(string source, string destination, CheckpointStore store)
    {
        var skip = store.Files.Select(f => Path.GetFullPath(f.Path))
            .Append(Path.GetFullPath(Path.Combine(source, CheckpointStore.IndexFileName)))
            .Append(Path.GetFullPath(Path.Combine(source, EllsaSettings.FileName)))
            .ToHashSet(StringComparer.Ordinal);
        foreach (string path in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            if (skip.Contains(Path.GetFullPath(path)))
                continue;
            string target = Path.Combine(destination, Path.GetRelativePath(source, path));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(path, target);
        }
    }

    /// <summary>The source's ellsa.json (or an empty one) with weights.format = q8; every other setting kept as written.</summary>
    private static void WriteSettings(string source, string destination)
    {
        string path = Path.Combine(source, EllsaSettings.FileName);
        var root = File.Exists(path)
            ? JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new ConfigException($"{EllsaSettings.FileName}: the top level must be an object")
            : new JsonObject();
        if (root["weights"] is not JsonObject weights)
            root["weights"] = weights = new JsonObject();
        weights["format"] = WeightSettings.Name(WeightFormat.Q8);
        File.WriteAllText(Path.Combine(destination, EllsaSettings.FileName), root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private sealed class Progress(IReadOnlyList<StoredTensor> tensors, IProgress<LoadProgress>? progress)
    {
        private readonly long _total = tensors.Sum(t => t.Entry.ByteLength);
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _bytes;
        private int _done;
        private long _lastReport = -1;

        public void Done(StoredTensor tensor)
        {
            _bytes += tensor.Entry.ByteLength;
            _done++;
            long now = _clock.ElapsedMilliseconds;
            if (progress is not null && now - _lastReport >= 50)
            {
                _lastReport = now;
                progress.Report(new LoadProgress(_bytes, _total, _done, tensors.Count, _clock.Elapsed, tensor.Name));
            }
        }

        public void Finish() => progress?.Report(new LoadProgress(_total, _total, tensors.Count, tensors.Count, _clock.Elapsed, ""));
    }
}
