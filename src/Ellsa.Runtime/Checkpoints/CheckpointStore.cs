using System.Text.Json;
using Ellsa.Runtime.Configuration;

namespace Ellsa.Runtime.Checkpoints;

/// <summary>A tensor found in a checkpoint, with the file that holds it.</summary>
public sealed record StoredTensor(SafetensorsFile File, SafetensorsEntry Entry)
{
    public string Name => Entry.Name;
    public string FileName => Path.GetFileName(File.Path);
}

/// <summary>
/// All tensors of a model directory: <c>model.safetensors</c>, or <c>model.safetensors.index.json</c>
/// and its shards. The index is checked as strictly as the shards: shard names must stay inside
/// the directory, every mapped tensor must be in the shard the index names, and no tensor may be
/// defined by two shards. <c>total_size</c> is not trusted (producers disagree on its meaning).
/// </summary>
public sealed class CheckpointStore : IDisposable
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly List<SafetensorsFile> _files;
    private readonly Dictionary<string, StoredTensor> _tensors;

    private CheckpointStore(string directory, List<SafetensorsFile> files, Dictionary<string, StoredTensor> tensors, bool sharded)
    {
        Directory = directory;
        _files = files;
        _tensors = tensors;
        IsSharded = sharded;
    }

    public string Directory { get; }
    public bool IsSharded { get; }
    public IReadOnlyList<SafetensorsFile> Files => _files;
    public IReadOnlyDictionary<string, StoredTensor> Tensors => _tensors;
    public long TotalBytes => _tensors.Values.Sum(t => t.Entry.ByteLength);

    public bool TryGet(string name, out StoredTensor tensor) => _tensors.TryGetValue(name, out tensor!);

    public static CheckpointStore Open(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
            throw new CheckpointException(directory, null, "model directory not found");
        string index = Path.Combine(directory, IndexFileName);
        if (File.Exists(index))
            return OpenSharded(directory, index);
        string single = Path.Combine(directory, SingleFileName);
        if (File.Exists(single))
            return OpenSingle(directory, single);
        throw new CheckpointException(directory, null, $"holds neither {SingleFileName} nor {IndexFileName}");
    }

    private static CheckpointStore OpenSingle(string directory, string path)
    {
        var file = SafetensorsFile.Open(path);
        var tensors = file.Entries.Values.ToDictionary(e => e.Name, e => new StoredTensor(file, e), StringComparer.Ordinal);
        return new CheckpointStore(directory, [file], tensors, sharded: false);
    }

    private static CheckpointStore OpenSharded(string directory, string indexPath)
    {
        var weightMap = ReadWeightMap(indexPath);
        var files = new List<SafetensorsFile>();
        try
        {
            var tensors = new Dictionary<string, StoredTensor>(StringComparer.Ordinal);
            foreach (string shard in weightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                string path = Path.Combine(directory, shard);
                if (!File.Exists(path))
                {
                    string example = weightMap.First(kv => kv.Value == shard).Key;
                    throw new CheckpointException(IndexFileName, example, $"is mapped to shard '{shard}', which does not exist");
                }
                var file = SafetensorsFile.Open(path);
                files.Add(file);
                foreach (var entry in file.Entries.Values)
                {
                    if (tensors.TryGetValue(entry.Name, out var other))
                        throw new CheckpointException(shard, entry.Name, $"is also defined in shard '{other.FileName}' (a tensor must live in one shard)");
                    tensors[entry.Name] = new StoredTensor(file, entry);
                }
            }
            foreach (var (name, shard) in weightMap)
            {
                if (!tensors.TryGetValue(name, out var stored) || stored.FileName != shard)
                    throw new CheckpointException(IndexFileName, name, $"is mapped to shard '{shard}', which does not hold it");
            }
            return new CheckpointStore(directory, files, tensors, sharded: true);
        }
        catch
        {
            foreach (var file in files)
                file.Dispose();
            throw;
        }
    }

    private static Dictionary<string, string> ReadWeightMap(string indexPath)
    {
        var info = new FileInfo(indexPath);
        if (info.Length > SafetensorsFile.MaxHeaderBytes)
            throw new CheckpointException(IndexFileName, null, $"is {info.Length} bytes, more than an index can need");
        var document = JsonFiles.ParseModelFile(indexPath, SafetensorsFile.MaxHeaderBytes, problem => new CheckpointException(IndexFileName, null, problem));
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new CheckpointException(IndexFileName, null, "has no weight_map object");
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String)
                    throw new CheckpointException(IndexFileName, entry.Name, "weight_map value is not a file name");
                string shard = entry.Value.GetString()!;
                if (!IsPlainFileName(shard))
                    throw new CheckpointException(IndexFileName, entry.Name,
                        $"weight_map points to '{shard}', outside the model directory (shard names may not contain path separators or '..')");
                result[entry.Name] = shard;
            }
            return result;
        }
    }

    private static bool IsPlainFileName(string name) =>
        name.Length > 0 && name != "." && name != ".." && !name.Contains('/') && !name.Contains('\\')
        && !name.Contains('\0') && !Path.IsPathRooted(name) && name.IndexOfAny(Path.GetInvalidFileNameChars()) < 0;

    public void Dispose()
    {
        foreach (var file in _files)
            file.Dispose();
    }
}
