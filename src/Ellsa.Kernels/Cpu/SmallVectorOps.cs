using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ellsa.Kernels.Cpu;

/// <summary>
/// Dot product and axpy over one head (16–256 floats), inlined: attention calls them once per
/// key and head, millions of times per prefill, where a library call's dispatch cost would dominate.
/// </summary>
internal static unsafe class SmallVectorOps
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(float* a, float* b, int n)
    {
        int i = 0;
        float sum = 0;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8)
                acc = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc);
            sum = Vector256.Sum(acc);
        }
        for (; i < n; i++)
            sum += a[i] * b[i];
        return sum;
    }

    /// <summary>acc += s · x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MultiplyAdd(float* x, float s, float* acc, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var scale = Vector256.Create(s);
            for (; i <= n - 8; i += 8)
                Vector256.FusedMultiplyAdd(Vector256.Load(x + i), scale, Vector256.Load(acc + i)).Store(acc + i);
        }
        for (; i < n; i++)
            acc[i] += s * x[i];
    }
}
