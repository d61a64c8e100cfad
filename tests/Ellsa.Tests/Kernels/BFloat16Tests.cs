using Ellsa.Kernels.Numerics;

namespace Ellsa.Tests.Kernels;

public sealed class BFloat16Tests
{
    [Fact]
    public void ConversionToSingleIsExactAndRoundTrips()
    {
        for (int bits = 0; bits < 65536; bits++)
        {
            float value = BFloat16.ToSingle((ushort)bits);
            if (float.IsNaN(value))
                continue;
            Assert.Equal((ushort)bits, BFloat16.FromSingle(value));
        }
    }

    [Fact]
    public void RoundingIsToNearestWithTiesToEven()
    {
        var random = new Random();
        for (int i = 0; i < 100_000; i++)
        {
            float value = BitConverter.Int32BitsToSingle(random.Next(int.MinValue, int.MaxValue));
            // Beyond the largest finite bf16 the neighbour model below breaks down (IEEE overflows to infinity).
            if (!float.IsFinite(value) || Math.Abs(value) >= BFloat16.ToSingle(0x7F7F))
                continue;
            // The two bf16 neighbours bracketing the value; pick the nearer, the even one on a tie.
            uint bits = BitConverter.SingleToUInt32Bits(value);
            ushort below = (ushort)(bits >> 16);
            ushort above = (ushort)(below + 1);
            double distanceBelow = Math.Abs((double)value - BFloat16.ToSingle(below));
            double distanceAbove = Math.Abs((double)value - BFloat16.ToSingle(above));
            ushort expected = distanceBelow < distanceAbove ? below
                : distanceAbove < distanceBelow ? above
                : (below & 1) == 0 ? below : above;
            Assert.Equal(expected, BFloat16.FromSingle(value));
        }
    }

    [Fact]
    public void NaNStaysNaN()
    {
        Assert.True(float.IsNaN(BFloat16.ToSingle(BFloat16.FromSingle(float.NaN))));
        Assert.True(float.IsNaN(BFloat16.ToSingle(BFloat16.FromSingle(BitConverter.Int32BitsToSingle(0x7F800001)))));
    }
}
