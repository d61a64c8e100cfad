using Ellsa.Kernels.Cpu;
using Ellsa.Kernels.Numerics;

namespace Ellsa.Kernels.Backend;

/// <summary>
/// A run of bf16 rows packed to 12 bits per value (<see cref="PackedBf16"/>), with each row's
/// exponent and exceptions. Made at load from a bf16 part (<see cref="Pack"/>); owns its memory.
/// </summary>
public sealed unsafe class PackedBf16Rows : IDisposable
{
    private readonly NativeArray<byte> _bytes;
    private readonly NativeArray<byte> _codes;
    private readonly NativeArray<byte> _exponents;
    private readonly NativeArray<int> _exceptionStarts;
    private readonly NativeArray<int> _exceptionColumns;
    private readonly NativeArray<ushort> _exceptionValues;

    public int Rows { get; }
    public int Cols { get; }
    public byte* Bytes => _bytes.Pointer;
    public byte* Codes => _codes.Pointer;
    /// <summary>Each row's largest exponent E (see <see cref="PackedBf16"/>).</summary>
    public byte* Exponents => _exponents.Pointer;
    /// <summary>Row r's exceptions are entries [starts[r], starts[r + 1]).</summary>
    public int* ExceptionStarts => _exceptionStarts.Pointer;
    public int* ExceptionColumns => _exceptionColumns.Pointer;
    public ushort* ExceptionValues => _exceptionValues.Pointer;
    public long Exceptions => _exceptionColumns.Length;
    public long ByteSize => _bytes.ByteSize + _codes.ByteSize + _exponents.ByteSize + _exceptionStarts.ByteSize + _exceptionColumns.ByteSize + _exceptionValues.ByteSize;

    /// <summary>Packs a bf16 part.</summary>
    public static PackedBf16Rows Pack(MatrixPart part) =>
        part.Dtype == WeightDtype.BF16 ? Pack((ushort*)part.Data, part.Rows, part.Cols) : throw new ArgumentException($"only bf16 rows can be packed, not {part.Dtype}");

    /// <summary>Packs <paramref name="rows"/> bf16 rows of <paramref name="cols"/> values (a multiple of <see cref="PackedBf16.BlockSize"/>).</summary>
    public static PackedBf16Rows Pack(ushort* data, int rows, int cols)
    {
        if (!PackedBf16.CanPack(cols))
            throw new ArgumentException($"packed bf16 rows need a multiple of {PackedBf16.BlockSize} columns, not {cols}");
        // Rows are packed in parallel into their places; exceptions are few, so each row's list is
        // kept aside and copied once every row's count is known.
        var exponents = new byte[rows];
        var exceptions = new List<int>[rows];
        var bytes = new NativeArray<byte>((long)rows * cols, zero: false);
        var codes = new NativeArray<byte>((long)rows * cols / 2, zero: false);
        try
        {
            byte* b = bytes.Pointer, c = codes.Pointer;
            Parallel.For(0, rows, r =>
            {
                var row = new ReadOnlySpan<ushort>(data + (long)r * cols, cols);
                int e = PackedBf16.RowExponent(row);
                exponents[r] = (byte)e;
                var list = new List<int>();
                PackedBf16.PackRow(row, e, new Span<byte>(b + (long)r * cols, cols), new Span<byte>(c + (long)r * cols / 2, cols / 2), list);
                exceptions[r] = list;
            });
            long total = exceptions.Sum(l => (long)l.Count);
            var packed = new PackedBf16Rows(rows, cols, total, bytes, codes);
            long at = 0;
            for (int r = 0; r < rows; r++)
            {
                packed.Exponents[r] = exponents[r];
                packed.ExceptionStarts[r] = checked((int)at);
                foreach (int column in exceptions[r])
                {
                    packed.ExceptionColumns[at] = column;
                    packed.ExceptionValues[at] = data[(long)r * cols + column];
                    at++;
                }
            }
            packed.ExceptionStarts[rows] = checked((int)at);
            return packed;
        }
        catch
        {
            bytes.Dispose();
            codes.Dispose();
            throw;
        }
    }

    private PackedBf16Rows(int rows, int cols, long exceptions, NativeArray<byte> bytes, NativeArray<byte> codes)
    {
        Rows = rows;
        Cols = cols;
        _bytes = bytes;
        _codes = codes;
        _exponents = new NativeArray<byte>(Math.Max(1, rows), zero: false);
        _exceptionStarts = new NativeArray<int>(rows + 1, zero: false);
        _exceptionColumns = new NativeArray<int>(exceptions, zero: false);
        _exceptionValues = new NativeArray<ushort>(exceptions, zero: false);
    }

    /// <summary>Row r's bf16 bits, decoded (the scalar reference: bit-identical to the packed rows).</summary>
    public void DecodeRow(int r, Span<ushort> destination)
    {
        var bytes = new ReadOnlySpan<byte>(Bytes + (long)r * Cols, Cols);
        var codes = new ReadOnlySpan<byte>(Codes + (long)r * Cols / 2, Cols / 2);
        for (int i = 0; i < Cols; i++)
            destination[i] = PackedBf16.Decode(bytes, codes, Exponents[r], i);
        for (int x = ExceptionStarts[r]; x < ExceptionStarts[r + 1]; x++)
            destination[ExceptionColumns[x]] = ExceptionValues[x];
    }

    public void Dispose()
    {
        _bytes.Dispose();
        _codes.Dispose();
        _exponents.Dispose();
        _exceptionStarts.Dispose();
        _exceptionColumns.Dispose();
        _exceptionValues.Dispose();
    }
}
