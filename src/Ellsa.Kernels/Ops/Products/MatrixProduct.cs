using Ellsa.Kernels.Backend;

namespace Ellsa.Kernels.Ops.Products;

/// <summary>
/// The product of two activations, batched: output[z, i, j] = scale · Σ_c a[z, i, c] · b[z, j, c]
/// (torch.matmul(a, bᵀ) per batch entry, fp32 accumulation). The weight GEMM multiplies
/// activations by a stored matrix; this multiplies two views computed in the same pass, as
/// espnet's relative-position attention does with its queries and the projected position table
/// (one batch entry per head).
/// <para>
/// Contract: a [B, M, K], b [B, N, K] and output [B, M, N] views with any strides (an operand may
/// broadcast, the output may not), the output overlapping neither operand.
/// </para>
/// </summary>
public static class MatrixProduct
{
    public static void Check(in TensorView a, in TensorView b, in TensorView output)
    {
        if (a.Rank != 3 || b.Rank != 3 || output.Rank != 3)
            throw new ArgumentException($"a matrix product takes a [B, M, K], b [B, N, K] and output [B, M, N]; got {a}, {b}, {output}");
        if (a.Dim(0) != b.Dim(0) || output.Dim(0) != a.Dim(0) || a.Dim(2) != b.Dim(2) || output.Dim(1) != a.Dim(1) || output.Dim(2) != b.Dim(1))
            throw new ArgumentException($"matrix product shapes disagree: a {a}, b {b}, output {output}");
        for (int axis = 0; axis < 3; axis++)
        {
            if (output.Layout.Stride(axis) == 0 && output.Dim(axis) > 1)
                throw new ArgumentException($"matrix product: the output {output} is broadcast along axis {axis}; each element must be written once");
        }
        if (output.Count > int.MaxValue)
            throw new ArgumentException($"matrix product: {output.Count} outputs exceed one launch");
    }

    /// <summary>The definition in double precision over host buffers laid out as the views say.</summary>
    public static void Reference(ReadOnlySpan<float> a, ViewLayout la, ReadOnlySpan<float> b, ViewLayout lb, Span<float> output, ViewLayout lo, float scale)
    {
        for (int z = 0; z < la.D0; z++)
        {
            for (int i = 0; i < la.D1; i++)
            {
                for (int j = 0; j < lb.D1; j++)
                {
                    double sum = 0;
                    for (int c = 0; c < la.D2; c++)
                        sum += (double)a[la.Offset + z * la.S0 + i * la.S1 + c * la.S2] * b[lb.Offset + z * lb.S0 + j * lb.S1 + c * lb.S2];
                    output[lo.Offset + z * lo.S0 + i * lo.S1 + j * lo.S2] = (float)(sum * scale);
                }
            }
        }
    }
}
