using System.Text;

namespace Ellsa.Perf.LlamaCpp;

/// <summary>ggml's tensor types this project writes (values from ggml.h).</summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q8_0 = 8,
    BF16 = 30,
}

/// <summary>
/// A GGUF v3 file: the header, key/value metadata, tensor descriptors and the tensors' data,
/// each tensor aligned to <see cref="Alignment"/> bytes. Tensors are described first and
/// their bytes produced only while writing, so a multi-gigabyte model is never held twice.
/// </summary>
public sealed class GgufWriter
{
    public const int Alignment = 32;

    private enum ValueType : uint
    {
        UInt32 = 4,
        Int32 = 5,
        Float32 = 6,
        String = 8,
        Array = 9,
    }

    private readonly List<Action<BinaryWriter>> _metadata = [];
    private readonly List<Tensor> _tensors = [];

    private sealed record Tensor(string Name, long[] Shape, GgmlType Type, long Bytes, Action<Stream> Write);

    public void Add(string key, string value) => _metadata.Add(w => { Key(w, key, ValueType.String); Text(w, value); });

    public void Add(string key, uint value) => _metadata.Add(w => { Key(w, key, ValueType.UInt32); w.Write(value); });

    public void Add(string key, float value) => _metadata.Add(w => { Key(w, key, ValueType.Float32); w.Write(value); });

    public void Add(string key, IReadOnlyList<string> values) => _metadata.Add(w =>
    {
        Key(w, key, ValueType.Array);
        w.Write((uint)ValueType.String);
        w.Write((ulong)values.Count);
        foreach (var v in values)
            Text(w, v);
    });

    public void Add(string key, IReadOnlyList<float> values) => _metadata.Add(w =>
    {
        Key(w, key, ValueType.Array);
        w.Write((uint)ValueType.Float32);
        w.Write((ulong)values.Count);
        foreach (var v in values)
            w.Write(v);
    });

    public void Add(string key, IReadOnlyList<int> values) => _metadata.Add(w =>
    {
        Key(w, key, ValueType.Array);
        w.Write((uint)ValueType.Int32);
        w.Write((ulong)values.Count);
        foreach (var v in values)
            w.Write(v);
    });

    /// <param name="shape">ggml order: the contiguous dimension first (a [rows, cols] matrix is {cols, rows}).</param>
    /// <param name="write">Writes exactly <see cref="TensorBytes"/> of the shape and type.</param>
    public void AddTensor(string name, long[] shape, GgmlType type, Action<Stream> write) =>
        _tensors.Add(new Tensor(name, shape, type, TensorBytes(shape, type), write));

    /// <summary>Bytes a tensor of this shape and type occupies (Q8_0: 34-byte blocks of 32 values along the first dimension).</summary>
    public static long TensorBytes(long[] shape, GgmlType type)
    {
        long rows = 1;
        for (int i = 1; i < shape.Length; i++)
            rows *= shape[i];
        long n = shape[0];
        return type switch
        {
            GgmlType.F32 => 4 * n * rows,
            GgmlType.F16 or GgmlType.BF16 => 2 * n * rows,
            GgmlType.Q8_0 when n % 32 == 0 => n / 32 * 34 * rows,
            GgmlType.Q8_0 => throw new ArgumentException($"Q8_0 rows need a multiple of 32 values, not {n}"),
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unsupported ggml type"),
        };
    }

    public void Write(string path)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        using var w = new BinaryWriter(file, Encoding.UTF8, leaveOpen: true);
        w.Write("GGUF"u8);
        w.Write(3u);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_metadata.Count);
        foreach (var item in _metadata)
            item(w);
        long offset = 0;
        foreach (var t in _tensors)
        {
            Text(w, t.Name);
            w.Write((uint)t.Shape.Length);
            foreach (long d in t.Shape)
                w.Write((ulong)d);
            w.Write((uint)t.Type);
            w.Write((ulong)offset);
            offset = Align(offset + t.Bytes);
        }
        w.Flush();
        Pad(file);
        long dataStart = file.Position;
        foreach (var t in _tensors)
        {
            long before = file.Position;
            t.Write(file);
            if (file.Position - before != t.Bytes)
                throw new InvalidOperationException($"{t.Name}: wrote {file.Position - before} bytes, its shape and type take {t.Bytes}");
            Pad(file);
        }
        if (file.Position - dataStart != offset)
            throw new InvalidOperationException("tensor data does not end where the descriptors say");
    }

    private static long Align(long n) => (n + Alignment - 1) / Alignment * Alignment;

    private static void Pad(Stream file)
    {
        long padding = Align(file.Position) - file.Position;
        for (long i = 0; i < padding; i++)
            file.WriteByte(0);
    }

    private static void Key(BinaryWriter w, string key, ValueType type)
    {
        Text(w, key);
        w.Write((uint)type);
    }

    private static void Text(BinaryWriter w, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }
}
