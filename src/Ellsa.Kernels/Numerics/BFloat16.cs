namespace Ellsa.Kernels.Numerics;

/// <summary>
/// bfloat16 carried as its raw 16 bits. .NET 10 has no bfloat16 type, and the checkpoint's
/// bf16 weights are used in place, so the engine only needs the two conversions.
/// </summary>
public static class BFloat16
{
    /// <summary>Exact: bf16 is the upper half of an IEEE single.</summary>
    public static float ToSingle(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    /// <summary>Round to nearest, ties to even, as PyTorch's <c>.to(torch.bfloat16)</c> does.</summary>
    public static ushort FromSingle(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        if ((u & 0x7FFF_FFFFu) > 0x7F80_0000u)
            return (ushort)((u >> 16) | 0x0040); // keep NaN a NaN after truncation
        uint rounding = 0x7FFFu + ((u >> 16) & 1u);
        return (ushort)((u + rounding) >> 16);
    }

    public static void ToSingle(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        if (destination.Length < source.Length)
            throw new ArgumentException("destination is shorter than source", nameof(destination));
        for (int i = 0; i < source.Length; i++)
            destination[i] = ToSingle(source[i]);
    }

    public static void FromSingle(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        if (destination.Length < source.Length)
            throw new ArgumentException("destination is shorter than source", nameof(destination));
        for (int i = 0; i < source.Length; i++)
            destination[i] = FromSingle(source[i]);
    }
}
