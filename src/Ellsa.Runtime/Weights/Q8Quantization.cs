using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;
using Ellsa.Kernels.Numerics;
using Ellsa.Runtime.Checkpoints;

namespace Ellsa.Runtime.Weights;

/// <summary>
/// Q8 matrix parts for the loader: quantised now from a bf16/f32 part (the <c>--weights q8</c>
/// load), or taken in place from a converted checkpoint's I8 tensor and its F16 <c>.q8_scale</c>.
/// </summary>
internal static unsafe class Q8Quantization
{
    /// <summary>Quantises every row of <paramref name="part"/> into buffers added to <paramref name="owned"/>.</summary>
    public static MatrixPart Quantize(MatrixPart part, StoredTensor source, List<IDisposable> owned) =>
        Quantize(part, source.FileName, source.Name, owned);

    /// <summary>The same for a part that is not a checkpoint tensor (errors name <paramref name="file"/> and <paramref name="tensor"/>).</summary>
    public static MatrixPart Quantize(MatrixPart part, string file, string tensor, List<IDisposable> owned)
    {
        if (part.Dtype == WeightDtype.Q8)
            return part;
        int rows = part.Rows, cols = part.Cols, blocks = Q8Format.BlocksPerRow(cols);
        var quants = new NativeArray<sbyte>((long)rows * cols, zero: false);
        var scales = new NativeArray<ushort>((long)rows * blocks, zero: false);
        sbyte* q = quants.Pointer;
        ushort* s = scales.Pointer;
        int firstBad = int.MaxValue;
        Parallel.For(0, rows, () => new float[cols], (row, _, buffer) =>
        {
            if (part.Dtype == WeightDtype.BF16)
                BFloat16.ToSingle(new ReadOnlySpan<ushort>((ushort*)part.Data + (long)row * cols, cols), buffer);
            else
                new ReadOnlySpan<float>((float*)part.Data + (long)row * cols, cols).CopyTo(buffer);
            var rowScales = new Span<ushort>(s + (long)row * blocks, blocks);
            Q8Format.QuantizeRow(buffer, new Span<sbyte>(q + (long)row * cols, cols), rowScales);
            if (!AllFinite(rowScales))
                TensorConversion.InterlockedMin(ref firstBad, row);
            return buffer;
        }, _ => { });
        if (firstBad != int.MaxValue)
        {
            quants.Dispose();
            scales.Dispose();
            throw new CheckpointException(file, tensor,
                $"row {firstBad} cannot be quantised to q8: it holds a non-finite value or one beyond 127 × 65504 (the fp16 block scale overflows)");
        }
        owned.Add(quants);
        owned.Add(scales);
        return new MatrixPart(q, s, rows, cols);
    }

    /// <summary>A converted checkpoint's tensor pair, used in place after checking the values the kernels rely on.</summary>
    public static MatrixPart Stored(StoredTensor quants, StoredTensor scales)
    {
        int rows = checked((int)quants.Entry.Shape[0]);
        int cols = checked((int)quants.Entry.Shape[1]);
        var q = (sbyte*)quants.File.DataPointer(quants.Entry);
        var s = (ushort*)scales.File.DataPointer(scales.Entry);
        // The kernels move the activation's sign onto the weight; -128 has no positive twin.
        long count = (long)rows * cols;
        for (long i = 0; i < count; i++)
        {
            if (q[i] < -Q8Format.MaxQuant)
                throw new CheckpointException(quants.FileName, quants.Name,
                    $"value -128 at row {i / cols}, column {i % cols}; q8 values must lie in [-127, 127]");
        }
        var all = new ReadOnlySpan<ushort>(s, checked((int)scales.Entry.ElementCount));
        if (!AllFinite(all))
            throw new CheckpointException(scales.FileName, scales.Name, "holds a non-finite block scale");
        return new MatrixPart(q, s, rows, cols);
    }

    private static bool AllFinite(ReadOnlySpan<ushort> halves)
    {
        foreach (ushort h in halves)
        {
            if ((h & 0x7C00) == 0x7C00)
                return false;
        }
        return true;
    }
}
