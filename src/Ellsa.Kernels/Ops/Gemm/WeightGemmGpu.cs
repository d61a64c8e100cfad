using Ellsa.Kernels.Backend;

namespace Ellsa.Kernels.Gpu;

public sealed partial class IlgpuBackend
{
    /// <summary>The GPU's MatMul already tiles many rows (tensor cores for bf16 rows, the SIMT GEMM for fp32).</summary>
    public void WeightGemm(DeviceMatrix weight, TensorSlice input, TensorSlice output, DeviceVector? bias)
    {
        Ops.Gemm.WeightGemm.Check(weight, input, output, bias);
        MatMul(weight, input, output, bias, accumulate: false);
    }
}
