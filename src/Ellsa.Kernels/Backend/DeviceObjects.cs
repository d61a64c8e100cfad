namespace Ellsa.Kernels.Backend;

/// <summary>fp32 activations, [Rows, Cols] row-major, owned by one backend.</summary>
public abstract class DeviceTensor : IDisposable
{
    protected DeviceTensor(int rows, int cols)
    {
        Rows = rows;
        Cols = cols;
    }

    public int Rows { get; }
    public int Cols { get; }

    public TensorSlice All => new(this, 0, Rows, 0, Cols);
    public TensorSlice RowRange(int row, int rows) => new(this, row, rows, 0, Cols);

    public abstract void Dispose();
}

/// <summary>A region of a <see cref="DeviceTensor"/>: rows [Row, Row+Rows) × columns [Col, Col+Cols).</summary>
public readonly struct TensorSlice
{
    public TensorSlice(DeviceTensor tensor, int row, int rows, int col, int cols)
    {
        if (row < 0 || rows < 0 || row + rows > tensor.Rows || col < 0 || cols < 0 || col + cols > tensor.Cols)
            throw new ArgumentOutOfRangeException(nameof(row),
                $"slice rows [{row},{row + rows}) × cols [{col},{col + cols}) is outside a {tensor.Rows}×{tensor.Cols} tensor");
        Tensor = tensor;
        Row = row;
        Rows = rows;
        Col = col;
        Cols = cols;
    }

    public DeviceTensor Tensor { get; }
    public int Row { get; }
    public int Rows { get; }
    public int Col { get; }
    public int Cols { get; }

    public TensorSlice Columns(int col, int cols) => new(Tensor, Row, Rows, Col + col, cols);
    public TensorSlice RowRange(int row, int rows) => new(Tensor, Row + row, rows, Col, Cols);
}

/// <summary>A weight matrix resident on the backend.</summary>
public abstract class DeviceMatrix : IDisposable
{
    protected DeviceMatrix(string name, int rows, int cols, long byteSize)
    {
        Name = name;
        Rows = rows;
        Cols = cols;
        ByteSize = byteSize;
    }

    public string Name { get; }
    public int Rows { get; }
    public int Cols { get; }
    /// <summary>Bytes a full pass over the matrix reads: the unit of the bandwidth floor.</summary>
    public long ByteSize { get; }
    public abstract void Dispose();
}

/// <summary>fp32 parameters resident on the backend (norm weights, biases).</summary>
public abstract class DeviceVector : IDisposable
{
    protected DeviceVector(int length) => Length = length;
    public int Length { get; }
    public abstract void Dispose();
}

/// <summary>int32 values resident on the backend (token ids, positions).</summary>
public abstract class DeviceIndices : IDisposable
{
    protected DeviceIndices(int length) => Length = length;
    public int Length { get; }
    public abstract void Dispose();
}

/// <summary>One K/V store shared by both experts: [layer][kv head][position][head dim], keys after RoPE.</summary>
public abstract class DeviceKvCache : IDisposable
{
    protected DeviceKvCache(int layers, int kvHeads, int headDim, int capacity, long byteSize)
    {
        Layers = layers;
        KvHeads = kvHeads;
        HeadDim = headDim;
        Capacity = capacity;
        ByteSize = byteSize;
    }

    public int Layers { get; }
    public int KvHeads { get; }
    public int HeadDim { get; }
    /// <summary>Positions the cache holds; position p lives in slot p.</summary>
    public int Capacity { get; }
    public long ByteSize { get; }
    public abstract void Dispose();
}

/// <summary>cos/sin of position × inverse frequency for one expert, for positions below Capacity.</summary>
public abstract class DeviceRopeTable : IDisposable
{
    protected DeviceRopeTable(int capacity, int halfDim)
    {
        Capacity = capacity;
        HalfDim = halfDim;
    }

    public int Capacity { get; }
    public int HalfDim { get; }
    public abstract void Dispose();
}
