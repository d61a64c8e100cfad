using Ellsa.Kernels.Backend;

namespace Ellsa.Kernels.Cpu.Jobs;

/// <summary>Dot products of any run of a matrix's rows with one activation row, across its parts of either dtype.</summary>
internal static unsafe class MatrixRows
{
    /// <summary>dst[i] = row (first + i) · x for i below count; split is x in <see cref="DotKernels.SplitEvenOdd"/> order.</summary>
    public static void Dot(CpuIsa isa, CpuMatrix matrix, int first, int count, float* x, float* split, float* dst)
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
            int r = 0;
            if (part.Dtype == WeightDtype.BF16)
            {
                ushort* w = (ushort*)part.Data + (long)skip * k;
                for (; r + 8 <= rows; r += 8)
                    DotKernels.Bf16Rows8(isa, w + (long)r * k, k, x, split, k, dst + r);
                for (; r + 4 <= rows; r += 4)
                    DotKernels.Bf16Rows4(isa, w + (long)r * k, k, x, split, k, dst + r);
                for (; r < rows; r++)
                    dst[r] = DotKernels.Bf16Row(isa, w + (long)r * k, x, split, k);
            }
            else
            {
                float* w = (float*)part.Data + (long)skip * k;
                for (; r + 4 <= rows; r += 4)
                    DotKernels.F32Rows4(isa, w + (long)r * k, k, x, k, dst + r);
                for (; r < rows; r++)
                    dst[r] = DotKernels.F32Row(isa, w + (long)r * k, x, k);
            }
            dst += rows;
            count -= rows;
            skip = 0;
        }
    }
}
