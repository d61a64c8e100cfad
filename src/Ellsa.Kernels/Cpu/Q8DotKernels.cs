using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Ellsa.Kernels.Numerics;

namespace Ellsa.Kernels.Cpu;

/// <summary>
/// Which instructions the Q8 dot products use. .NET 10 exposes VNNI's <c>vpdpbusd</c> only on
/// 256-bit vectors (AvxVnni; the 512-bit form needs AVX10.2's AvxVnniInt8). The AVX-512 path
/// multiplies 64 bytes at a time with <c>vpmaddubsw</c> + <c>vpmaddwd</c>, but AVX-512 has no
/// <c>vpsignb</c> (two instructions move the sign instead) and each block pair needs its scales
/// permuted: on the 2-core Zen 5 it read 27–32 GB/s on one thread where the 256-bit paths read
/// 31–36 (perf/RESULTS.md, gemv-cpu), so AVX-512 machines use AVX-VNNI where present, else the
/// 256-bit <c>vpmaddubsw</c> path, and the AVX-512 path is kept for that comparison.
/// </summary>
internal enum Q8Path
{
    Scalar,
    Avx2,
    AvxVnni,
    Avx512,
}

internal static class Q8Paths
{
    public static Q8Path For(CpuIsa isa) => isa switch
    {
        CpuIsa.Avx512 or CpuIsa.Avx2 => AvxVnni.IsSupported ? Q8Path.AvxVnni : Q8Path.Avx2,
        _ => Q8Path.Scalar,
    };

    public static bool IsSupported(Q8Path path) => path switch
    {
        Q8Path.Avx512 => Avx512BW.IsSupported && Vector512.IsHardwareAccelerated && Avx2.IsSupported && Fma.IsSupported,
        Q8Path.AvxVnni => AvxVnni.IsSupported && Avx2.IsSupported && Fma.IsSupported,
        Q8Path.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        _ => true,
    };

    public static string Name(Q8Path path) => path switch
    {
        Q8Path.Avx512 => "AVX-512 BW",
        Q8Path.AvxVnni => "AVX-VNNI",
        Q8Path.Avx2 => "AVX2",
        _ => "scalar",
    };
}

/// <summary>
/// One Q8 weight row dotted with one quantised activation row (<see cref="Q8Activations"/>).
/// Per block b the product is the exact int32 Σ q_w·q_x times d_w·d_x, summed in fp32 — the scalar
/// path in block order, the vector paths in 8 or 16 lanes — so every path agrees to fp32 rounding.
/// A row's last, shorter block (cols not a multiple of 32) is summed by scalar code: the weight
/// rows are stored unpadded, so a whole-block load there would read the next row.
/// One row at a time, prefetching ahead, for the reason <see cref="DotKernels"/> gives: the rows
/// then stream in address order (four rows side by side read 13 GB/s on one Zen 5 core where one
/// row at a time read 34, perf/RESULTS.md).
/// </summary>
internal static unsafe class Q8DotKernels
{
    /// <summary>
    /// The row at <paramref name="w"/> (int8, cols of x) with fp16 block scales <paramref name="scales"/>,
    /// dotted with activation row <paramref name="row"/> of x. <paramref name="combined"/> is scratch for x.Blocks floats.
    /// </summary>
    public static float Row(Q8Path path, sbyte* w, ushort* scales, Q8Activations x, int row, float* combined)
    {
        int full = x.Cols / Q8Format.BlockSize;
        CombineScales(path, scales, x.Scales(row), x.Blocks, combined);
        float sum = 0;
        int done = path switch
        {
            Q8Path.Avx512 => Blocks512(w, x, row, combined, full, &sum),
            _ => 0,
        };
        done = path switch
        {
            Q8Path.Avx512 or Q8Path.Avx2 => Blocks256<MaddubsDot>(w, x, row, combined, done, full, &sum),
            Q8Path.AvxVnni => Blocks256<VnniDot>(w, x, row, combined, done, full, &sum),
            _ => done,
        };
        ScalarBlocks(w, x.Quants(row), combined, done, x.Cols, &sum);
        return sum;
    }

