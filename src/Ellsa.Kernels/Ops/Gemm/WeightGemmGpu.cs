using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Elementwise;

namespace Ellsa.Kernels.Gpu;

public sealed partial class IlgpuBackend
{
    /// <summary>
    /// The GPU's MatMul already tiles many rows (tensor cores for bf16 rows, the SIMT GEMM for fp32)
    /// and adds into its output; a function follows as the elementwise kernel, in place.
    /// </summary>
    public void WeightGemm<TFn>(DeviceMatrix weight, TensorSlice input, TensorSlice output, DeviceVector? bias, bool accumulate, TFn then)
        where TFn : struct, IUnaryFunctor
    {
        Ops.Gemm.WeightGemm.Check<TFn>(weight, input, output, bias, accumulate);
        MatMul(weight, input, output, bias, accumulate);
        if (typeof(TFn) != typeof(Copy) && input.Rows > 0)
            Unary(output, output, then);
    }
}
