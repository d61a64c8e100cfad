using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Numerics;

namespace Ellsa.Kernels.Cpu;

/// <summary>
/// One packed bf16 row (<see cref="PackedBf16"/>) dotted with an activation row. The vector paths
/// rebuild each 64-value block's bf16 words in registers — exponent bytes from the 4-bit codes by
/// one <c>vpshufb</c> table lookup per half, merged with the sign|mantissa bytes and interleaved —
/// and then widen and multiply them exactly as <see cref="DotKernels"/> does plain bf16 rows, with
/// the activation split the same way; the row's exceptions are added last from the plain
/// activation. One row at a time, prefetching ahead, for the reason <see cref="DotKernels"/> gives.
/// </summary>
internal static unsafe class PackedBf16Kernels
{
    public static float Row(CpuIsa isa, PackedBf16Rows rows, int r, float* x, float* split)
    {
        int cols = rows.Cols;
        byte* bytes = rows.Bytes + (long)r * cols;
        byte* codes = rows.Codes + (long)r * cols / 2;
        int exponent = rows.Exponents[r];
        float sum = isa switch
        {
            CpuIsa.Avx512 => Row512(bytes, codes, exponent, cols, split),
            CpuIsa.Avx2 => Row256(bytes, codes, exponent, cols, split),
            _ => RowScalar(bytes, codes, exponent, cols, x),
        };
        int first = rows.ExceptionStarts[r], end = rows.ExceptionStarts[r + 1];
        for (int i = first; i < end; i++)
            sum += BFloat16.ToSingle(rows.ExceptionValues[i]) * x[rows.ExceptionColumns[i]];
        return sum;
    }

    private static float RowScalar(byte* bytes, byte* codes, int exponent, int cols, float* x)
    {
        var b = new ReadOnlySpan<byte>(bytes, cols);
        var c = new ReadOnlySpan<byte>(codes, cols / 2);
        float sum = 0;
        for (int i = 0; i < cols; i++)
            sum += BFloat16.ToSingle(PackedBf16.Decode(b, c, exponent, i)) * x[i];
        return sum;
    }

