namespace Ellsa.Runtime.Codecs.Fast;

/// <summary>
/// Orthonormal DCT-II along the time axis of a row-major [T, D] block (scipy's
/// <c>dct(…, axis=0, norm="ortho")</c>) and its inverse, DCT-III (<c>idct</c>). T is 10 in
/// practice, so a precomputed T×T cosine table and plain loops beat any FFT.
/// </summary>
internal sealed class OrthoDct
{
    private readonly int n;
    private readonly double[] basis;

    public OrthoDct(int length)
    {
        n = length;
        basis = new double[n * n];
        for (int k = 0; k < n; k++)
        {
            double weight = Math.Sqrt((k == 0 ? 1.0 : 2.0) / n);
            for (int t = 0; t < n; t++)
            {
                basis[k * n + t] = weight * Math.Cos(Math.PI * k * (2 * t + 1) / (2.0 * n));
            }
        }
    }

    /// <summary>coefficients[k, d] = Σ_t basis[k, t] · values[t, d].</summary>
    public void Forward(ReadOnlySpan<double> values, Span<double> coefficients, int columns)
    {
        for (int k = 0; k < n; k++)
        {
            for (int d = 0; d < columns; d++)
            {
                double sum = 0;
                for (int t = 0; t < n; t++)
                {
                    sum += basis[k * n + t] * values[t * columns + d];
                }
                coefficients[k * columns + d] = sum;
            }
        }
    }

    /// <summary>values[t, d] = Σ_k basis[k, t] · coefficients[k, d] (the transpose: the basis is orthonormal).</summary>
    public void Inverse(ReadOnlySpan<double> coefficients, Span<double> values, int columns)
    {
        for (int t = 0; t < n; t++)
        {
            for (int d = 0; d < columns; d++)
            {
                double sum = 0;
                for (int k = 0; k < n; k++)
                {
                    sum += basis[k * n + t] * coefficients[k * columns + d];
                }
                values[t * columns + d] = sum;
            }
        }
    }
}
