using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Ellsa.Kernels.Numerics;

namespace Ellsa.Kernels.Cpu;

/// <summary>
/// Dot products of weight rows with an activation row, the inner loop of every projection.
///
/// bf16 rows are widened without a conversion instruction: a vector of 2·n bf16 values read as
/// n uint32 lanes holds the even elements in its low halves (<c>w &lt;&lt; 16</c>) and the odd ones
/// in its high halves (<c>w &amp; 0xFFFF0000</c>). The activation row is therefore pre-split once per
/// matmul into the same even/odd order (<see cref="SplitEvenOdd"/>), which leaves one load, two
/// bit operations and two FMAs per 2·n weights.
///
/// .NET 10 exposes no AVX512-BF16 intrinsic (<c>vdpbf16ps</c>: dotnet/runtime issue 129323 is an
/// open proposal, outside the .NET 11 plan), so this widen-by-shift path with FMA is the AVX-512
/// path too; it is exact, where <c>vdpbf16ps</c> would round the activations to bf16.
///
/// A decode GEMV is bound by how fast weight rows stream in, and a single core reads fastest
/// when it walks memory in address order: consecutive rows of a matrix are consecutive in memory,
/// so the one-token kernel (<see cref="Bf16Row"/>) reads one row at a time and prefetches
/// <see cref="PrefetchBytes"/> ahead of itself, across row and page ends (where the hardware
/// prefetchers stop). Reading eight rows side by side (eight streams 4 KB apart) reached only
/// 60–75 % of that rate on the 2-core Zen 5 machine (perf/RESULTS.md, "one row at a time"); the
/// eight-row kernel is kept for many-token products, where the rows come from cache and sharing
/// each activation load across rows is what counts.
/// </summary>
internal static unsafe class DotKernels
{
    /// <summary>How far ahead of its reads a streaming row kernel prefetches (4–16 KB read alike on two threads: perf/RESULTS.md, "one row at a time").</summary>
    public const int PrefetchBytes = 8192;

    /// <summary>Elements per even/odd block: two vectors' worth of floats.</summary>
    public static int BlockWidth(CpuIsa isa) => isa switch
    {
        CpuIsa.Avx512 => 32,
        CpuIsa.Avx2 => 16,
        _ => 0,
    };

    /// <summary>Rewrites each full block of <paramref name="x"/> as its even elements followed by its odd ones.</summary>
    public static void SplitEvenOdd(CpuIsa isa, float* x, float* split, int k)
    {
        int width = BlockWidth(isa);
        if (width == 0)
            return;
        int half = width / 2;
        int blocks = k / width;
        if (isa == CpuIsa.Avx512 && Vector512.IsHardwareAccelerated)
        {
            // Two two-source permutes a block: this runs on the calling thread before every bf16 product.
            var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            var odds = evens + Vector512<int>.One;
            for (int b = 0; b < blocks; b++)
            {
                var low = Vector512.Load(x + b * width);
                var high = Vector512.Load(x + b * width + half);
                Avx512F.PermuteVar16x32x2(low, evens, high).Store(split + b * width);
                Avx512F.PermuteVar16x32x2(low, odds, high).Store(split + b * width + half);
            }
            return;
        }
        for (int b = 0; b < blocks; b++)
        {
            float* src = x + b * width;
            float* dst = split + b * width;
            for (int j = 0; j < half; j++)
            {
                dst[j] = src[2 * j];
                dst[half + j] = src[2 * j + 1];
            }
        }
    }

    /// <summary>
    /// Eight consecutive bf16 rows (row stride in elements) dotted with x (given plain and split):
    /// each activation load serves eight rows, the many-token products' kernel (their weights
    /// come from cache, so loads and FMAs, not memory, set the pace).
    /// </summary>
    public static void Bf16Rows8(CpuIsa isa, ushort* w, nint stride, float* x, float* split, int k, float* result)
    {
        int done = isa switch
        {
            CpuIsa.Avx512 => Bf16Rows8<Simd512, Vector512<float>>(w, stride, split, k, result),
            CpuIsa.Avx2 => Bf16Rows8<Simd256, Vector256<float>>(w, stride, split, k, result),
            _ => Clear(result, 8),
        };
        for (int i = done; i < k; i++)
        {
            float xi = x[i];
            for (int r = 0; r < 8; r++)
                result[r] += BFloat16.ToSingle(w[r * stride + i]) * xi;
        }
    }