    /// <summary>
    /// Code → the exponent's high 7 bits (the bf16 word's high byte without its sign) and → its low
    /// bit moved to bit 7 (the low byte without the mantissa); code 0 (and codes below exponent 1, never stored) → 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tables(int exponent, out Vector128<byte> high, out Vector128<byte> low)
    {
        var code = Vector128.Create((byte)0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15).AsInt16();
        var codes0 = Vector128.WidenLower(code.AsByte()).AsInt16();
        var codes1 = Vector128.WidenUpper(code.AsByte()).AsInt16();
        var e0 = Vector128.Create((short)(exponent + 1)) - codes0;
        var e1 = Vector128.Create((short)(exponent + 1)) - codes1;
        var valid0 = Vector128.GreaterThan(e0, Vector128<short>.Zero) & ~Vector128.Equals(codes0, Vector128<short>.Zero);
        var valid1 = Vector128.GreaterThan(e1, Vector128<short>.Zero) & ~Vector128.Equals(codes1, Vector128<short>.Zero);
        high = Vector128.Narrow((e0 >> 1) & valid0, (e1 >> 1) & valid1).AsByte();
        low = Vector128.Narrow(((e0 & Vector128<short>.One) << 7) & valid0, ((e1 & Vector128<short>.One) << 7) & valid1).AsByte();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Row512(byte* bytes, byte* codes, int exponent, int cols, float* split)
    {
        Tables(exponent, out var high128, out var low128);
        var high = Vector512.Create(Vector256.Create(high128, high128), Vector256.Create(high128, high128));
        var low = Vector512.Create(Vector256.Create(low128, low128), Vector256.Create(low128, low128));
        var sign = Vector512.Create((byte)0x80);
        var nibble = Vector512.Create((byte)0x0F);
        // Words 0…15 keep their code bytes (low nibbles: positions 0…31), words 16…31 shift right
        // by 4 (high nibbles: positions 32…63); one variable shift does both halves.
        var shifts = Vector512.Create(Vector256<ushort>.Zero, Vector256.Create((ushort)4));
        var upper = Vector512.Create(0xFFFF0000u);
        bool vbmi = Avx512Vbmi.IsSupported;
        Vector512<float> a = default, b = default, c = default, d = default;
        int blocks = cols / PackedBf16.BlockSize;
        for (int k = 0; k < blocks; k++)
        {
            byte* block = bytes + k * PackedBf16.BlockSize;
            byte* pairs = codes + k * (PackedBf16.BlockSize / 2);
            PrefetchAhead(block, pairs);
            var values = Vector512.Load(block);
            // Both halves from one broadcasting load (a load, not a shuffle).
            var code = Avx512BW.ShiftRightLogicalVariable(Avx512F.BroadcastVector256ToVector512((ulong*)pairs).AsUInt16(), shifts).AsByte();
            Vector512<byte> hi, lo;
            if (vbmi)
            {
                // vpermb reads an index's low 6 bits and the tables repeat every 16 entries, so the
                // neighbouring nibble left in bits 4…7 needs no mask; (x & m) | t is one vpternlogd.
                hi = Avx512F.TernaryLogic(values, sign, Avx512Vbmi.PermuteVar64x8(high, code), 0xEA);
                lo = Avx512F.TernaryLogic(values, ~sign, Avx512Vbmi.PermuteVar64x8(low, code), 0xEA);
            }
            else
            {
                code &= nibble;
                hi = (values & sign) | Avx512BW.Shuffle(high, code);
                lo = Vector512.AndNot(values, sign) | Avx512BW.Shuffle(low, code);
            }
            var w0 = Avx512BW.UnpackLow(lo, hi).AsUInt32();
            var w1 = Avx512BW.UnpackHigh(lo, hi).AsUInt32();
            float* xs = split + k * PackedBf16.BlockSize;
            a = Vector512.FusedMultiplyAdd((w0 << 16).AsSingle(), Vector512.Load(xs), a);
            b = Vector512.FusedMultiplyAdd((w0 & upper).AsSingle(), Vector512.Load(xs + 16), b);
            c = Vector512.FusedMultiplyAdd((w1 << 16).AsSingle(), Vector512.Load(xs + 32), c);
            d = Vector512.FusedMultiplyAdd((w1 & upper).AsSingle(), Vector512.Load(xs + 48), d);
        }
        return Vector512.Sum((a + c) + (b + d));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Row256(byte* bytes, byte* codes, int exponent, int cols, float* split)
    {
        Tables(exponent, out var high128, out var low128);
        var high = Vector256.Create(high128, high128);
        var low = Vector256.Create(low128, low128);
        var sign = Vector256.Create((byte)0x80);
        var nibble = Vector256.Create((byte)0x0F);
        var upper = Vector256.Create(0xFFFF0000u);
        Vector256<float> a = default, b = default, c = default, d = default;
        int blocks = cols / PackedBf16.BlockSize;
        for (int k = 0; k < blocks; k++)
        {
            byte* block = bytes + k * PackedBf16.BlockSize;
            byte* pairs = codes + k * (PackedBf16.BlockSize / 2);
            PrefetchAhead(block, pairs);
            var n = Vector256.Load(pairs);
            // Positions 0…31 (values 0…15 and 32…47), then positions 32…63 (values 16…31 and 48…63).
            Words(Vector256.Load(block), n & nibble, high, low, sign, out var v0, out var v32);
            Words(Vector256.Load(block + 32), Vector256.ShiftRightLogical(n.AsUInt16(), 4).AsByte() & nibble, high, low, sign, out var v16, out var v48);
            float* xs = split + k * PackedBf16.BlockSize;
            a = Vector256.FusedMultiplyAdd((v0 << 16).AsSingle(), Vector256.Load(xs), a);
            b = Vector256.FusedMultiplyAdd((v0 & upper).AsSingle(), Vector256.Load(xs + 8), b);
            c = Vector256.FusedMultiplyAdd((v16 << 16).AsSingle(), Vector256.Load(xs + 16), c);
            d = Vector256.FusedMultiplyAdd((v16 & upper).AsSingle(), Vector256.Load(xs + 24), d);
            a = Vector256.FusedMultiplyAdd((v32 << 16).AsSingle(), Vector256.Load(xs + 32), a);
            b = Vector256.FusedMultiplyAdd((v32 & upper).AsSingle(), Vector256.Load(xs + 40), b);
            c = Vector256.FusedMultiplyAdd((v48 << 16).AsSingle(), Vector256.Load(xs + 48), c);
            d = Vector256.FusedMultiplyAdd((v48 & upper).AsSingle(), Vector256.Load(xs + 56), d);
        }
        return Vector256.Sum((a + c) + (b + d));
    }

    /// <summary>The lines as far ahead of block k's bytes and codes as the bf16 kernels prefetch (the codes advance half as fast).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchAhead(byte* block, byte* pairs)
    {
        if (!Sse.IsSupported)
            return;
        Sse.Prefetch0(block + DotKernels.PrefetchBytes);
        Sse.Prefetch0(pairs + DotKernels.PrefetchBytes / 2);
    }

    /// <summary>32 positions' bytes and codes → the bf16 words of their low halves' values and of their high halves' values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Words(Vector256<byte> values, Vector256<byte> code, Vector256<byte> high, Vector256<byte> low, Vector256<byte> sign,
        out Vector256<uint> first, out Vector256<uint> second)
    {
        var hi = (values & sign) | Avx2.Shuffle(high, code);
        var lo = Vector256.AndNot(values, sign) | Avx2.Shuffle(low, code);
        first = Avx2.UnpackLow(lo, hi).AsUInt32();
        second = Avx2.UnpackHigh(lo, hi).AsUInt32();
    }
}
