using System.Buffers.Binary;
using System.Text.Json;

namespace Ellsa.Runtime.Checkpoints;

/// <summary>A tensor to write whose bytes are produced when its turn comes (a converted checkpoint does not fit in memory twice).</summary>
public sealed record StreamedTensor(string Name, SafetensorsDtype Dtype, long[] Shape, Action<Stream> WriteData)
{
    public long ByteLength => Shape.Aggregate(1L, (a, b) => a * b) * SafetensorsDtypes.Bits(Dtype) / 8;
}

/// <summary>
/// Writes one safetensors file as <see cref="SafetensorsWriter"/> does (header padded with spaces to
/// a multiple of 8, tensors back to back in name order), asking each tensor for its bytes in turn.
/// </summary>
public static class SafetensorsStreamWriter
{
    /// <param name="overwrite">Replace an existing file (test checkpoints) instead of refusing it (a converted model never overwrites).</param>
    public static void Write(string path, IEnumerable<StreamedTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null, bool overwrite = false)
    {
        var list = tensors.OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata)
                    json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var tensor in list)
            {
                json.WriteStartObject(tensor.Name);
                json.WriteString("dtype", tensor.Dtype.ToString());
                json.WriteStartArray("shape");
                foreach (long dim in tensor.Shape)
                    json.WriteNumberValue(dim);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + tensor.ByteLength);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += tensor.ByteLength;
            }
            json.WriteEndObject();
        }
        var header = buffer.ToArray();
        int padded = (header.Length + 7) / 8 * 8;
        using var file = new FileStream(path, overwrite ? FileMode.Create : FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
        file.Write(length);
        file.Write(header);
        for (int i = header.Length; i < padded; i++)
            file.WriteByte((byte)' ');
        foreach (var tensor in list)
        {
            long start = file.Position;
            tensor.WriteData(file);
            if (file.Position - start != tensor.ByteLength)
                throw new InvalidOperationException($"{tensor.Name}: wrote {file.Position - start} bytes, the header promised {tensor.ByteLength}");
        }
    }
}
