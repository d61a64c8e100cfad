using Ellsa.Kernels.Backend;

namespace Ellsa.Kernels.Ops.Gemm;

/// <summary>
/// The weight product of many rows at once, output = input · weightᵀ (+ bias): a convolution's
/// column block (thousands of positions against a few hundred filters), where the SA-MoE's MatMul
/// is built for a handful of tokens. Backends may pack the weight for it; the GPU runs its GEMM.
/// </summary>
public static class WeightGemm
{
    public static void Check(DeviceMatrix weight, TensorSlice input, TensorSlice output, DeviceVector? bias)
    {
        if (input.Cols != weight.Cols || output.Cols != weight.Rows || input.Rows != output.Rows)
            throw new ArgumentException(
                $"{weight.Name} is {weight.Rows}×{weight.Cols}: cannot map {input.Rows}×{input.Cols} to {output.Rows}×{output.Cols}");
        if (bias is not null && bias.Length != weight.Rows)
            throw new ArgumentException($"{weight.Name}: bias has {bias.Length} values for {weight.Rows} rows");
    }
}
