using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ILGPU;

namespace Ellsa.Kernels.Ops.Elementwise;

/// <summary>
/// One elementwise function: <see cref="Apply"/> is what the CPU job and the GPU kernel run (fp32,
/// device-safe math only); <see cref="Exact"/> is the textbook definition in double precision,
/// which the scalar reference uses, so tests hold the fp32 versions to the definition and not to
/// themselves. Parameters (a slope, a scale) are the struct's fields.
/// </summary>
public interface IUnaryFunctor
{
    float Apply(float x);
    double Exact(double x);

    /// <summary>
    /// The CPU's path for a dense run: a functor with a vectorised form (System.Numerics.Tensors)
    /// overrides it; the rest loop over <see cref="Apply"/>. Never called on the GPU.
    /// </summary>
    void ApplyRun(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++)
            y[i] = Apply(x[i]);
    }
}

/// <summary>A two-operand elementwise function; see <see cref="IUnaryFunctor"/>.</summary>
public interface IBinaryFunctor
{
    float Apply(float a, float b);
    double Exact(double a, double b);
}

/// <summary>
/// fp32 math that compiles for PTX as well as for the CPU: MathF's transcendental functions have
/// no PTX implementation in ILGPU without ILGPU.Algorithms, while the exp2/log2/sin hardware
/// instructions do (about 2 ulp), so everything here is built on those.
/// </summary>
public static class OpMath
{
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2 = 0.693147180559945309f;

    public static float Exp(float x) => IntrinsicMath.CPUOnly.Exp2(x * Log2E);

    public static float Log(float x) => IntrinsicMath.CPUOnly.Log2(x) * Ln2;

    public static float Sin(float x) => IntrinsicMath.CPUOnly.Sin(x);

    public static float Cos(float x) => IntrinsicMath.CPUOnly.Cos(x);

    public static float Sigmoid(float x) => 1f / (1f + Exp(-x));

    /// <summary>log(1 + eˣ) without overflow: max(x, 0) + log(1 + e^−|x|).</summary>
    public static float Softplus(float x) => IntrinsicMath.Max(x, 0f) + Log(1f + Exp(-IntrinsicMath.Abs(x)));

    /// <summary>tanh from one exponential of a non-positive argument (no overflow), sign restored.</summary>
    public static float Tanh(float x)
    {
        float e = Exp(-2f * IntrinsicMath.Abs(x));
        float t = (1f - e) / (1f + e);
        return x < 0f ? -t : t;
    }

    /// <summary>
    /// erf to about 1e-7 absolute: Numerical Recipes' erfc Chebyshev fit (erfcc), whose fractional
    /// error is below 1.2e-7 everywhere; fp32 holds no more.
    /// </summary>
    public static float Erf(float x)
    {
        float z = IntrinsicMath.Abs(x);
        float t = 1f / (1f + 0.5f * z);
        float poly = -z * z - 1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f + t * (-0.18628806f
                      + t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f))))))));
        float erfc = t * Exp(poly);
        return x >= 0f ? 1f - erfc : erfc - 1f;
    }
}

/// <summary>x (a copy, or a layout change when the views differ).</summary>
public struct Copy : IUnaryFunctor
{
    public readonly float Apply(float x) => x;
    public readonly double Exact(double x) => x;
}

/// <summary>Value, whatever x is (a fill: the source may be the destination itself).</summary>
public struct Constant(float value) : IUnaryFunctor
{
    public float Value = value;
    public readonly float Apply(float x) => Value;
    public readonly double Exact(double x) => Value;
}

/// <summary>Scale·x + Shift.</summary>
public struct Affine(float scale, float shift) : IUnaryFunctor
{
    public float Scale = scale;
    public float Shift = shift;
    public readonly float Apply(float x) => Scale * x + Shift;
    public readonly double Exact(double x) => (double)Scale * x + Shift;
}

public struct Relu : IUnaryFunctor
{
    public readonly float Apply(float x) => x > 0f ? x : 0f;
    public readonly double Exact(double x) => x > 0 ? x : 0;
}

