using Ellsa.Kernels.Backend;

namespace Ellsa.Kernels.Ops.Codebook;

/// <summary>
/// Nearest codebook row, the VQ quantiser's last step: for each vector x the code c minimising
/// |x − e_c|² = |x|² + |e_c|² − 2·x·e_c. |x|² is the same for every code, so a row needs only the
/// products x·e_c (the weight GEMM of the codebook, [N, codes]) and the codes' squared norms.
/// Ties go to the lowest index, as torch.argmin's first occurrence.
/// </summary>
public static class NearestCode
{
    public static void Check(TensorSlice products, in TensorView norms, int results)
    {
        if (norms.Rank != 1 || norms.Dim(0) != products.Cols || norms.Layout.S0 != 1)
            throw new ArgumentException($"nearest code: {products.Cols} codes but norms {norms} (a dense vector of one per code)");
        if (results < products.Rows)
            throw new ArgumentException($"nearest code: {products.Rows} rows into {results} results");
        if (products.Cols == 0)
            throw new ArgumentException("nearest code: an empty codebook");
    }

    /// <summary>The distances in double precision from the vectors and the codebook themselves: [N, dim] and [codes, dim], row-major.</summary>
    public static int[] Reference(ReadOnlySpan<float> vectors, ReadOnlySpan<float> codebook, int dim)
    {
        int n = vectors.Length / dim, codes = codebook.Length / dim;
        var result = new int[n];
        for (int r = 0; r < n; r++)
        {
            double best = double.PositiveInfinity;
            for (int c = 0; c < codes; c++)
            {
                double distance = 0;
                for (int i = 0; i < dim; i++)
                {
                    double diff = vectors[r * dim + i] - (double)codebook[c * dim + i];
                    distance += diff * diff;
                }
                if (distance < best)
                    (best, result[r]) = (distance, c);
            }
        }
        return result;
    }

    /// <summary>The score a code gets in a row: |e|² − 2·x·e, computed the same way on every backend.</summary>
    public static float Score(float norm, float product) => norm - 2f * product;
}
