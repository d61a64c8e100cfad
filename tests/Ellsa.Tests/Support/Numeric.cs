using System.Numerics;

namespace Ellsa.Tests.Support;

public static class Numeric
{
    /// <summary>
    /// ‖actual − expected‖₂ / ‖expected‖₂ in double precision; infinite when the difference is not
    /// finite, so a NaN can never pass a tolerance.
    /// </summary>
    public static double RelativeL2<T>(ReadOnlySpan<float> actual, ReadOnlySpan<T> expected) where T : INumberBase<T>
    {
        if (actual.Length != expected.Length)
            throw new ArgumentException($"lengths differ: {actual.Length} vs {expected.Length}");
        double diff = 0, norm = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double e = double.CreateChecked(expected[i]);
            double d = actual[i] - e;
            diff += d * d;
            norm += e * e;
        }
        return double.IsFinite(diff) ? Math.Sqrt(diff / Math.Max(norm, 1e-300)) : double.PositiveInfinity;
    }
}
