using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Numerics;

namespace Ellsa.Kernels.Cpu.Jobs;

/// <summary>
/// One activation row in each form a row kernel reads: plain fp32 (fp32 rows, and tails), split
/// into even/odd order (<see cref="DotKernels.SplitEvenOdd"/>, for bf16 rows) and quantised (row
/// <see cref="QuantizedRow"/> of <see cref="Quantized"/>, for Q8 rows). <see cref="SingleToken"/>
/// says the product has this one row (a decode step): its weights then stream from memory once,
/// and each row is read alone in address order; with several rows the weights come from cache and
/// the multi-row kernels share each activation load.
/// </summary>
internal readonly unsafe struct ActivationRow(float* x, float* split, Q8Activations? quantized, int quantizedRow, bool singleToken)
{
    public readonly float* X = x;
    public readonly float* Split = split;
    public readonly Q8Activations? Quantized = quantized;
    public readonly int QuantizedRow = quantizedRow;
    public readonly bool SingleToken = singleToken;
}

/// <summary>Dot products of any run of a matrix's rows with one activation row, across its parts of any dtype.</summary>
internal static unsafe class MatrixRows
{
    /// <summary>dst[i] = row (first + i) · x for i below count.</summary>
    public static void Dot(CpuIsa isa, CpuMatrix matrix, int first, int count, in ActivationRow x, float* dst)
    {
        int k = matrix.Cols;
        int skip = first;
        foreach (var part in matrix.Parts)
        {
            if (count == 0)
                return;
            if (skip >= part.Rows)
            {
                skip -= part.Rows;
                continue;
            }
            int rows = Math.Min(count, part.Rows - skip);
            switch (part.Dtype)
            {
                case WeightDtype.BF16:
                    Bf16(isa, (ushort*)part.Data + (long)skip * k, rows, k, x, dst);
                    break;
                case WeightDtype.PackedBf16:
                    for (int r = 0; r < rows; r++)
                        dst[r] = PackedBf16Kernels.Row(isa, part.Packed!, skip + r, x.X, x.Split);
                    break;
                case WeightDtype.Q8:
                    Q8(isa, (sbyte*)part.Data + (long)skip * k, part.Scales + (long)skip * Q8Format.BlocksPerRow(k), rows, x, dst);
                    break;
                default:
                    F32(isa, (float*)part.Data + (long)skip * k, rows, k, x, dst);
                    break;
            }
            dst += rows;
            count -= rows;
            skip = 0;
        }
    }

    private static void Bf16(CpuIsa isa, ushort* w, int rows, int k, in ActivationRow x, float* dst)
    {
        int r = 0;
        if (!x.SingleToken)
        {
            for (; r + 8 <= rows; r += 8)
                DotKernels.Bf16Rows8(isa, w + (long)r * k, k, x.X, x.Split, k, dst + r);
        }
        for (; r < rows; r++)
            dst[r] = DotKernels.Bf16Row(isa, w + (long)r * k, x.X, x.Split, k);
    }

    private static void F32(CpuIsa isa, float* w, int rows, int k, in ActivationRow x, float* dst)
    {
        int r = 0;
        if (!x.SingleToken)
        {
            for (; r + 4 <= rows; r += 4)
                DotKernels.F32Rows4(isa, w + (long)r * k, k, x.X, k, dst + r);
        }
        for (; r < rows; r++)
            dst[r] = DotKernels.F32Row(isa, w + (long)r * k, x.X, k);
    }

    private static void Q8(CpuIsa isa, sbyte* w, ushort* scales, int rows, in ActivationRow x, float* dst)
    {
        var quantized = x.Quantized ?? throw new InvalidOperationException("a Q8 product needs its activations quantised");
        int k = quantized.Cols, blocks = quantized.Blocks;
        var path = Q8Paths.For(isa);
        float* combined = stackalloc float[blocks];
        for (int r = 0; r < rows; r++)
            dst[r] = Q8DotKernels.Row(path, w + (long)r * k, scales + (long)r * blocks, quantized, x.QuantizedRow, combined);
    }
}
