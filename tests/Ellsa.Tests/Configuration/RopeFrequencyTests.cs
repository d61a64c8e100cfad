using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Moe;

namespace Ellsa.Tests.Configuration;

public sealed class RopeFrequencyTests
{
    /// <summary>01-model.md §1.4: with θ=5e5 and the released scaling, i=0..28 keep θ^(−2i/128), 35..63 are divided by 8, 29..34 are blended.</summary>
    [Fact]
    public void Llama3ScalingSplitsTheReleasedSpectrumAsSpecified()
    {
        var scaled = RopeFrequencies.Compute(128, 500000, new Llama3RopeScaling(8, 1, 4, 8192));
        var plain = RopeFrequencies.Compute(128, 500000, null);
        for (int i = 0; i < 64; i++)
        {
            Assert.Equal(Math.Pow(500000, -2.0 * i / 128), plain[i], 1e-15);
            if (i <= 28)
                Assert.Equal(plain[i], scaled[i]);
            else if (i >= 35)
                Assert.Equal(plain[i] / 8, scaled[i], 1e-18);
            else
                Assert.InRange(scaled[i], plain[i] / 8 * (1 + 1e-9), plain[i] * (1 - 1e-9));
        }
    }

    [Fact]
    public void BlendedFrequenciesFollowTheSmoothFactor()
    {
        var scaled = RopeFrequencies.Compute(64, 10000, new Llama3RopeScaling(4, 1, 2, 40));
        var plain = RopeFrequencies.Compute(64, 10000, null);
        for (int i = 0; i < 32; i++)
        {
            double wavelength = 2 * Math.PI / plain[i];
            double expected = wavelength < 20 ? plain[i]
                : wavelength > 40 ? plain[i] / 4
                : (1 - (40 / wavelength - 1)) * plain[i] / 4 + (40 / wavelength - 1) * plain[i];
            Assert.Equal(expected, scaled[i], 1e-15);
        }
    }
}
