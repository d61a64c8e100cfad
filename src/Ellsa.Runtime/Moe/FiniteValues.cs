using System.Numerics.Tensors;

namespace Ellsa.Runtime.Moe;

/// <summary>Finds NaN and infinity, the values that poison every later position they reach.</summary>
public static class FiniteValues
{
    /// <returns>The index of the first non-finite value, or −1.</returns>
    public static int FirstNonFinite(ReadOnlySpan<float> values)
    {
        // A sum is finite only if every term is (NaN and ±∞ survive any addition), so one
        // vectorised sum screens the span; only a non-finite sum (or an overflow) needs the scan.
        if (float.IsFinite(TensorPrimitives.Sum(values)))
            return -1;
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
                return i;
        }
        return -1;
    }
}