    /// <summary>combined[b] = fp32(weight scale b) · activation scale b.</summary>
    private static void CombineScales(Q8Path path, ushort* scales, float* xs, int blocks, float* combined)
    {
        int b = 0;
        // fp16 → fp32 by moving the bits and rescaling the exponent (x 2^112): exact for every
        // finite half, subnormals included; the loaders refuse non-finite scales.
        if (path == Q8Path.Avx512)
        {
            for (; b + 16 <= blocks; b += 16)
            {
                var h = Avx512F.ConvertToVector512Int32(Vector256.Load(scales + b));
                var widened = ((h & Vector512.Create(0x7FFF)) << 13).AsSingle() * Vector512.Create(5.192296858534828e33f);
                var signed = (widened.AsInt32() | ((h & Vector512.Create(0x8000)) << 16)).AsSingle();
                Vector512.Store(signed * Vector512.Load(xs + b), combined + b);
            }
        }
        if (path != Q8Path.Scalar)
        {
            var magnitude = Vector256.Create(0x7FFF);
            var sign = Vector256.Create(0x8000);
            var rebias = Vector256.Create(5.192296858534828e33f);
            for (; b + 8 <= blocks; b += 8)
            {
                var h = Avx2.ConvertToVector256Int32(scales + b);
                var value = (h & magnitude).AsInt32() << 13;
                var widened = value.AsSingle() * rebias;
                var signed = (widened.AsInt32() | ((h & sign) << 16)).AsSingle();
                Vector256.Store(signed * Vector256.Load(xs + b), combined + b);
            }
        }
        for (; b < blocks; b++)
            combined[b] = Q8Format.HalfToSingle(scales[b]) * xs[b];
    }

    /// <summary>Blocks [first, cols) of one row: exact int sums, each times its combined scale.</summary>
    private static void ScalarBlocks(sbyte* w, sbyte* q, float* combined, int first, int cols, float* result)
    {
        float sum = 0;
        for (int b = first; b * Q8Format.BlockSize < cols; b++)
        {
            int start = b * Q8Format.BlockSize;
            int end = Math.Min(cols, start + Q8Format.BlockSize);
            int dot = 0;
            for (int i = start; i < end; i++)
                dot += w[i] * q[i];
            sum += dot * combined[b];
        }
        *result += sum;
    }

    /// <summary>The byte product of one 32-byte block: |q_x| (unsigned) × sign-moved weights → 8 int32 sums.</summary>
    private interface IByteDot
    {
        static abstract Vector256<int> Dot(Vector256<byte> magnitudes, Vector256<sbyte> signed);
    }

