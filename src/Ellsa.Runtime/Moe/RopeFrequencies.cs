using Ellsa.Runtime.Configuration;

namespace Ellsa.Runtime.Moe;

/// <summary>
/// Inverse RoPE frequencies θ^(−2i/d) for i below d/2, with Llama-3's rescaling when configured
/// (Hugging Face <c>_compute_llama3_parameters</c>): wavelengths shorter than
/// original/high_freq_factor keep their frequency, longer than original/low_freq_factor are
/// divided by factor, and those between are blended. Computed in double precision.
/// </summary>
public static class RopeFrequencies
{
    public static double[] Compute(int headDim, double theta, Llama3RopeScaling? scaling)
    {
        int half = headDim / 2;
        var frequencies = new double[half];
        for (int i = 0; i < half; i++)
            frequencies[i] = 1.0 / Math.Pow(theta, 2.0 * i / headDim);
        if (scaling is null)
            return frequencies;

        double lowFreqWavelength = scaling.OriginalMaxPositionEmbeddings / scaling.LowFreqFactor;
        double highFreqWavelength = scaling.OriginalMaxPositionEmbeddings / scaling.HighFreqFactor;
        for (int i = 0; i < half; i++)
        {
            double frequency = frequencies[i];
            double wavelength = 2 * Math.PI / frequency;
            if (wavelength < highFreqWavelength)
                continue;
            if (wavelength > lowFreqWavelength)
            {
                frequencies[i] = frequency / scaling.Factor;
                continue;
            }
            double smooth = (scaling.OriginalMaxPositionEmbeddings / wavelength - scaling.LowFreqFactor)
                            / (scaling.HighFreqFactor - scaling.LowFreqFactor);
            frequencies[i] = (1 - smooth) * frequency / scaling.Factor + smooth * frequency;
        }
        return frequencies;
    }
}
