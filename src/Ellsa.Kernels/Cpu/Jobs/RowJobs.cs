using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Numerics;

namespace Ellsa.Kernels.Cpu.Jobs;

/// <summary>Row-wise work split into blocks of rows; subclasses say what one row gets.</summary>
internal abstract class RowJob : IParallelWork
{
    public int Rows;
    public int RowsPerChunk = 1;

    public int ChunkCount => (Rows + RowsPerChunk - 1) / RowsPerChunk;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int chunk, int worker)
    {
        int end = Math.Min(Rows, (chunk + 1) * RowsPerChunk);
        for (int r = chunk * RowsPerChunk; r < end; r++)
            Row(r);
    }

    protected abstract void Row(int row);

    /// <summary>Rows per chunk so that one chunk is worth waking a thread for.</summary>
    public void Plan(int rows, int elementsPerRow)
    {
        Rows = rows;
        RowsPerChunk = Math.Max(1, 16384 / Math.Max(1, elementsPerRow));
    }
}

internal sealed unsafe class RmsNormJob : RowJob
{
    public float* Source;
    public int SourceStride;
    public float* Destination;
    public int DestinationStride;
    public float* Weight;
    public int Width;
    public float Eps;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Row(int row)
    {
        var x = new ReadOnlySpan<float>(Source + (long)row * SourceStride, Width);
        var y = new Span<float>(Destination + (long)row * DestinationStride, Width);
        float meanSquare = TensorPrimitives.SumOfSquares(x) / Width;
        float scale = 1f / MathF.Sqrt(meanSquare + Eps);
        TensorPrimitives.Multiply(x, scale, y);
        TensorPrimitives.Multiply(y, new ReadOnlySpan<float>(Weight, Width), y);
    }
}

internal sealed unsafe class RopeJob : RowJob
{
    public float* Heads;
    public int Stride;
    public int HeadCount;
    public int HeadDim;
    public int[] Positions = null!;
    public int PositionOffset;
    public CpuRopeTable Table = null!;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Row(int row)
    {
        int position = Positions[PositionOffset + row];
        if (position < 0 || position >= Table.Capacity)
            throw new InvalidOperationException($"RoPE at position {position} is outside the table (capacity {Table.Capacity})");
        int half = HeadDim / 2;
        float* cos = Table.Cos.Pointer + (long)position * Table.HalfDim;
        float* sin = Table.Sin.Pointer + (long)position * Table.HalfDim;
        for (int h = 0; h < HeadCount; h++)
        {
            float* x = Heads + (long)row * Stride + h * HeadDim;
            for (int i = 0; i < half; i++)
            {
                float a = x[i];
                float b = x[i + half];
                x[i] = a * cos[i] - b * sin[i];
                x[i + half] = b * cos[i] + a * sin[i];
            }
        }
    }
}

internal sealed unsafe class SwiGluJob : RowJob
{
    public float* GateUp;
    public int GateUpStride;
    public float* Output;
    public int OutputStride;
    public int Width;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Row(int row)
    {
        var gate = new ReadOnlySpan<float>(GateUp + (long)row * GateUpStride, Width);
        var up = new ReadOnlySpan<float>(GateUp + (long)row * GateUpStride + Width, Width);
        var y = new Span<float>(Output + (long)row * OutputStride, Width);
        TensorPrimitives.Sigmoid(gate, y);
        TensorPrimitives.Multiply(y, gate, y);
        TensorPrimitives.Multiply(y, up, y);
    }
}

internal sealed unsafe class EmbedJob : RowJob
{
    public CpuMatrix Table = null!;
    public int[] Ids = null!;
    public int IdOffset;
    public float* Destination;
    public int DestinationStride;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Row(int row)
    {
        int id = Ids[IdOffset + row];
        if (id < 0 || id >= Table.Rows)
            throw new ArgumentOutOfRangeException(nameof(id), $"token id {id} is outside {Table.Name} ({Table.Rows} rows)");
        int local = Table.Locate(id, out var part);
        int cols = part.Cols;
        float* y = Destination + (long)row * DestinationStride;
        if (part.Dtype == WeightDtype.BF16)
        {
            ushort* src = (ushort*)part.Data + (long)local * cols;
            for (int i = 0; i < cols; i++)
                y[i] = BFloat16.ToSingle(src[i]);
        }
        else
        {
            new ReadOnlySpan<float>((float*)part.Data + (long)local * cols, cols).CopyTo(new Span<float>(y, cols));
        }
    }
}
