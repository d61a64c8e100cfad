using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
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

    /// <summary>Four consecutive bf16 rows (row stride in elements) dotted with x (given plain and split).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Bf16Rows4(CpuIsa isa, ushort* w, nint stride, float* x, float* split, int k, float* result)
    {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int done = 0;
        if (isa == CpuIsa.Avx512)
        {
            int blocks = k / 32;
            var mask = Vector512.Create(0xFFFF0000u);
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default;
            for (int b = 0; b < blocks; b++)
            {
                var xe = Vector512.Load(split + b * 32);
                var xo = Vector512.Load(split + b * 32 + 16);
                nint o = b * 32;
                var w0 = Vector512.Load((uint*)(w + o));
                var w1 = Vector512.Load((uint*)(w + stride + o));
                var w2 = Vector512.Load((uint*)(w + 2 * stride + o));
                var w3 = Vector512.Load((uint*)(w + 3 * stride + o));
                a0 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(w0, 16).AsSingle(), xe, a0);
                b0 = Vector512.FusedMultiplyAdd((w0 & mask).AsSingle(), xo, b0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(w1, 16).AsSingle(), xe, a1);
                b1 = Vector512.FusedMultiplyAdd((w1 & mask).AsSingle(), xo, b1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(w2, 16).AsSingle(), xe, a2);
                b2 = Vector512.FusedMultiplyAdd((w2 & mask).AsSingle(), xo, b2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(w3, 16).AsSingle(), xe, a3);
                b3 = Vector512.FusedMultiplyAdd((w3 & mask).AsSingle(), xo, b3);
            }
            s0 = Vector512.Sum(a0 + b0);
            s1 = Vector512.Sum(a1 + b1);
            s2 = Vector512.Sum(a2 + b2);
            s3 = Vector512.Sum(a3 + b3);
            done = blocks * 32;
        }
        else if (isa == CpuIsa.Avx2)
        {
            int blocks = k / 16;
            var mask = Vector256.Create(0xFFFF0000u);
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
            for (int b = 0; b < blocks; b++)
            {
                var xe = Vector256.Load(split + b * 16);
                var xo = Vector256.Load(split + b * 16 + 8);
                nint o = b * 16;
                var w0 = Vector256.Load((uint*)(w + o));
                var w1 = Vector256.Load((uint*)(w + stride + o));
                var w2 = Vector256.Load((uint*)(w + 2 * stride + o));
                var w3 = Vector256.Load((uint*)(w + 3 * stride + o));
                a0 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(w0, 16).AsSingle(), xe, a0);
                b0 = Vector256.FusedMultiplyAdd((w0 & mask).AsSingle(), xo, b0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(w1, 16).AsSingle(), xe, a1);
                b1 = Vector256.FusedMultiplyAdd((w1 & mask).AsSingle(), xo, b1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(w2, 16).AsSingle(), xe, a2);
                b2 = Vector256.FusedMultiplyAdd((w2 & mask).AsSingle(), xo, b2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(w3, 16).AsSingle(), xe, a3);
                b3 = Vector256.FusedMultiplyAdd((w3 & mask).AsSingle(), xo, b3);
            }
            s0 = Vector256.Sum(a0 + b0);
            s1 = Vector256.Sum(a1 + b1);
            s2 = Vector256.Sum(a2 + b2);
            s3 = Vector256.Sum(a3 + b3);
            done = blocks * 16;
        }
        for (int i = done; i < k; i++)
        {
            float xi = x[i];
            s0 += BFloat16.ToSingle(w[i]) * xi;
            s1 += BFloat16.ToSingle(w[stride + i]) * xi;
            s2 += BFloat16.ToSingle(w[2 * stride + i]) * xi;
            s3 += BFloat16.ToSingle(w[3 * stride + i]) * xi;
        }
        result[0] = s0;
        result[1] = s1;
        result[2] = s2;
        result[3] = s3;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Bf16Row(CpuIsa isa, ushort* w, float* x, float* split, int k)
    {
        float s = 0;
        int done = 0;
        if (isa == CpuIsa.Avx512)
        {
            int blocks = k / 32;
            var mask = Vector512.Create(0xFFFF0000u);
            Vector512<float> a = default, b = default;
            for (int i = 0; i < blocks; i++)
            {
                var wv = Vector512.Load((uint*)(w + i * 32));
                a = Vector512.FusedMultiplyAdd(Vector512.ShiftLeft(wv, 16).AsSingle(), Vector512.Load(split + i * 32), a);
                b = Vector512.FusedMultiplyAdd((wv & mask).AsSingle(), Vector512.Load(split + i * 32 + 16), b);
            }
            s = Vector512.Sum(a + b);
            done = blocks * 32;
        }
        else if (isa == CpuIsa.Avx2)
        {
            int blocks = k / 16;
            var mask = Vector256.Create(0xFFFF0000u);
            Vector256<float> a = default, b = default;
            for (int i = 0; i < blocks; i++)
            {
                var wv = Vector256.Load((uint*)(w + i * 16));
                a = Vector256.FusedMultiplyAdd(Vector256.ShiftLeft(wv, 16).AsSingle(), Vector256.Load(split + i * 16), a);
                b = Vector256.FusedMultiplyAdd((wv & mask).AsSingle(), Vector256.Load(split + i * 16 + 8), b);
            }
            s = Vector256.Sum(a + b);
            done = blocks * 16;
        }
        for (int i = done; i < k; i++)
            s += BFloat16.ToSingle(w[i]) * x[i];
        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void F32Rows4(CpuIsa isa, float* w, nint stride, float* x, int k, float* result)
    {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int done = 0;
        if (isa == CpuIsa.Avx512)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            int n = k / 16;
            for (int b = 0; b < n; b++)
            {
                nint o = b * 16;
                var xv = Vector512.Load(x + o);
                a0 = Vector512.FusedMultiplyAdd(Vector512.Load(w + o), xv, a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Load(w + stride + o), xv, a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.Load(w + 2 * stride + o), xv, a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.Load(w + 3 * stride + o), xv, a3);
            }
            s0 = Vector512.Sum(a0);
            s1 = Vector512.Sum(a1);
            s2 = Vector512.Sum(a2);
            s3 = Vector512.Sum(a3);
            done = n * 16;
        }
        else if (isa == CpuIsa.Avx2)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            int n = k / 8;
            for (int b = 0; b < n; b++)
            {
                nint o = b * 8;
                var xv = Vector256.Load(x + o);
                a0 = Vector256.FusedMultiplyAdd(Vector256.Load(w + o), xv, a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.Load(w + stride + o), xv, a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.Load(w + 2 * stride + o), xv, a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.Load(w + 3 * stride + o), xv, a3);
            }
            s0 = Vector256.Sum(a0);
            s1 = Vector256.Sum(a1);
            s2 = Vector256.Sum(a2);
            s3 = Vector256.Sum(a3);
            done = n * 8;
        }
        for (int i = done; i < k; i++)
        {
            float xi = x[i];
            s0 += w[i] * xi;
            s1 += w[stride + i] * xi;
            s2 += w[2 * stride + i] * xi;
            s3 += w[3 * stride + i] * xi;
        }
        result[0] = s0;
        result[1] = s1;
        result[2] = s2;
        result[3] = s3;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float F32Row(CpuIsa isa, float* w, float* x, int k)
    {
        float s = 0;
        int done = 0;
        if (isa == CpuIsa.Avx512)
        {
            Vector512<float> a = default;
            int n = k / 16;
            for (int b = 0; b < n; b++)
                a = Vector512.FusedMultiplyAdd(Vector512.Load(w + b * 16), Vector512.Load(x + b * 16), a);
            s = Vector512.Sum(a);
            done = n * 16;
        }
        else if (isa == CpuIsa.Avx2)
        {
            Vector256<float> a = default;
            int n = k / 8;
            for (int b = 0; b < n; b++)
                a = Vector256.FusedMultiplyAdd(Vector256.Load(w + b * 8), Vector256.Load(x + b * 8), a);
            s = Vector256.Sum(a);
            done = n * 8;
        }
        for (int i = done; i < k; i++)
            s += w[i] * x[i];
        return s;
    }
}
