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
/// A decode GEMV is bound by how fast weight rows stream in. A bf16 row of the bench model is 4 KB,
/// one page, and the hardware prefetchers stop at page ends, so every row group would start
/// with cold streams; the row-group kernels therefore prefetch the next group's rows (into L2)
/// line by line while they read the current group.
/// </summary>
internal static unsafe class DotKernels
{
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
    /// eight row streams in flight per thread, with the next eight rows prefetched, keep more
    /// memory requests outstanding than four (perf/RESULTS.md has the measured rates).
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

    /// <summary>Four consecutive bf16 rows (row stride in elements) dotted with x (given plain and split).</summary>
    public static void Bf16Rows4(CpuIsa isa, ushort* w, nint stride, float* x, float* split, int k, float* result)
    {
        int done = isa switch
        {
            CpuIsa.Avx512 => Bf16Rows4<Simd512, Vector512<float>>(w, stride, split, k, result),
            CpuIsa.Avx2 => Bf16Rows4<Simd256, Vector256<float>>(w, stride, split, k, result),
            _ => Clear(result, 4),
        };
        for (int i = done; i < k; i++)
        {
            float xi = x[i];
            for (int r = 0; r < 4; r++)
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
    private static int Bf16Rows4<TSimd, TVector>(ushort* w, nint stride, float* split, int k, float* result)
        where TSimd : struct, ISimdWidth<TVector> where TVector : struct
    {
        int block = 2 * TSimd.Count;
        int blocks = k / block;
        TVector a0 = default, a1 = default, a2 = default, a3 = default;
        TVector b0 = default, b1 = default, b2 = default, b3 = default;
        // The next four rows: prefetching never faults, so the group after a matrix's last is harmless.
        ushort* next = w + 4 * stride;
        for (int b = 0; b < blocks; b++)
        {
            nint o = b * block;
            if (Sse.IsSupported)
            {
                Sse.Prefetch1(next + o);
                Sse.Prefetch1(next + stride + o);
                Sse.Prefetch1(next + 2 * stride + o);
                Sse.Prefetch1(next + 3 * stride + o);
            }
            var xe = TSimd.Load(split + o);
            var xo = TSimd.Load(split + o + TSimd.Count);
            TSimd.LoadBf16(w + o, out var e0, out var d0);
            TSimd.LoadBf16(w + stride + o, out var e1, out var d1);
            TSimd.LoadBf16(w + 2 * stride + o, out var e2, out var d2);
            TSimd.LoadBf16(w + 3 * stride + o, out var e3, out var d3);
            a0 = TSimd.MultiplyAdd(e0, xe, a0);
            b0 = TSimd.MultiplyAdd(d0, xo, b0);
            a1 = TSimd.MultiplyAdd(e1, xe, a1);
            b1 = TSimd.MultiplyAdd(d1, xo, b1);
            a2 = TSimd.MultiplyAdd(e2, xe, a2);
            b2 = TSimd.MultiplyAdd(d2, xo, b2);
            a3 = TSimd.MultiplyAdd(e3, xe, a3);
            b3 = TSimd.MultiplyAdd(d3, xo, b3);
        }
        result[0] = TSimd.Sum(a0, b0);
        result[1] = TSimd.Sum(a1, b1);
        result[2] = TSimd.Sum(a2, b2);
        result[3] = TSimd.Sum(a3, b3);
        return blocks * block;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Bf16Rows8<TSimd, TVector>(ushort* w, nint stride, float* split, int k, float* result)
        where TSimd : struct, ISimdWidth<TVector> where TVector : struct
    {
        int block = 2 * TSimd.Count;
        int blocks = k / block;
        // One accumulator per row (even then odd products chained): eight independent chains.
        TVector a0 = default, a1 = default, a2 = default, a3 = default;
        TVector a4 = default, a5 = default, a6 = default, a7 = default;
        ushort* next = w + 8 * stride;
        for (int b = 0; b < blocks; b++)
        {
            nint o = b * block;
            if (Sse.IsSupported)
            {
                for (int r = 0; r < 8; r++)
                    Sse.Prefetch1(next + r * stride + o);
            }
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
        TVector a = default, b = default;
        for (int i = 0; i < blocks; i++)
        {
            nint o = i * block;
            TSimd.LoadBf16(w + o, out var even, out var odd);
            a = TSimd.MultiplyAdd(even, TSimd.Load(split + o), a);
            b = TSimd.MultiplyAdd(odd, TSimd.Load(split + o + TSimd.Count), b);
        }
        *result = TSimd.Sum(a, b);
        return blocks * block;
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
        TVector a = default;
        for (int b = 0; b < n; b++)
            a = TSimd.MultiplyAdd(TSimd.Load(w + b * TSimd.Count), TSimd.Load(x + b * TSimd.Count), a);
        *result = TSimd.Sum(a, default);
        return n * TSimd.Count;
    }
}
