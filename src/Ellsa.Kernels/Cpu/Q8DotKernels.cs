using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Ellsa.Kernels.Numerics;

namespace Ellsa.Kernels.Cpu;

/// <summary>
/// Which instructions the Q8 dot products use. .NET 10 exposes VNNI's <c>vpdpbusd</c> only on
/// 256-bit vectors (AvxVnni; the 512-bit form needs AVX10.2's AvxVnniInt8), so the AVX-512 level
/// multiplies 64 bytes at a time with <c>vpmaddubsw</c> + <c>vpmaddwd</c> and the AVX2 level uses
/// <c>vpdpbusd</c> when the processor has AVX-VNNI. Which of the two is faster on a machine is
/// for perf/ to measure (ELLSA_CPU_ISA=avx2 selects the VNNI path).
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
        CpuIsa.Avx512 => Q8Path.Avx512,
        CpuIsa.Avx2 => AvxVnni.IsSupported ? Q8Path.AvxVnni : Q8Path.Avx2,
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
/// Four Q8 weight rows dotted with one quantised activation row (<see cref="Q8Activations"/>).
/// Per block b the product is the exact int32 Σ q_w·q_x times d_w·d_x, summed in fp32 — the scalar
/// path in block order, the vector paths in 8 or 16 lanes — so every path agrees to fp32 rounding.
/// A row's last, shorter block (cols not a multiple of 32) is summed by scalar code: the weight
/// rows are stored unpadded, so a whole-block load there would read the next row.
/// </summary>
internal static unsafe class Q8DotKernels
{
    /// <summary>
    /// result[r] = row r · x for the rows at w0…w3 (int8, cols of x) with fp16 block scales s0…s3.
    /// <paramref name="combined"/> is scratch for 4 × blocks floats.
    /// </summary>
    public static void Rows4(Q8Path path, sbyte* w0, sbyte* w1, sbyte* w2, sbyte* w3, ushort* s0, ushort* s1, ushort* s2, ushort* s3,
        Q8Activations x, int row, float* combined, float* result)
    {
        int blocks = x.Blocks;
        int full = x.Cols / Q8Format.BlockSize;
        float* xs = x.Scales(row);
        CombineScales(path, s0, xs, blocks, combined);
        CombineScales(path, s1, xs, blocks, combined + blocks);
        CombineScales(path, s2, xs, blocks, combined + 2 * blocks);
        CombineScales(path, s3, xs, blocks, combined + 3 * blocks);
        result[0] = result[1] = result[2] = result[3] = 0;
        int done = path switch
        {
            Q8Path.Avx512 => Blocks512(w0, w1, w2, w3, x, row, combined, blocks, full, result),
            _ => 0,
        };
        done = path switch
        {
            Q8Path.Avx512 or Q8Path.Avx2 => Blocks256<MaddubsDot>(w0, w1, w2, w3, x, row, combined, blocks, done, full, result),
            Q8Path.AvxVnni => Blocks256<VnniDot>(w0, w1, w2, w3, x, row, combined, blocks, done, full, result),
            _ => done,
        };
        sbyte* q = x.Quants(row);
        ScalarBlocks(w0, q, combined, done, x.Cols, result);
        ScalarBlocks(w1, q, combined + blocks, done, x.Cols, result + 1);
        ScalarBlocks(w2, q, combined + 2 * blocks, done, x.Cols, result + 2);
        ScalarBlocks(w3, q, combined + 3 * blocks, done, x.Cols, result + 3);
    }

    /// <summary>combined[b] = fp32(weight scale b) · activation scale b.</summary>
    private static void CombineScales(Q8Path path, ushort* scales, float* xs, int blocks, float* combined)
    {
        int b = 0;
        if (path != Q8Path.Scalar)
        {
            // fp16 → fp32 by moving the bits and rescaling the exponent (x 2^112): exact for every
            // finite half, subnormals included; the loaders refuse non-finite scales.
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

    /// <summary>Whole blocks [first, full), 32 bytes per step; returns full.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Blocks256<TDot>(sbyte* w0, sbyte* w1, sbyte* w2, sbyte* w3, Q8Activations x, int row, float* combined, int blocks,
        int first, int full, float* result)
        where TDot : struct, IByteDot
    {
        byte* magnitudes = x.Magnitudes(row);
        sbyte* quants = x.Quants(row);
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int b = first; b < full; b++)
        {
            nint o = b * Q8Format.BlockSize;
            var m = Vector256.Load(magnitudes + o);
            var q = Vector256.Load(quants + o);
            a0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(TDot.Dot(m, Avx2.Sign(Vector256.Load(w0 + o), q))), Vector256.Create(combined[b]), a0);
            a1 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(TDot.Dot(m, Avx2.Sign(Vector256.Load(w1 + o), q))), Vector256.Create(combined[blocks + b]), a1);
            a2 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(TDot.Dot(m, Avx2.Sign(Vector256.Load(w2 + o), q))), Vector256.Create(combined[2 * blocks + b]), a2);
            a3 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(TDot.Dot(m, Avx2.Sign(Vector256.Load(w3 + o), q))), Vector256.Create(combined[3 * blocks + b]), a3);
        }
        result[0] += Vector256.Sum(a0);
        result[1] += Vector256.Sum(a1);
        result[2] += Vector256.Sum(a2);
        result[3] += Vector256.Sum(a3);
        return full;
    }

    /// <summary>Pairs of whole blocks, 64 bytes per step; returns the blocks covered (an odd last one is left).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Blocks512(sbyte* w0, sbyte* w1, sbyte* w2, sbyte* w3, Q8Activations x, int row, float* combined, int blocks, int full, float* result)
    {
        byte* magnitudes = x.Magnitudes(row);
        sbyte* masks = x.SignMasks(row);
        int pairs = full / 2;
        var ones = Vector512<short>.One;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int p = 0; p < pairs; p++)
        {
            nint o = p * 2 * Q8Format.BlockSize;
            int b = 2 * p;
            var m = Vector512.Load(magnitudes + o);
            var s = Vector512.Load(masks + o);
            a0 = Vector512.FusedMultiplyAdd(Dot512(m, s, Vector512.Load(w0 + o), ones), Pair(combined + b), a0);
            a1 = Vector512.FusedMultiplyAdd(Dot512(m, s, Vector512.Load(w1 + o), ones), Pair(combined + blocks + b), a1);
            a2 = Vector512.FusedMultiplyAdd(Dot512(m, s, Vector512.Load(w2 + o), ones), Pair(combined + 2 * blocks + b), a2);
            a3 = Vector512.FusedMultiplyAdd(Dot512(m, s, Vector512.Load(w3 + o), ones), Pair(combined + 3 * blocks + b), a3);
        }
        result[0] += Vector512.Sum(a0);
        result[1] += Vector512.Sum(a1);
        result[2] += Vector512.Sum(a2);
        result[3] += Vector512.Sum(a3);
        return 2 * pairs;
    }

    /// <summary>Two blocks' int32 sums (8 lanes each) as floats; the weight takes the activation's sign as (w ^ m) - m.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Dot512(Vector512<byte> magnitudes, Vector512<sbyte> masks, Vector512<sbyte> w, Vector512<short> ones)
    {
        var signed = (w ^ masks) - masks;
        return Vector512.ConvertToSingle(Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(magnitudes, signed), ones));
    }

    /// <summary>Lanes 0…7 = scale[0], lanes 8…15 = scale[1].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Pair(float* scale) => Vector512.Create(Vector256.Create(scale[0]), Vector256.Create(scale[1]));
}
