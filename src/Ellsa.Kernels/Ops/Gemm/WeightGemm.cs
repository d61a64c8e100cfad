using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Elementwise;

namespace Ellsa.Kernels.Ops.Gemm;

/// <summary>
/// The weight product of many rows at once, output = then(input · weightᵀ + bias) or output +=
/// input · weightᵀ + bias: a convolution's column block (thousands of positions against a few
/// hundred filters) or a network's linear layers over a step of frames, where the SA-MoE's MatMul
/// is built for a handful of tokens. Backends may pack the weight for it and run the function or
/// the residual add in the product's epilogue; the GPU runs its GEMM.
/// </summary>
public static class WeightGemm
{
    /// <summary>
    /// The shapes of <see cref="IComputeBackend.MatMul"/>, checked by the same code; a product that
    /// accumulates applies no function (the residual add comes after the whole product).
    /// </summary>
    public static void Check<TFn>(DeviceMatrix weight, TensorSlice input, TensorSlice output, DeviceVector? bias, bool accumulate)
        where TFn : struct, IUnaryFunctor
    {
        BackendChecks.MatMul(weight, input, output, bias);
        if (accumulate && typeof(TFn) != typeof(Copy))
            throw new ArgumentException($"a weight GEMM of {weight.Name} that accumulates into its output applies no function ({typeof(TFn).Name} given)");
    }

    /// <summary>
    /// The definition in double precision: weight is [n, k] row-major (the stored values), input
    /// [m, k] and output [m, n] with row strides; each result is rounded to fp32 once.
    /// </summary>
    public static void Reference<TFn>(ReadOnlySpan<double> weight, int n, int k, ReadOnlySpan<float> input, int inputStride,
        Span<float> output, int outputStride, int m, ReadOnlySpan<float> bias, bool accumulate, TFn then)
        where TFn : struct, IUnaryFunctor
    {
        for (int r = 0; r < m; r++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = bias.IsEmpty ? 0 : bias[j];
                for (int i = 0; i < k; i++)
                    sum += input[r * inputStride + i] * weight[j * k + i];
                ref float target = ref output[r * outputStride + j];
                target = (float)(accumulate ? target + sum : then.Exact(sum));
            }
        }
    }
}