/// <summary>x for x ≥ 0, Slope·x below (PyTorch's default slope is 0.01; HiFT also uses 0.1).</summary>
public struct LeakyRelu(float slope) : IUnaryFunctor
{
    public float Slope = slope;
    public readonly float Apply(float x) => x >= 0f ? x : Slope * x;
    public readonly double Exact(double x) => x >= 0 ? x : Slope * x;
}

public struct Sigmoid : IUnaryFunctor
{
    public readonly float Apply(float x) => OpMath.Sigmoid(x);
    public readonly double Exact(double x) => 1 / (1 + Math.Exp(-x));
}

/// <summary>x·sigmoid(x) (also Emu3's "swish" activation).</summary>
public struct Silu : IUnaryFunctor
{
    public readonly float Apply(float x) => x * OpMath.Sigmoid(x);
    public readonly double Exact(double x) => x / (1 + Math.Exp(-x));

    public readonly void ApplyRun(ReadOnlySpan<float> x, Span<float> y)
    {
        // In place (y is x, the only overlap the family's contract allows): sigmoid into y would
        // overwrite the x the product still needs, so go through a small buffer.
        if (Unsafe.AreSame(ref MemoryMarshal.GetReference(x), ref MemoryMarshal.GetReference(y)))
        {
            // TensorPrimitives may not run in place across two passes: chunk through a stack buffer.
            Span<float> buffer = stackalloc float[256];
            for (int i = 0; i < x.Length; i += buffer.Length)
            {
                int n = Math.Min(buffer.Length, x.Length - i);
                TensorPrimitives.Sigmoid(x.Slice(i, n), buffer[..n]);
                TensorPrimitives.Multiply(x.Slice(i, n), buffer[..n], y.Slice(i, n));
            }
            return;
        }
        TensorPrimitives.Sigmoid(x, y);
        TensorPrimitives.Multiply(x, y, y);
    }
}

public struct Tanh : IUnaryFunctor
{
    public readonly float Apply(float x) => OpMath.Tanh(x);
    public readonly double Exact(double x) => Math.Tanh(x);
}

/// <summary>The exact GELU, x·Φ(x) = x/2·(1 + erf(x/√2)) (PyTorch's default, approximate='none').</summary>
public struct Gelu : IUnaryFunctor
{
    public readonly float Apply(float x) => 0.5f * x * (1f + OpMath.Erf(x * 0.707106781186547524f));
    public readonly double Exact(double x) => 0.5 * x * (1 + ScalarMath.Erf(x / Math.Sqrt(2)));
}

/// <summary>x·tanh(softplus(x)).</summary>
public struct Mish : IUnaryFunctor
{
    public readonly float Apply(float x) => x * OpMath.Tanh(OpMath.Softplus(x));
    public readonly double Exact(double x) => x * Math.Tanh(ScalarMath.Softplus(x));
}

/// <summary>Zipformer's SwooshL: log(1 + e^(x−4)) − 0.08x − 0.035.</summary>
public struct SwooshL : IUnaryFunctor
{
    public readonly float Apply(float x) => OpMath.Softplus(x - 4f) - 0.08f * x - 0.035f;
    public readonly double Exact(double x) => ScalarMath.Softplus(x - 4) - 0.08 * x - 0.035;
}

/// <summary>Zipformer's SwooshR: log(1 + e^(x−1)) − 0.08x − 0.313261687.</summary>
public struct SwooshR : IUnaryFunctor
{
    public readonly float Apply(float x) => OpMath.Softplus(x - 1f) - 0.08f * x - 0.313261687f;
    public readonly double Exact(double x) => ScalarMath.Softplus(x - 1) - 0.08 * x - 0.313261687;
}

/// <summary>ELU with α = 1: x above 0, eˣ − 1 below (nn.ELU's default; HiFT's F0 predictor).</summary>
public struct Elu : IUnaryFunctor
{
    public readonly float Apply(float x) => x > 0f ? x : OpMath.Exp(x) - 1f;
    public readonly double Exact(double x) => x > 0 ? x : Math.Exp(x) - 1;
}

