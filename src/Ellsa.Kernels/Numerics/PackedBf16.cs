namespace Ellsa.Kernels.Numerics;

/// <summary>
/// bf16 rows in 12 bits per value, losslessly: the decode GEMV is bound by the bytes its weights
/// take, and a row's exponents span few binades, so each value keeps its sign and 7 mantissa bits
/// (one byte) and its exponent as a 4-bit code relative to the row's largest exponent E: code
/// c in 1…15 stands for exponent E + 1 − c. +0 takes code 0 with a zero byte. Every other value
/// (an exponent below E − 14, a subnormal, −0, an infinity or NaN) takes code 0 too and is kept
/// whole in the row's exception list, which the products add separately; the decoded rows are therefore
/// bit-identical to the bf16 ones. Compressing exponents losslessly is what DFloat11 and ZipNN do
/// with entropy codes; a fixed 4-bit code decodes with one table lookup (<c>vpshufb</c>), cheap
/// enough for two cores to keep pace with memory.
///
/// Layout, per row of <c>cols</c> values (a multiple of <see cref="BlockSize"/>), in 64-value
/// blocks: <c>cols</c> bytes of sign|mantissa and <c>cols / 2</c> bytes of codes. Within a block,
/// byte position p holds value <see cref="ValueAt"/>(p): positions 16L…16L+7 hold values
/// 8L…8L+7 and positions 16L+8…16L+15 values 32+8L…32+8L+7, so interleaving the sign|mantissa
/// bytes with the exponent bytes 128-bit lane by lane (<c>vpunpcklbw</c>/<c>vpunpckhbw</c>) gives
/// the bf16 words in order, on 512-bit and 256-bit vectors alike. Code byte k holds position k's
/// code in its low nibble and position k + 32's in its high nibble.
/// </summary>
public static class PackedBf16
{
    public const int BlockSize = 64;

    /// <summary>Codes 1…15: exponents E − 14 … E.</summary>
    public const int Span = 15;

    public static bool CanPack(int cols) => cols > 0 && cols % BlockSize == 0;

    /// <summary>The value (0…63) at byte position <paramref name="position"/> of a block.</summary>
    public static int ValueAt(int position)
    {
        int lane = position / 16, j = position % 16;
        return j < 8 ? 8 * lane + j : 32 + 8 * lane + j - 8;
    }

    /// <summary>The byte position of value <paramref name="value"/> (0…63) in a block.</summary>
    public static int PositionOf(int value) =>
        value < 32 ? 16 * (value / 8) + value % 8 : 16 * ((value - 32) / 8) + 8 + value % 8;

    /// <summary>The exponent field of a bf16 value.</summary>
    public static int Exponent(ushort bits) => (bits >> 7) & 0xFF;

    /// <summary>Whether a bf16 value is stored by code (a zero, or a normal number within the row's span).</summary>
    public static bool Coded(ushort bits, int rowExponent)
    {
        if (bits == 0)
            return true;
        int e = Exponent(bits);
        return e != 0 && e != 0xFF && e <= rowExponent && e > rowExponent - Span;
    }

    /// <summary>The row's largest exponent among its normal values (1 when it has none).</summary>
    public static int RowExponent(ReadOnlySpan<ushort> row)
    {
        int max = 1;
        foreach (ushort bits in row)
        {
            int e = Exponent(bits);
            if (e != 0xFF && e > max)
                max = e;
        }
        return max;
    }

    /// <summary>
    /// Packs one row: <paramref name="bytes"/> (cols) and <paramref name="codes"/> (cols / 2) in the
    /// block layout; adds to <paramref name="exceptions"/> the columns kept whole (their bf16 values are <c>row[column]</c>).
    /// </summary>
    public static void PackRow(ReadOnlySpan<ushort> row, int rowExponent, Span<byte> bytes, Span<byte> codes, List<int> exceptions)
    {
        codes.Clear();
        for (int i = 0; i < row.Length; i++)
        {
            ushort bits = row[i];
            int block = i / BlockSize;
            int position = PositionOf(i % BlockSize);
            int code = 0;
            byte low = 0;
            if (bits != 0)
            {
                if (Coded(bits, rowExponent))
                {
                    code = rowExponent + 1 - Exponent(bits);
                    low = (byte)(((bits >> 8) & 0x80) | (bits & 0x7F));
                }
                else
                {
                    exceptions.Add(i);
                }
            }
            bytes[block * BlockSize + position] = low;
            int k = block * (BlockSize / 2) + position % 32;
            codes[k] |= (byte)(position < 32 ? code : code << 4);
        }
    }

    /// <summary>The bf16 bits of column <paramref name="column"/> as stored by code (0 for an exception), the scalar reference of the kernels' decode.</summary>
    public static ushort Decode(ReadOnlySpan<byte> bytes, ReadOnlySpan<byte> codes, int rowExponent, int column)
    {
        int block = column / BlockSize;
        int position = PositionOf(column % BlockSize);
        byte low = bytes[block * BlockSize + position];
        byte pair = codes[block * (BlockSize / 2) + position % 32];
        int code = position < 32 ? pair & 0x0F : pair >> 4;
        if (code == 0)
            return 0;
        int e = rowExponent + 1 - code;
        return (ushort)(((low & 0x80) << 8) | (e << 7) | (low & 0x7F));
    }
}