    private readonly struct VnniDot : IByteDot
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot(Vector256<byte> magnitudes, Vector256<sbyte> signed) =>
            AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, magnitudes, signed);
    }

    private readonly struct MaddubsDot : IByteDot
    {
        // |q_x| ≤ 127 and |w| ≤ 127, so a pair sum ≤ 32258 never saturates vpmaddubsw.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot(Vector256<byte> magnitudes, Vector256<sbyte> signed) =>
            Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(magnitudes, signed), Vector256<short>.One);
    }

    /// <summary>Whole blocks [first, full), 32 bytes each, two per step (one cache line); returns full.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Blocks256<TDot>(sbyte* w, Q8Activations x, int row, float* combined, int first, int full, float* result)
        where TDot : struct, IByteDot
    {
        byte* magnitudes = x.Magnitudes(row);
        sbyte* quants = x.Quants(row);
        Vector256<float> a0 = default, a1 = default;
        int b = first;
        for (; b + 2 <= full; b += 2)
        {
            nint o = b * Q8Format.BlockSize;
            if (Sse.IsSupported)
                Sse.Prefetch0(w + o + DotKernels.PrefetchBytes);
            a0 = Vector256.FusedMultiplyAdd(Block<TDot>(magnitudes + o, quants + o, w + o), Vector256.Create(combined[b]), a0);
            a1 = Vector256.FusedMultiplyAdd(Block<TDot>(magnitudes + o + 32, quants + o + 32, w + o + 32), Vector256.Create(combined[b + 1]), a1);
        }
        if (b < full)
            a0 = Vector256.FusedMultiplyAdd(Block<TDot>(magnitudes + b * Q8Format.BlockSize, quants + b * Q8Format.BlockSize, w + b * Q8Format.BlockSize),
                Vector256.Create(combined[b]), a0);
        *result += Vector256.Sum(a0 + a1);
        return full;
    }

    /// <summary>One block's eight int32 lane sums as floats: q_x's sign moves onto the weight (vpsignb), |q_x| is the unsigned operand.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Block<TDot>(byte* magnitudes, sbyte* quants, sbyte* w) where TDot : struct, IByteDot =>
        Vector256.ConvertToSingle(TDot.Dot(Vector256.Load(magnitudes), Avx2.Sign(Vector256.Load(w), Vector256.Load(quants))));

    /// <summary>
    /// Whole blocks in pairs, 64 bytes per vector; returns the blocks covered (an odd last one is
    /// left). The main loop takes sixteen blocks (eight cache lines) per step and gives each pair
    /// its two scales with one permute of the sixteen loaded at once (a broadcast pair costs three
    /// instructions), so the loop stays under the memory's pace on a core shared by two threads.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Blocks512(sbyte* w, Q8Activations x, int row, float* combined, int full, float* result)
    {
        byte* m = x.Magnitudes(row);
        sbyte* s = x.SignMasks(row);
        int pairs = full / 2;
        var ones = Vector512<short>.One;
        Vector512<float> a0 = default, a1 = default;
        int p = 0;
        for (; p + 8 <= pairs; p += 8)
        {
            nint o = p * 2 * Q8Format.BlockSize;
            if (Sse.IsSupported)
            {
                sbyte* ahead = w + o + DotKernels.PrefetchBytes;
                Sse.Prefetch0(ahead);
                Sse.Prefetch0(ahead + 64);
                Sse.Prefetch0(ahead + 128);
                Sse.Prefetch0(ahead + 192);
                Sse.Prefetch0(ahead + 256);
                Sse.Prefetch0(ahead + 320);
                Sse.Prefetch0(ahead + 384);
                Sse.Prefetch0(ahead + 448);
            }
            var scales = Vector512.Load(combined + 2 * p);
            a0 = Vector512.FusedMultiplyAdd(Dot512(m, s, w, o, ones), Avx512F.PermuteVar16x32(scales, PairLanes0), a0);
            a1 = Vector512.FusedMultiplyAdd(Dot512(m, s, w, o + 64, ones), Avx512F.PermuteVar16x32(scales, PairLanes1), a1);
            a0 = Vector512.FusedMultiplyAdd(Dot512(m, s, w, o + 128, ones), Avx512F.PermuteVar16x32(scales, PairLanes2), a0);
            a1 = Vector512.FusedMultiplyAdd(Dot512(m, s, w, o + 192, ones), Avx512F.PermuteVar16x32(scales, PairLanes3), a1);
            a0 = Vector512.FusedMultiplyAdd(Dot512(m, s, w, o + 256, ones), Avx512F.PermuteVar16x32(scales, PairLanes4), a0);
            a1 = Vector512.FusedMultiplyAdd(Dot512(m, s, w, o + 320, ones), Avx512F.PermuteVar16x32(scales, PairLanes5), a1);
            a0 = Vector512.FusedMultiplyAdd(Dot512(m, s, w, o + 384, ones), Avx512F.PermuteVar16x32(scales, PairLanes6), a0);
            a1 = Vector512.FusedMultiplyAdd(Dot512(m, s, w, o + 448, ones), Avx512F.PermuteVar16x32(scales, PairLanes7), a1);
        }
        for (; p < pairs; p++)
        {
            nint o = p * 2 * Q8Format.BlockSize;
            a0 = Vector512.FusedMultiplyAdd(Dot512(m, s, w, o, ones), Pair(combined + 2 * p), a0);
        }
        *result += Vector512.Sum(a0 + a1);
        return 2 * pairs;
    }

    // Lanes 0…7 take scale 2j, lanes 8…15 scale 2j + 1: pair j of sixteen loaded scales.
    private static readonly Vector512<int> PairLanes0 = PairLanes(0), PairLanes1 = PairLanes(1), PairLanes2 = PairLanes(2), PairLanes3 = PairLanes(3);
    private static readonly Vector512<int> PairLanes4 = PairLanes(4), PairLanes5 = PairLanes(5), PairLanes6 = PairLanes(6), PairLanes7 = PairLanes(7);

    private static Vector512<int> PairLanes(int j) =>
        Vector512.Create(Vector256.Create(2 * j), Vector256.Create(2 * j + 1));

    /// <summary>Two blocks' int32 sums (8 lanes each) at byte offset o, as floats; the weight takes the activation's sign as (w ^ m) - m.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Dot512(byte* magnitudes, sbyte* masks, sbyte* w, nint o, Vector512<short> ones)
    {
        var mask = Vector512.Load(masks + o);
        var signed = (Vector512.Load(w + o) ^ mask) - mask;
        return Vector512.ConvertToSingle(Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(Vector512.Load(magnitudes + o), signed), ones));
    }

    /// <summary>Lanes 0…7 = scale[0], lanes 8…15 = scale[1].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Pair(float* scale) => Vector512.Create(Vector256.Create(scale[0]), Vector256.Create(scale[1]));
}
