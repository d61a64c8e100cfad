using ILGPU;
using ILGPU.Runtime.Cuda;

namespace Ellsa.Kernels.Gpu.Kernels;

/// <summary>Scalar helpers every kernel uses; all inline into their callers.</summary>
public static class DeviceMath
{
    public const float Log2E = 1.44269504088896341f;

    /// <summary>bf16 is the upper half of an IEEE single: the low 16 bits of a word, widened exactly.</summary>
    public static float Bf16Low(uint word) => Interop.IntAsFloat(word << 16);

    /// <summary>The high 16 bits of a word as bf16, widened exactly.</summary>
    public static float Bf16High(uint word) => Interop.IntAsFloat(word & 0xFFFF0000u);

    /// <summary>Round to nearest even, NaN kept a NaN (as <see cref="Numerics.BFloat16.FromSingle(float)"/>).</summary>
    public static uint ToBf16Bits(float value)
    {
        uint u = Interop.FloatAsInt(value);
        if ((u & 0x7FFF_FFFFu) > 0x7F80_0000u)
            return (u >> 16) | 0x0040u;
        return (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
    }

    /// <summary>The float a bf16 bit pattern stands for.</summary>
    public static float FromBf16Bits(uint bits) => Interop.IntAsFloat(bits << 16);

    /// <summary>Two bf16 values in one word, first in the low half (the order mma fragments use).</summary>
    public static uint PackBf16(float first, float second) => ToBf16Bits(first) | (ToBf16Bits(second) << 16);

    /// <summary>
    /// e^x through the hardware's ex2 (ILGPU maps Exp2 to <c>ex2.approx.f32</c>, about 2 ulp;
    /// MathF.Exp has no PTX implementation without ILGPU.Algorithms).
    /// </summary>
    public static float Exp(float x) => IntrinsicMath.CPUOnly.Exp2(x * Log2E);

    public static float Silu(float x) => x / (1f + Exp(-x));

    /// <summary>Eight bf16 weights of one 16-byte vector, in memory order.</summary>
    public static F8 Bf16x8(U4 v) => new()
    {
        A0 = Bf16Low(v.X), A1 = Bf16High(v.X), A2 = Bf16Low(v.Y), A3 = Bf16High(v.Y),
        A4 = Bf16Low(v.Z), A5 = Bf16High(v.Z), A6 = Bf16Low(v.W), A7 = Bf16High(v.W),
    };

    /// <summary>Eight fp32 values from two 16-byte vectors.</summary>
    public static F8 F32x8(U4 a, U4 b) => new()
    {
        A0 = Interop.IntAsFloat(a.X), A1 = Interop.IntAsFloat(a.Y), A2 = Interop.IntAsFloat(a.Z), A3 = Interop.IntAsFloat(a.W),
        A4 = Interop.IntAsFloat(b.X), A5 = Interop.IntAsFloat(b.Y), A6 = Interop.IntAsFloat(b.Z), A7 = Interop.IntAsFloat(b.W),
    };

    public static float Dot(in F8 a, in F8 b) =>
        a.A0 * b.A0 + a.A1 * b.A1 + a.A2 * b.A2 + a.A3 * b.A3 + a.A4 * b.A4 + a.A5 * b.A5 + a.A6 * b.A6 + a.A7 * b.A7;

    /// <summary>x · scale · weight per element, in the CPU backend's RMSNorm order so both round alike.</summary>
    public static F8 Normalize(in F8 x, in F8 weight, float scale) => new()
    {
        A0 = x.A0 * scale * weight.A0, A1 = x.A1 * scale * weight.A1, A2 = x.A2 * scale * weight.A2, A3 = x.A3 * scale * weight.A3,
        A4 = x.A4 * scale * weight.A4, A5 = x.A5 * scale * weight.A5, A6 = x.A6 * scale * weight.A6, A7 = x.A7 * scale * weight.A7,
    };

    /// <summary>True where the kernel runs on a CUDA device (inline PTX allowed).</summary>
    public static bool OnCuda => CudaAsm.IsSupported;
}
