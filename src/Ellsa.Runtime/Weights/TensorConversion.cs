using System.Numerics.Tensors;
using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;
using Ellsa.Kernels.Numerics;
using Ellsa.Runtime.Checkpoints;
using Ellsa.Runtime.Moe;

namespace Ellsa.Runtime.Weights;

/// <summary>Turns stored tensors into what the kernels take: bf16 and f32 in place, everything else widened to f32.</summary>
internal static unsafe class TensorConversion
{
    public static float[] ReadVector(StoredTensor tensor)
    {
        long count = tensor.Entry.ElementCount;
        if (count > Array.MaxLength)
            throw new CheckpointException(tensor.FileName, tensor.Name, $"{count} values are too many for a vector");
        var result = new float[count];
        fixed (float* destination = result)
            Widen(tensor, destination, count);
        return result;
    }

    /// <summary>Writes the tensor's values as f32 into <paramref name="destination"/>.</summary>
    public static void Widen(StoredTensor tensor, float* destination, long count)
    {
        byte* source = tensor.File.DataPointer(tensor.Entry);
        switch (tensor.Entry.Dtype)
        {
            case SafetensorsDtype.F32:
                Buffer.MemoryCopy(source, destination, count * 4, count * 4);
                break;
            case SafetensorsDtype.BF16:
                for (long i = 0; i < count; i++)
                    destination[i] = BFloat16.ToSingle(((ushort*)source)[i]);
                break;
            case SafetensorsDtype.F16:
                for (long i = 0; i < count; i++)
                    destination[i] = (float)((Half*)source)[i];
                break;
            default:
                throw new CheckpointException(tensor.FileName, tensor.Name, $"dtype {tensor.Entry.Dtype} cannot be used as a weight");
        }
    }

    /// <summary>A matrix part over the stored tensor: zero-copy for BF16/F32, an owned f32 copy for F16.</summary>
    public static MatrixPart Matrix(StoredTensor tensor, List<IDisposable> owned) =>
        Matrix(tensor, checked((int)tensor.Entry.Shape[0]), checked((int)tensor.Entry.Shape[1]), owned);

    /// <summary>The same over a tensor of any rank seen as [rows, cols] (a conv weight [out, in, k…] as [out, taps]).</summary>
    public static MatrixPart Matrix(StoredTensor tensor, int rows, int cols, List<IDisposable> owned)
    {
        switch (tensor.Entry.Dtype)
        {
            case SafetensorsDtype.BF16:
                return new MatrixPart(tensor.File.DataPointer(tensor.Entry), WeightDtype.BF16, rows, cols);
            case SafetensorsDtype.F32:
                return new MatrixPart(tensor.File.DataPointer(tensor.Entry), WeightDtype.F32, rows, cols);
            default:
                var buffer = new NativeArray<float>((long)rows * cols, zero: false);
                owned.Add(buffer);
                Widen(tensor, buffer.Pointer, (long)rows * cols);
                return new MatrixPart(buffer.Pointer, WeightDtype.F32, rows, cols);
        }
    }

    /// <summary>
    /// The part in memory of its own when it still lies in the checkpoint's mapping: the decode's
    /// products stream every weight once per token, and an owned buffer sits on huge pages
    /// (<see cref="HugePages"/>) where a file mapping has 4 KiB pages. The file's pages stay
    /// behind as page cache the kernel may reclaim.
    /// </summary>
    public static MatrixPart Owned(MatrixPart part, StoredTensor source, StoredTensor? q8Scales, List<IDisposable> owned)
    {
        if (!InMapping(part, source))
            return part;
        switch (part.Dtype)
        {
            case WeightDtype.BF16 or WeightDtype.F32:
                return new MatrixPart(Copy(part.Data, source.Entry.ByteLength, owned), part.Dtype, part.Rows, part.Cols);
            case WeightDtype.Q8 when q8Scales is not null:
                return new MatrixPart((sbyte*)Copy(part.Data, source.Entry.ByteLength, owned),
                    (ushort*)Copy(part.Scales, q8Scales.Entry.ByteLength, owned), part.Rows, part.Cols);
            default:
                return part;
        }
    }