    public static float Bf16Row(CpuIsa isa, ushort* w, float* x, float* split, int k)
    {
        float s = 0;
        int done = isa switch
        {
            CpuIsa.Avx512 => Bf16Row<Simd512, Vector512<float>>(w, split, k, &s),
            CpuIsa.Avx2 => Bf16Row<Simd256, Vector256<float>>(w, split, k, &s),
            _ => 0,
        };
        for (int i = done; i < k; i++)
            s += BFloat16.ToSingle(w[i]) * x[i];
        return s;
    }

    public static void F32Rows4(CpuIsa isa, float* w, nint stride, float* x, int k, float* result)
    {
        int done = isa switch
        {
            CpuIsa.Avx512 => F32Rows4<Simd512, Vector512<float>>(w, stride, x, k, result),
            CpuIsa.Avx2 => F32Rows4<Simd256, Vector256<float>>(w, stride, x, k, result),
            _ => Clear(result, 4),
        };
        for (int i = done; i < k; i++)
        {
            float xi = x[i];
            for (int r = 0; r < 4; r++)
                result[r] += w[r * stride + i] * xi;
        }
    }

    public static float F32Row(CpuIsa isa, float* w, float* x, int k)
    {
        float s = 0;
        int done = isa switch
        {
            CpuIsa.Avx512 => F32Row<Simd512, Vector512<float>>(w, x, k, &s),
            CpuIsa.Avx2 => F32Row<Simd256, Vector256<float>>(w, x, k, &s),
            _ => 0,
        };
        for (int i = done; i < k; i++)
            s += w[i] * x[i];
        return s;
    }

    private static int Clear(float* result, int count)
    {
        new Span<float>(result, count).Clear();
        return 0;
    }

