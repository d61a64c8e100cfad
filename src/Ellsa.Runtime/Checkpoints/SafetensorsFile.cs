using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Text;
using System.Text.Json;

namespace Ellsa.Runtime.Checkpoints;

/// <summary>One tensor's header entry. Offsets are absolute file offsets, already validated.</summary>
public sealed record SafetensorsEntry(string Name, SafetensorsDtype Dtype, long[] Shape, long FileOffset, long ByteLength)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>
/// A memory-mapped safetensors file. Every rule of the reference parser is checked before any
/// allocation sized from the file (04-engine-notes.md §6.3): header size cap, JSON validity,
/// duplicate names, known dtypes, shape × dtype = byte length with overflow checks, offsets
/// contiguous from 0 without gaps or overlaps, and the byte buffer fully covered.
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    /// <summary>The reference parser's cap; larger headers are refused before anything is read.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private readonly Dictionary<string, SafetensorsEntry> _entries;
    private MemoryMappedFile? _map;
    private MemoryMappedViewAccessor? _view;
    private byte* _base;

    private SafetensorsFile(string path, long length, Dictionary<string, SafetensorsEntry> entries, Dictionary<string, string> metadata)
    {
        Path = path;
        Length = length;
        _entries = entries;
        Metadata = metadata;
    }

    public string Path { get; }
    public long Length { get; }
    public IReadOnlyDictionary<string, SafetensorsEntry> Entries => _entries;
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Parses and validates the header, then maps the file read-only.</summary>
    public static SafetensorsFile Open(string path)
    {
        string display = System.IO.Path.GetFileName(path);
        if (!File.Exists(path))
            throw new CheckpointException(display, null, "file not found");
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
        long length = stream.Length;
        if (length < 8)
            throw new CheckpointException(display, null, $"file is {length} bytes; a safetensors file starts with an 8-byte header length (HeaderTooSmall)");

        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes)
            throw new CheckpointException(display, null, $"header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit (HeaderTooLarge)");
        if (8 + (long)headerLength > length)
            throw new CheckpointException(display, null,
                $"header length {headerLength} runs past the end of the {length}-byte file (InvalidHeaderLength; truncated file?)");

        var header = new byte[headerLength];
        stream.ReadExactly(header);
        var (entries, metadata) = ParseHeader(display, header, 8 + (long)headerLength, length);
        var file = new SafetensorsFile(path, length, entries, metadata);
        file.Map();
        return file;
    }

    private static (Dictionary<string, SafetensorsEntry>, Dictionary<string, string>) ParseHeader(
        string file, byte[] header, long dataStart, long fileLength)
    {
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(header);
        }
        catch (DecoderFallbackException)
        {
            throw new CheckpointException(file, null, "header is not valid UTF-8 (InvalidHeader)");
        }
        if (text.Length == 0 || text[0] != '{')
            throw new CheckpointException(file, null, "header does not start with '{' (InvalidHeaderStart)");

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, new JsonDocumentOptions { AllowDuplicateProperties = false, MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            string reason = e.Message.Contains("duplicate", StringComparison.OrdinalIgnoreCase)
                ? "header names a key twice (duplicate tensor names are not allowed)"
                : $"header is not valid JSON ({FirstSentence(e.Message)}) (InvalidHeaderDeserialization)";
            throw new CheckpointException(file, null, reason);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new CheckpointException(file, null, "header is not a JSON object (InvalidHeaderDeserialization)");

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var entries = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
            var ordered = new List<(string Name, SafetensorsDtype Dtype, long[] Shape, ulong Begin, ulong End)>();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object)
                        throw new CheckpointException(file, null, "__metadata__ must be an object of strings");
                    foreach (var item in property.Value.EnumerateObject())
                    {
                        if (item.Value.ValueKind != JsonValueKind.String)
                            throw new CheckpointException(file, null, $"__metadata__.{item.Name} must be a string");
                        metadata[item.Name] = item.Value.GetString()!;
                    }
                    continue;
                }
                ordered.Add(ParseEntry(file, property));
            }

            // The reference parser sorts by offsets, then demands a contiguous cover of the byte buffer:
            // no gaps and no overlaps, so no bytes can hide a second payload.
            ordered.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
            ulong expected = 0;
            ulong bufferLength = (ulong)(fileLength - dataStart);
            foreach (var (name, dtype, shape, begin, end) in ordered)
            {
                if (begin != expected)
                {
                    string what = begin > expected ? $"a gap: bytes {expected}..{begin} belong to no tensor" : $"it overlaps the previous tensor (which ends at {expected})";
                    throw new CheckpointException(file, name, $"data_offsets [{begin}, {end}] leave {what} (InvalidOffset)");
                }
                ulong elements = 1;
                foreach (long dim in shape)
                {
                    try { elements = checked(elements * (ulong)dim); }
                    catch (OverflowException) { throw new CheckpointException(file, name, $"shape [{string.Join(", ", shape)}] overflows (ValidationOverflow)"); }
                }
                ulong bits;
                try { bits = checked(elements * (ulong)SafetensorsDtypes.Bits(dtype)); }
                catch (OverflowException) { throw new CheckpointException(file, name, $"shape [{string.Join(", ", shape)}] × {dtype} overflows (ValidationOverflow)"); }
                if (bits % 8 != 0)
                    throw new CheckpointException(file, name, $"{elements} elements of {dtype} do not fill whole bytes (MisalignedSlice)");
                if (end - begin != bits / 8)
                    throw new CheckpointException(file, name,
                        $"data_offsets [{begin}, {end}] hold {end - begin} bytes but shape [{string.Join(", ", shape)}] × {dtype} needs {bits / 8} (TensorInvalidInfo)");
                if (end > bufferLength)
                    throw new CheckpointException(file, name,
                        $"data_offsets end {end} lies beyond the {bufferLength}-byte data buffer (truncated file?) (MetadataIncompleteBuffer)");
                expected = end;
                entries[name] = new SafetensorsEntry(name, dtype, shape, dataStart + (long)begin, (long)(end - begin));
            }
            if (expected != bufferLength)
                throw new CheckpointException(file, null,
                    $"tensors cover {expected} bytes of the {bufferLength}-byte data buffer; the rest belongs to no tensor (MetadataIncompleteBuffer)");
            return (entries, metadata);
        }
    }

    private static (string, SafetensorsDtype, long[], ulong, ulong) ParseEntry(string file, JsonProperty property)
    {
        string name = property.Name;
        var value = property.Value;
        if (value.ValueKind != JsonValueKind.Object)
            throw new CheckpointException(file, name, "entry is not an object with dtype, shape and data_offsets");
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new CheckpointException(file, name, "entry has no dtype string");
        string dtypeText = dtypeElement.GetString()!;
        if (!SafetensorsDtypes.TryParse(dtypeText, out var dtype))
            throw new CheckpointException(file, name, $"unknown dtype '{dtypeText}'");

        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw new CheckpointException(file, name, "entry has no shape array");
        var shape = new long[shapeElement.GetArrayLength()];
        int i = 0;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long size) || size < 0)
                throw new CheckpointException(file, name, $"shape entry {i} is not a non-negative integer");
            shape[i++] = size;
        }

        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw new CheckpointException(file, name, "entry needs data_offsets [begin, end]");
        var pair = new ulong[2];
        i = 0;
        foreach (var offset in offsets.EnumerateArray())
        {
            if (offset.ValueKind != JsonValueKind.Number || !offset.TryGetUInt64(out pair[i]))
                throw new CheckpointException(file, name, "data_offsets must be two non-negative integers");
            i++;
        }
        if (pair[1] < pair[0])
            throw new CheckpointException(file, name, $"data_offsets [{pair[0]}, {pair[1]}] end before they begin (InvalidOffset)");
        foreach (var extra in value.EnumerateObject())
        {
            if (extra.Name is not ("dtype" or "shape" or "data_offsets"))
                throw new CheckpointException(file, name, $"entry has an unknown field '{extra.Name}'");
        }
        return (name, dtype, shape, pair[0], pair[1]);
    }

    private static string FirstSentence(string message)
    {
        int end = message.IndexOf(". ", StringComparison.Ordinal);
        return end > 0 ? message[..end] : message.TrimEnd('.');
    }

    private void Map()
    {
        _map = MemoryMappedFile.CreateFromFile(Path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* pointer = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _base = pointer + _view.PointerOffset;
    }

    /// <summary>The first byte of a tensor's data inside the mapping (unaligned in general).</summary>
    public byte* DataPointer(SafetensorsEntry entry)
    {
        ObjectDisposedException.ThrowIf(_base == null, this);
        if (entry.FileOffset < 0 || entry.FileOffset + entry.ByteLength > Length)
            throw new CheckpointException(System.IO.Path.GetFileName(Path), entry.Name, "data lies outside the mapped file");
        return _base + entry.FileOffset;
    }

    public ReadOnlySpan<byte> Bytes(SafetensorsEntry entry)
    {
        if (entry.ByteLength > int.MaxValue)
            throw new CheckpointException(System.IO.Path.GetFileName(Path), entry.Name, $"{entry.ByteLength} bytes cannot be viewed as one span");
        return new ReadOnlySpan<byte>(DataPointer(entry), (int)entry.ByteLength);
    }

    public void Dispose()
    {
        if (_view is not null)
        {
            if (_base != null)
                _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
        _base = null;
        _view = null;
        _map = null;
    }
}
