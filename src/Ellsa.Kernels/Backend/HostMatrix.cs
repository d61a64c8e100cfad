namespace Ellsa.Kernels.Backend;

/// <summary>How a weight matrix's rows are stored. F16 checkpoints are widened to F32 at load (exactly).</summary>
public enum WeightDtype
{
    BF16,
    F32,
    /// <summary>Block-quantised int8 (<see cref="Numerics.Q8Format"/>): int8 values in Data, one fp16 scale per 32 in Scales.</summary>
    Q8,
    /// <summary>bf16 values packed losslessly to 12 bits (<see cref="Numerics.PackedBf16"/>), held by <see cref="MatrixPart.Packed"/>; the CPU backend's format.</summary>
    PackedBf16,
}

/// <summary>A run of rows of one dtype in host memory (a memory-mapped tensor or a buffer the loader made).</summary>
public readonly unsafe struct MatrixPart
{
    public MatrixPart(void* data, WeightDtype dtype, int rows, int cols)
    {
        if (rows < 0 || cols < 0)
            throw new ArgumentOutOfRangeException(nameof(rows), $"a matrix part cannot be {rows}×{cols}");
        if (dtype == WeightDtype.Q8)
            throw new ArgumentException("a Q8 part needs its scales; use the constructor that takes them", nameof(dtype));
        Data = data;
        Dtype = dtype;
        Rows = rows;
        Cols = cols;
    }

    /// <summary>A Q8 part: <paramref name="quants"/> [rows, cols] int8 and <paramref name="scales"/> [rows, ⌈cols/32⌉] fp16.</summary>
    public MatrixPart(sbyte* quants, ushort* scales, int rows, int cols)
    {
        if (rows < 0 || cols < 0)
            throw new ArgumentOutOfRangeException(nameof(rows), $"a matrix part cannot be {rows}×{cols}");
        Data = quants;
        Scales = scales;
        Dtype = WeightDtype.Q8;
        Rows = rows;
        Cols = cols;
    }

    /// <summary>Packed bf16 rows (the CPU backend's lossless 12-bit format); the part does not own them.</summary>
    public MatrixPart(PackedBf16Rows packed)
    {
        Packed = packed;
        Data = packed.Bytes;
        Dtype = WeightDtype.PackedBf16;
        Rows = packed.Rows;
        Cols = packed.Cols;
    }

    public void* Data { get; }
    /// <summary>The rows of a <see cref="WeightDtype.PackedBf16"/> part (null otherwise).</summary>
    public PackedBf16Rows? Packed { get; }
    /// <summary>The fp16 block scales of a Q8 part (null otherwise).</summary>
    public ushort* Scales { get; }
    public WeightDtype Dtype { get; }
    public int Rows { get; }
    public int Cols { get; }
    /// <summary>Bytes per value as the row chunks count them (packed bf16 rows count as bf16 ones).</summary>
    public int ElementBytes => Dtype switch { WeightDtype.BF16 or WeightDtype.PackedBf16 => 2, WeightDtype.Q8 => 1, _ => 4 };
    public long ByteSize => Dtype switch
    {
        WeightDtype.Q8 => (long)Rows * Cols + (long)Rows * Numerics.Q8Format.BlocksPerRow(Cols) * 2,
        WeightDtype.PackedBf16 => Packed!.ByteSize,
        _ => (long)Rows * Cols * ElementBytes,
    };
}

/// <summary>
/// A [rows, cols] weight matrix made of row blocks that may differ in dtype: fused q|k|v or
/// gate|up projections, and the speech table's original rows followed by its extra rows.
/// </summary>
public sealed class HostMatrix
{
    public HostMatrix(string name, IReadOnlyList<MatrixPart> parts)
    {
        if (parts.Count == 0)
            throw new ArgumentException($"{name}: a matrix needs at least one part", nameof(parts));
        int cols = parts[0].Cols;
        long rows = 0;
        foreach (var part in parts)
        {
            if (part.Cols != cols)
                throw new ArgumentException($"{name}: parts disagree on the column count ({part.Cols} vs {cols})");
            rows += part.Rows;
        }
        if (rows > int.MaxValue)
            throw new ArgumentException($"{name}: {rows} rows exceed what one matrix may hold");
        Name = name;
        Parts = parts.ToArray();
        Rows = (int)rows;
        Cols = cols;
    }

    public string Name { get; }
    public IReadOnlyList<MatrixPart> Parts { get; }
    public int Rows { get; }
    public int Cols { get; }
    public long ByteSize => Parts.Sum(p => p.ByteSize);
}

/// <summary>An inclusive range of vocabulary ids, used to restrict an argmax.</summary>
public readonly record struct IdRange(int First, int Last)
{
    public static IdRange Single(int id) => new(id, id);
}
