using Ellsa.Kernels.Backend;

namespace Ellsa.Kernels.Ops.Gemm;

/// <summary>
/// The weight product of many rows at once, output = input · weightᵀ (+ bias): a convolution's
/// column block (thousands of positions against a few hundred filters), where the SA-MoE's MatMul
/// is built for a handful of tokens. Backends may pack the weight for it; the GPU runs its GEMM.
/// </summary>
public static class WeightGemm
{
    /// <summary>The same shapes as <see cref="IComputeBackend.MatMul"/>, checked by the same code.</summary>
    public static void Check(DeviceMatrix weight, TensorSlice input, TensorSlice output, DeviceVector? bias) =>
        BackendChecks.MatMul(weight, input, output, bias);
}