    /// <summary>Whether the part reads its values in place from the stored tensor's file mapping.</summary>
    public static bool InMapping(MatrixPart part, StoredTensor source) => part.Data == source.File.DataPointer(source.Entry);

    private static byte* Copy(void* data, long bytes, List<IDisposable> owned)
    {
        var buffer = new NativeArray<byte>(bytes, zero: false);
        owned.Add(buffer);
        Buffer.MemoryCopy(data, buffer.Pointer, bytes, bytes);
        return buffer.Pointer;
    }

    /// <summary>
    /// W + scaling · B · A, accumulated in f32 before any rounding (00-design.md §3). The result
    /// stays f32 unless bf16 storage was asked for, in which case it is rounded once at the end.
    /// </summary>
    public static MatrixPart MergeLora(StoredTensor weight, StoredTensor loraA, StoredTensor loraB, double scaling, bool roundToBf16, List<IDisposable> owned)
    {
        int rows = checked((int)weight.Entry.Shape[0]);
        int cols = checked((int)weight.Entry.Shape[1]);
        int rank = checked((int)loraA.Entry.Shape[0]);
        var merged = new NativeArray<float>((long)rows * cols, zero: false);
        Widen(weight, merged.Pointer, (long)rows * cols);
        var a = new float[(long)rank * cols];
        var b = new float[(long)rows * rank];
        fixed (float* pa = a)
            Widen(loraA, pa, a.Length);
        fixed (float* pb = b)
            Widen(loraB, pb, b.Length);

        float* m = merged.Pointer;
        float scale = (float)scaling;
        if (!float.IsFinite(scale))
        {
            merged.Dispose();
            throw new CheckpointException(weight.FileName, weight.Name,
                $"its LoRA scaling alpha/r = {scaling:G6} overflows float32; check ellsa.json lora.alpha and lora.r");
        }
        // An overflowing merge would load fine and decode garbage: find it here and name the tensor.
        int firstBadRow = int.MaxValue;
        Parallel.For(0, rows, row =>
        {
            var target = new Span<float>(m + (long)row * cols, cols);
            for (int k = 0; k < rank; k++)
            {
                float coefficient = scale * b[(long)row * rank + k];
                if (coefficient != 0)
                    TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(a, k * cols, cols), coefficient, target, target);
            }
            if (FiniteValues.FirstNonFinite(target) >= 0)
                InterlockedMin(ref firstBadRow, row);
        });
        if (firstBadRow != int.MaxValue)
        {
            merged.Dispose();
            throw new CheckpointException(weight.FileName, weight.Name,
                $"W + (alpha/r)·B·A with alpha/r = {scaling:G6} is not finite in row {firstBadRow} (the weights or the LoRA overflow float32); check ellsa.json lora.alpha and lora.r");
        }

        if (!roundToBf16)
        {
            owned.Add(merged);
            return new MatrixPart(merged.Pointer, WeightDtype.F32, rows, cols);
        }
        var rounded = new NativeArray<ushort>((long)rows * cols, zero: false);
        owned.Add(rounded);
        for (long i = 0; i < (long)rows * cols; i++)
            rounded.Pointer[i] = BFloat16.FromSingle(m[i]);
        merged.Dispose();
        return new MatrixPart(rounded.Pointer, WeightDtype.BF16, rows, cols);
    }

    /// <summary>Lowers <paramref name="target"/> to <paramref name="value"/> atomically (the first bad index found by parallel workers).</summary>
    internal static void InterlockedMin(ref int target, int value)
    {
        int seen = Volatile.Read(ref target);
        while (value < seen)
        {
            int previous = Interlocked.CompareExchange(ref target, value, seen);
            if (previous == seen)
                return;
            seen = previous;
        }
    }

    /// <summary>Reads one byte per page so the first decode step does not pay for page faults.</summary>
    public static void Prefault(StoredTensor tensor)
    {
        byte* data = tensor.File.DataPointer(tensor.Entry);
        long length = tensor.Entry.ByteLength;
        int sink = 0;
        for (long offset = 0; offset < length; offset += 4096)
            sink += data[offset];
        GC.KeepAlive(sink);
    }
}
