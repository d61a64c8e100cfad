using Ellsa.Kernels.Backend;

namespace Ellsa.Kernels.Cpu;

internal sealed unsafe class CpuTensor : DeviceTensor
{
    public readonly NativeArray<float> Storage;

    public CpuTensor(int rows, int cols) : base(rows, cols) => Storage = new NativeArray<float>((long)rows * cols);

    public float* At(TensorSlice slice) => Storage.Pointer + (long)slice.Row * Cols + slice.Col;

    public override void Dispose() => Storage.Dispose();
}

internal sealed class CpuVector : DeviceVector
{
    public readonly NativeArray<float> Storage;

    public CpuVector(ReadOnlySpan<float> values) : base(values.Length)
    {
        Storage = new NativeArray<float>(values.Length, zero: false);
        values.CopyTo(Storage.AsSpan(0, values.Length));
    }

    public override void Dispose() => Storage.Dispose();
}

internal sealed class CpuIndices : DeviceIndices
{
    public readonly int[] Values;

    public CpuIndices(int length) : base(length) => Values = new int[length];

    public override void Dispose() { }
}

/// <summary>fp32 K and V, [layer][kv head][slot][head dim]: a query's keys for one kv head are one contiguous run.</summary>
internal sealed unsafe class CpuKvCache : DeviceKvCache
{
    public readonly NativeArray<float> Keys;
    public readonly NativeArray<float> Values;

    public CpuKvCache(int layers, int kvHeads, int headDim, int capacity)
        : base(layers, kvHeads, headDim, capacity, 2L * layers * kvHeads * capacity * headDim * sizeof(float))
    {
        long count = (long)layers * kvHeads * capacity * headDim;
        Keys = new NativeArray<float>(count);
        Values = new NativeArray<float>(count);
    }

    public long HeadOffset(int layer, int kvHead) => ((long)layer * KvHeads + kvHead) * Capacity * HeadDim;

    public override void Dispose()
    {
        Keys.Dispose();
        Values.Dispose();
    }
}

internal sealed class CpuRopeTable : DeviceRopeTable
{
    /// <summary>[position][i] for i below HalfDim.</summary>
    public readonly NativeArray<float> Cos;
    public readonly NativeArray<float> Sin;

    public CpuRopeTable(ReadOnlySpan<double> inverseFrequencies, int capacity) : base(capacity, inverseFrequencies.Length)
    {
        Cos = new NativeArray<float>((long)capacity * HalfDim, zero: false);
        Sin = new NativeArray<float>((long)capacity * HalfDim, zero: false);
        var cos = Cos.AsSpan(0, capacity * HalfDim);
        var sin = Sin.AsSpan(0, capacity * HalfDim);
        for (int p = 0; p < capacity; p++)
        {
            for (int i = 0; i < HalfDim; i++)
            {
                double angle = p * inverseFrequencies[i];
                cos[p * HalfDim + i] = (float)Math.Cos(angle);
                sin[p * HalfDim + i] = (float)Math.Sin(angle);
            }
        }
    }

    public override void Dispose()
    {
        Cos.Dispose();
        Sin.Dispose();
    }
}

/// <summary>
/// A host matrix used in place (zero copy: memory-mapped or loader-owned), cut into row chunks
/// of about 128 KB that never straddle two parts, so each chunk has one dtype. Its parts may be
/// bf16, fp32 or Q8: every product reads each part with that dtype's row kernel (<see cref="Jobs.MatrixRows"/>).
/// </summary>
internal sealed unsafe class CpuMatrix : DeviceMatrix
{
    private const int ChunkBytes = 128 * 1024;

    public readonly MatrixPart[] Parts;
    public readonly int[] ChunkPart;
    public readonly int[] ChunkPartRow;
    public readonly int[] ChunkRows;
    public readonly int[] ChunkOutputRow;
    /// <summary>Some rows are bf16 or packed bf16: products split their activations into even/odd order.</summary>
    public readonly bool HasBf16;
    /// <summary>Some rows are Q8 or packed bf16, which only the row kernels read (the many-row product's panels take bf16 and fp32).</summary>
    public readonly bool RowKernelsOnly;
    /// <summary>Some rows are Q8: products quantise their activations (<see cref="Q8Activations"/>), and there are no packed panels.</summary>
    public readonly bool HasQ8;
    /// <summary>Every row is bf16 (the many-row product then packs the stored values without widening them).</summary>
    public readonly bool AllBf16;
    /// <summary>The widest element of any part, in bytes (how many rows make a chunk of a given size).</summary>
    public readonly int ElementBytes;

    public CpuMatrix(HostMatrix matrix) : base(matrix.Name, matrix.Rows, matrix.Cols, matrix.ByteSize)
    {
        Parts = matrix.Parts.ToArray();
        HasBf16 = Parts.Any(p => p.Dtype is WeightDtype.BF16 or WeightDtype.PackedBf16 && p.Rows > 0);
        HasQ8 = Parts.Any(p => p.Dtype == WeightDtype.Q8 && p.Rows > 0);
        RowKernelsOnly = Parts.Any(p => p.Dtype is WeightDtype.Q8 or WeightDtype.PackedBf16 && p.Rows > 0);
        AllBf16 = HasBf16 && Parts.All(p => p.Dtype == WeightDtype.BF16 || p.Rows == 0);
        ElementBytes = Parts.Max(p => p.ElementBytes);
        var part = new List<int>();
        var partRow = new List<int>();
        var rows = new List<int>();
        var outRow = new List<int>();
        int output = 0;
        for (int p = 0; p < Parts.Length; p++)
        {
            int rowBytes = Math.Max(1, Parts[p].Cols * Parts[p].ElementBytes);
            int perChunk = Math.Max(4, ChunkBytes / rowBytes / 4 * 4);
            for (int r = 0; r < Parts[p].Rows; r += perChunk)
            {
                part.Add(p);
                partRow.Add(r);
                rows.Add(Math.Min(perChunk, Parts[p].Rows - r));
                outRow.Add(output + r);
            }
            output += Parts[p].Rows;
        }
        ChunkPart = part.ToArray();
        ChunkPartRow = partRow.ToArray();
        ChunkRows = rows.ToArray();
        ChunkOutputRow = outRow.ToArray();
    }

    /// <summary>The matrix's role for <see cref="KernelTimings"/>: its name's last part ("qkv_proj", "head"), ".weight" dropped.</summary>
    public string TimingName => _timingName ??= "matmul " + (Name.EndsWith(".weight") ? Name[..^7] : Name).Split('.')[^1];
    private string? _timingName;

    /// <summary>Finds the part holding a global row; returns the row within that part.</summary>
    public int Locate(int row, out MatrixPart part)
    {
        foreach (var candidate in Parts)
        {
            if (row < candidate.Rows)
            {
                part = candidate;
                return row;
            }
            row -= candidate.Rows;
        }
        throw new ArgumentOutOfRangeException(nameof(row), $"{Name}: row is beyond its {Rows} rows");
    }

    /// <summary>The panels the many-row product or the implicit convolution packs on first use.</summary>
    internal PackedWeights? Packed;

    public override void Dispose()
    {
        Packed?.Dispose();
        Packed = null;
    }
}
