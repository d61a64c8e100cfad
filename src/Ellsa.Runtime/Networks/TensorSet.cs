using Ellsa.Runtime.Checkpoints;

namespace Ellsa.Runtime.Networks;

/// <summary>
/// The tensors a component network reads: one safetensors file (a component file such as
/// <c>vision_tokenizer/model.safetensors</c>) or the model's checkpoint, kept open (memory-mapped)
/// for as long as the network uses weights in place.
/// </summary>
public sealed class TensorSet : IDisposable
{
    private readonly IDisposable? _owner;

    public TensorSet(string displayName, IReadOnlyDictionary<string, StoredTensor> tensors, IDisposable? owner)
    {
        DisplayName = displayName;
        Tensors = tensors;
        _owner = owner;
    }

    /// <summary>The file (or directory) errors name.</summary>
    public string DisplayName { get; }
    public IReadOnlyDictionary<string, StoredTensor> Tensors { get; }

    /// <summary>Opens and validates one safetensors file (every rule of <see cref="SafetensorsFile"/>).</summary>
    public static TensorSet OpenFile(string path, string displayName)
    {
        if (!File.Exists(path))
            throw new CheckpointException(displayName, null, "file not found");
        var file = SafetensorsFile.Open(path);
        var tensors = file.Entries.Values.ToDictionary(e => e.Name, e => new StoredTensor(file, e), StringComparer.Ordinal);
        return new TensorSet(displayName, tensors, file);
    }

    public void Dispose() => _owner?.Dispose();
}
