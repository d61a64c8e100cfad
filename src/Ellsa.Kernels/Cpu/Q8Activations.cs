using Ellsa.Kernels.Numerics;

namespace Ellsa.Kernels.Cpu;

/// <summary>
/// Activation rows quantised for the Q8 dot products, as llama.cpp pairs Q8_0 weights with Q8_0
/// activations: per block of 32, d = max|x| / 127 and q = round(x / d). Two departures, both
/// toward accuracy: d stays fp32 (llama.cpp rounds it to fp16), and nothing here is stored, so
/// nothing is lost to a file format. Quantising the activation makes every block's product an
/// exact int32 sum (VNNI's <c>vpdpbusd</c>, or AVX2's <c>vpmaddubsw</c> + <c>vpmaddwd</c>), read
/// at one byte per weight; the alternative, fp32 activations × weights widened to fp32, spends
/// four conversion instructions per 8 weights and cannot use the int8 units. The cost is a
/// second rounding (the activation's, ≤ 0.4 % of its block maximum), measured with the weights'
/// in the logit bounds of the accuracy tests.
///
/// Each row is kept three ways, whole blocks padded with zeros: |q| as unsigned bytes (the
/// unsigned operand of the byte products), q itself (for <c>vpsignb</c>, which moves q's sign onto
/// the weight) and q's sign as a 0 / -1 byte mask (AVX-512 has no <c>vpsignb</c>: (w ^ m) - m).
/// </summary>
internal sealed unsafe class Q8Activations : IDisposable
{
    private NativeArray<byte> _bytes = new(0);
    private NativeArray<float> _scales = new(0);

    public int Rows { get; private set; }
    public int Cols { get; private set; }
    public int Blocks { get; private set; }
    /// <summary>Bytes per row in each of the three byte arrays (whole blocks).</summary>
    public int Stride => Blocks * Q8Format.BlockSize;

    public byte* Magnitudes(int row) => _bytes.Pointer + (long)row * 3 * Stride;
    public sbyte* Quants(int row) => (sbyte*)(Magnitudes(row) + Stride);
    public sbyte* SignMasks(int row) => (sbyte*)(Magnitudes(row) + 2 * Stride);
    public float* Scales(int row) => _scales.Pointer + (long)row * Blocks;

    /// <summary>Quantises <paramref name="rows"/> rows of <paramref name="cols"/> values (row stride <paramref name="stride"/>); reuses its memory.</summary>
    public void Quantize(float* x, int rows, int cols, int stride)
    {
        Rows = rows;
        Cols = cols;
        Blocks = Q8Format.BlocksPerRow(cols);
        long bytes = (long)rows * 3 * Stride;
        if (_bytes.Length < bytes)
        {
            _bytes.Dispose();
            _bytes = new NativeArray<byte>(bytes);
        }
        if (_scales.Length < (long)rows * Blocks)
        {
            _scales.Dispose();
            _scales = new NativeArray<float>((long)rows * Blocks);
        }
        for (int r = 0; r < rows; r++)
            QuantizeRow(x + (long)r * stride, cols, Magnitudes(r), Quants(r), SignMasks(r), Scales(r));
    }

    private static void QuantizeRow(float* x, int cols, byte* magnitudes, sbyte* quants, sbyte* masks, float* scales)
    {
        int blocks = Q8Format.BlocksPerRow(cols);
        for (int b = 0; b < blocks; b++)
        {
            int start = b * Q8Format.BlockSize;
            int length = Math.Min(Q8Format.BlockSize, cols - start);
            float max = 0;
            for (int i = 0; i < length; i++)
                max = MathF.Max(max, MathF.Abs(x[start + i]));
            float d = max / Q8Format.MaxQuant;
            float inverse = d != 0 ? 1f / d : 0f;
            scales[b] = d;
            for (int i = 0; i < Q8Format.BlockSize; i++)
            {
                int q = i < length ? (int)Math.Clamp(MathF.Round(x[start + i] * inverse, MidpointRounding.AwayFromZero), -Q8Format.MaxQuant, Q8Format.MaxQuant) : 0;
                quants[start + i] = (sbyte)q;
                magnitudes[start + i] = (byte)Math.Abs(q);
                masks[start + i] = (sbyte)(q < 0 ? -1 : 0);
            }
        }
    }

    public void Dispose()
    {
        _bytes.Dispose();
        _scales.Dispose();
    }
}
