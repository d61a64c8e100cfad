using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ellsa.Kernels.Cpu;

/// <summary>
/// The few vector operations the dot kernels are made of, for one SIMD width. Passed as a struct
/// type argument so that <see cref="DotKernels"/> holds each kernel once and the JIT still emits
/// straight AVX-512 or AVX2 code for it.
/// </summary>
internal unsafe interface ISimdWidth<TVector> where TVector : struct
{
    /// <summary>Floats per vector.</summary>
    static abstract int Count { get; }

    static abstract TVector Load(float* source);

    /// <summary>
    /// 2·<see cref="Count"/> bf16 values widened to floats without a conversion instruction: read
    /// as 32-bit lanes, the even elements sit in the low halves and the odd ones in the high halves.
    /// </summary>
    static abstract void LoadBf16(ushort* source, out TVector even, out TVector odd);

    /// <summary>a · b + c, fused.</summary>
    static abstract TVector MultiplyAdd(TVector a, TVector b, TVector c);

    static abstract TVector Add(TVector a, TVector b);

    /// <summary>The sum of every lane of a + b.</summary>
    static abstract float Sum(TVector a, TVector b);
}

internal readonly unsafe struct Simd512 : ISimdWidth<Vector512<float>>
{
    public static int Count => Vector512<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(float* source) => Vector512.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadBf16(ushort* source, out Vector512<float> even, out Vector512<float> odd)
    {
        var pairs = Vector512.Load((uint*)source);
        even = Vector512.ShiftLeft(pairs, 16).AsSingle();
        odd = (pairs & Vector512.Create(0xFFFF0000u)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) =>
        Vector512.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector512<float> a, Vector512<float> b) => Vector512.Sum(a + b);
}

internal readonly unsafe struct Simd256 : ISimdWidth<Vector256<float>>
{
    public static int Count => Vector256<float>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(float* source) => Vector256.Load(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadBf16(ushort* source, out Vector256<float> even, out Vector256<float> odd)
    {
        var pairs = Vector256.Load((uint*)source);
        even = Vector256.ShiftLeft(pairs, 16).AsSingle();
        odd = (pairs & Vector256.Create(0xFFFF0000u)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        Vector256.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector256<float> a, Vector256<float> b) => Vector256.Sum(a + b);
}