    // The vector parts: written once, compiled once per width (struct type arguments are never
    // shared, so every TSimd call below inlines to the width's instructions). Each covers the
    // whole vectors of k, stores its sums and returns how many elements it covered.

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Bf16Rows8<TSimd, TVector>(ushort* w, nint stride, float* split, int k, float* result)
        where TSimd : struct, ISimdWidth<TVector> where TVector : struct
    {
        int block = 2 * TSimd.Count;
        int blocks = k / block;
        // One accumulator per row (even then odd products chained): eight independent chains.
        TVector a0 = default, a1 = default, a2 = default, a3 = default;
        TVector a4 = default, a5 = default, a6 = default, a7 = default;
        for (int b = 0; b < blocks; b++)
        {
            nint o = b * block;
            var xe = TSimd.Load(split + o);
            var xo = TSimd.Load(split + o + TSimd.Count);
            a0 = Row(w + o, xe, xo, a0);
            a1 = Row(w + stride + o, xe, xo, a1);
            a2 = Row(w + 2 * stride + o, xe, xo, a2);
            a3 = Row(w + 3 * stride + o, xe, xo, a3);
            a4 = Row(w + 4 * stride + o, xe, xo, a4);
            a5 = Row(w + 5 * stride + o, xe, xo, a5);
            a6 = Row(w + 6 * stride + o, xe, xo, a6);
            a7 = Row(w + 7 * stride + o, xe, xo, a7);
        }
        result[0] = TSimd.Sum(a0, default);
        result[1] = TSimd.Sum(a1, default);
        result[2] = TSimd.Sum(a2, default);
        result[3] = TSimd.Sum(a3, default);
        result[4] = TSimd.Sum(a4, default);
        result[5] = TSimd.Sum(a5, default);
        result[6] = TSimd.Sum(a6, default);
        result[7] = TSimd.Sum(a7, default);
        return blocks * block;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static TVector Row(ushort* row, TVector xe, TVector xo, TVector acc)
        {
            TSimd.LoadBf16(row, out var even, out var odd);
            return TSimd.MultiplyAdd(odd, xo, TSimd.MultiplyAdd(even, xe, acc));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Bf16Row<TSimd, TVector>(ushort* w, float* split, int k, float* result)
        where TSimd : struct, ISimdWidth<TVector> where TVector : struct
    {
        int block = 2 * TSimd.Count;
        int blocks = k / block;
        // Two blocks per step, four independent chains: a step covers whole cache lines (128 or 64 bytes).
        TVector a = default, b = default, c = default, d = default;
        int i = 0;
        for (; i + 2 <= blocks; i += 2)
        {
            nint o = i * block;
            Prefetch<TSimd, TVector>((byte*)(w + o));
            TSimd.LoadBf16(w + o, out var e0, out var o0);
            TSimd.LoadBf16(w + o + block, out var e1, out var o1);
            a = TSimd.MultiplyAdd(e0, TSimd.Load(split + o), a);
            b = TSimd.MultiplyAdd(o0, TSimd.Load(split + o + TSimd.Count), b);
            c = TSimd.MultiplyAdd(e1, TSimd.Load(split + o + block), c);
            d = TSimd.MultiplyAdd(o1, TSimd.Load(split + o + block + TSimd.Count), d);
        }
        if (i < blocks)
        {
            nint o = i * block;
            TSimd.LoadBf16(w + o, out var e0, out var o0);
            a = TSimd.MultiplyAdd(e0, TSimd.Load(split + o), a);
            b = TSimd.MultiplyAdd(o0, TSimd.Load(split + o + TSimd.Count), b);
        }
        *result = TSimd.Sum(TSimd.Add(a, c), TSimd.Add(b, d));
        return blocks * block;
    }

    /// <summary>Prefetches the cache lines <see cref="PrefetchBytes"/> past one step of 4 vectors of bf16 (2·Count·4 bytes: one or two lines).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch<TSimd, TVector>(byte* step)
        where TSimd : struct, ISimdWidth<TVector> where TVector : struct
    {
        if (!Sse.IsSupported)
            return;
        Sse.Prefetch0(step + PrefetchBytes);
        if (TSimd.Count * 8 > 64)
            Sse.Prefetch0(step + PrefetchBytes + 64);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int F32Rows4<TSimd, TVector>(float* w, nint stride, float* x, int k, float* result)
        where TSimd : struct, ISimdWidth<TVector> where TVector : struct
    {
        int n = k / TSimd.Count;
        TVector a0 = default, a1 = default, a2 = default, a3 = default;
        for (int b = 0; b < n; b++)
        {
            nint o = b * TSimd.Count;
            var xv = TSimd.Load(x + o);
            a0 = TSimd.MultiplyAdd(TSimd.Load(w + o), xv, a0);
            a1 = TSimd.MultiplyAdd(TSimd.Load(w + stride + o), xv, a1);
            a2 = TSimd.MultiplyAdd(TSimd.Load(w + 2 * stride + o), xv, a2);
            a3 = TSimd.MultiplyAdd(TSimd.Load(w + 3 * stride + o), xv, a3);
        }
        result[0] = TSimd.Sum(a0, default);
        result[1] = TSimd.Sum(a1, default);
        result[2] = TSimd.Sum(a2, default);
        result[3] = TSimd.Sum(a3, default);
        return n * TSimd.Count;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int F32Row<TSimd, TVector>(float* w, float* x, int k, float* result)
        where TSimd : struct, ISimdWidth<TVector> where TVector : struct
    {
        int n = k / TSimd.Count;
        TVector a = default, b = default;
        int v = 0;
        for (; v + 2 <= n; v += 2)
        {
            nint o = v * TSimd.Count;
            Prefetch<TSimd, TVector>((byte*)(w + o));
            a = TSimd.MultiplyAdd(TSimd.Load(w + o), TSimd.Load(x + o), a);
            b = TSimd.MultiplyAdd(TSimd.Load(w + o + TSimd.Count), TSimd.Load(x + o + TSimd.Count), b);
        }
        if (v < n)
            a = TSimd.MultiplyAdd(TSimd.Load(w + v * TSimd.Count), TSimd.Load(x + v * TSimd.Count), a);
        *result = TSimd.Sum(a, b);
        return n * TSimd.Count;
    }
}