/// <summary>x limited to [Min, Max] (HiFT's final clamp).</summary>
public struct Clamp(float min, float max) : IUnaryFunctor
{
    public float Min = min;
    public float Max = max;
    public readonly float Apply(float x) => IntrinsicMath.Clamp(x, Min, Max);
    public readonly double Exact(double x) => Math.Clamp(x, Min, Max);
}

public struct Add : IBinaryFunctor
{
    public readonly float Apply(float a, float b) => a + b;
    public readonly double Exact(double a, double b) => a + b;
}

public struct Subtract : IBinaryFunctor
{
    public readonly float Apply(float a, float b) => a - b;
    public readonly double Exact(double a, double b) => a - b;
}

public struct Multiply : IBinaryFunctor
{
    public readonly float Apply(float a, float b) => a * b;
    public readonly double Exact(double a, double b) => a * b;
}

public struct Divide : IBinaryFunctor
{
    public readonly float Apply(float a, float b) => a / b;
    public readonly double Exact(double a, double b) => a / b;
}

/// <summary>
/// The real part of HiFT's spectrum from conv_post's channels (generator.py:L375-376, L341-347):
/// magnitude min(eᵃ, MaxMagnitude) at phase sin(b) (the authors' "redundant" sin), times cos of that phase.
/// </summary>
public struct PolarReal(float maxMagnitude) : IBinaryFunctor
{
    public float MaxMagnitude = maxMagnitude;
    public readonly float Apply(float a, float b) => IntrinsicMath.Min(OpMath.Exp(a), MaxMagnitude) * OpMath.Cos(OpMath.Sin(b));
    public readonly double Exact(double a, double b) => Math.Min(Math.Exp(a), MaxMagnitude) * Math.Cos(Math.Sin(b));
}

/// <summary>The imaginary part beside <see cref="PolarReal"/>: min(eᵃ, MaxMagnitude)·sin(sin b).</summary>
public struct PolarImag(float maxMagnitude) : IBinaryFunctor
{
    public float MaxMagnitude = maxMagnitude;
    public readonly float Apply(float a, float b) => IntrinsicMath.Min(OpMath.Exp(a), MaxMagnitude) * OpMath.Sin(OpMath.Sin(b));
    public readonly double Exact(double a, double b) => Math.Min(Math.Exp(a), MaxMagnitude) * Math.Sin(Math.Sin(b));
}

/// <summary>HiFT's Snake with a per-channel α (b, broadcast): x + sin²(αx)/(α + 1e-9).</summary>
public struct Snake : IBinaryFunctor
{
    public readonly float Apply(float x, float alpha)
    {
        float s = OpMath.Sin(alpha * x);
        return x + s * s / (alpha + 1e-9f);
    }

    public readonly double Exact(double x, double alpha)
    {
        double s = Math.Sin(alpha * x);
        return x + s * s / (alpha + 1e-9);
    }
}

/// <summary>Double-precision definitions .NET lacks, for the scalar references.</summary>
public static class ScalarMath
{
    public static double Softplus(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));

    /// <summary>erf to about 1e-15 (W. J. Cody's rational approximations would do as well; a series and a continued fraction are simpler and ample here).</summary>
    public static double Erf(double x)
    {
        double z = Math.Abs(x);
        double result;
        if (z < 2.5)
        {
            // Maclaurin series: erf z = 2/√π Σ (−1)ⁿ z^(2n+1) / (n!(2n+1)).
            double term = z, sum = z, z2 = z * z;
            for (int n = 1; n < 80 && Math.Abs(term) > 1e-17 * Math.Abs(sum); n++)
            {
                term *= -z2 / n;
                sum += term / (2 * n + 1);
            }
            result = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            // erfc by its continued fraction, evaluated from the tail (Lentz would also do).
            double fraction = 0;
            for (int n = 60; n >= 1; n--)
                fraction = n / 2.0 / (z + fraction);
            result = 1 - Math.Exp(-z * z) / Math.Sqrt(Math.PI) / (z + fraction);
        }
        return x < 0 ? -result : result;
    }
}
