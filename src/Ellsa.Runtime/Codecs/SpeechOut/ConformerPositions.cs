namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// espnet's relative positional encoding table (EspnetRelPositionalEncoding, embedding.py:L220-294)
/// for a sequence of L frames: 2L − 1 rows, row k for the relative position r = L − 1 − k (query
/// minus key), channels (2m, 2m+1) = (sin rω_m, cos rω_m) with ω_m = exp(−2m·ln(10⁴)/D). The authors
/// compute it in float32 whatever the model's dtype (positions, frequencies and the sines all
/// float32, L236-246), and this does the same, since a float64 table differs by up to ~1e-4 at
/// the lengths a window reaches. Built on the host: it depends on L and D only, is computed once
/// per call, and is a few thousand sines beside the network's millions of products.
/// </summary>
internal static class ConformerPositions
{
    public static float[] Table(int length, int dim)
    {
        int half = dim / 2;
        float exponent = (float)(-(Math.Log(10000.0) / dim));
        var frequencies = new float[half];
        for (int m = 0; m < half; m++)
            frequencies[m] = MathF.Exp(2 * m * exponent);
        int rows = 2 * length - 1;
        var table = new float[(long)rows * dim];
        for (int k = 0; k < rows; k++)
        {
            int r = length - 1 - k;
            float position = Math.Abs(r);
            for (int m = 0; m < half; m++)
            {
                float angle = position * frequencies[m];
                float sine = MathF.Sin(angle);
                // sin(−x) = −sin x and cos(−x) = cos x exactly, as pe_negative computes them.
                table[(long)k * dim + 2 * m] = r < 0 ? -sine : sine;
                table[(long)k * dim + 2 * m + 1] = MathF.Cos(angle);
            }
        }
        return table;
    }
}
