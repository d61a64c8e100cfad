namespace Ellsa.Kernels.Numerics;

/// <summary>
/// The 8-bit weight format, llama.cpp's Q8_0: each row is cut into blocks of 32 values, each block
/// stored as 32 int8 values q and one fp16 scale d with x ≈ d·q, d = max|x| / 127 and
/// q = round(x / d) (half away from zero, as llama.cpp's <c>quantize_row_q8_0_ref</c>: it divides by
/// the fp32 d and stores d rounded to fp16, and so does this). Unlike llama.cpp a row's width need
/// not be a multiple of 32: the last block of a row may be shorter and has a scale of its own.
/// The int8 values and the scales are kept in two arrays, [rows, cols] and [rows, ⌈cols/32⌉],
/// which is how a quantised checkpoint stores them (an I8 tensor and an F16 tensor
/// <c>name.q8_scale</c>), so a converted file is used in place.
/// </summary>
public static class Q8Format
{
    public const int BlockSize = 32;

    /// <summary>The largest magnitude a value may have: -128 is never written, so a sign flip never overflows.</summary>
    public const int MaxQuant = 127;

    /// <summary>Suffix of the F16 tensor that holds a quantised tensor's block scales.</summary>
    public const string ScaleSuffix = ".q8_scale";

    public static int BlocksPerRow(int cols) => (cols + BlockSize - 1) / BlockSize;

    /// <summary>Quantises one row of <paramref name="x"/> into <paramref name="quants"/> and fp16 <paramref name="scales"/>.</summary>
    public static void QuantizeRow(ReadOnlySpan<float> x, Span<sbyte> quants, Span<ushort> scales)
    {
        int blocks = BlocksPerRow(x.Length);
        for (int b = 0; b < blocks; b++)
        {
            int start = b * BlockSize;
            int length = Math.Min(BlockSize, x.Length - start);
            var block = x.Slice(start, length);
            float max = 0;
            foreach (float v in block)
                max = MathF.Max(max, MathF.Abs(v));
            float d = max / MaxQuant;
            float inverse = d != 0 ? 1f / d : 0f;
            scales[b] = HalfBits(d);
            for (int i = 0; i < length; i++)
                quants[start + i] = (sbyte)Math.Clamp(MathF.Round(block[i] * inverse, MidpointRounding.AwayFromZero), -MaxQuant, MaxQuant);
        }
    }

    /// <summary>The value a stored element stands for: its block's scale times the int8 value (exact in fp32).</summary>
    public static float Dequantize(sbyte quant, ushort scale) => HalfToSingle(scale) * quant;

    public static void DequantizeRow(ReadOnlySpan<sbyte> quants, ReadOnlySpan<ushort> scales, Span<float> destination)
    {
        for (int i = 0; i < quants.Length; i++)
            destination[i] = Dequantize(quants[i], scales[i / BlockSize]);
    }

    /// <summary>fp32 → fp16 bits, round to nearest even (what PyTorch's and llama.cpp's conversions do).</summary>
    public static ushort HalfBits(float value) => BitConverter.HalfToUInt16Bits((Half)value);

    /// <summary>fp16 bits → fp32, exact.</summary>
    public static float HalfToSingle(ushort bits) => (float)BitConverter.UInt16BitsToHalf(bits);
}
