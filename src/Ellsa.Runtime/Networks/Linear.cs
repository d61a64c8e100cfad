using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Elementwise;

namespace Ellsa.Runtime.Networks;

/// <summary>nn.Linear: weight [out, in] in its stored dtype, optional fp32 bias [out], applied to rows.</summary>
public sealed class Linear(DeviceMatrix weight, DeviceVector? bias)
{
    public DeviceMatrix Weight => weight;
    public int InFeatures => weight.Cols;
    public int OutFeatures => weight.Rows;

    public static Linear Load(WeightScope scope, int inFeatures, int outFeatures, bool bias = true) =>
        new(scope.Matrix("weight", outFeatures, inFeatures), bias ? scope.Vector("bias", outFeatures) : null);

    /// <summary>output = input · Wᵀ + b, through the backend's many-row product.</summary>
    public void Forward(IComputeBackend backend, TensorSlice input, TensorSlice output) => backend.WeightGemm(weight, input, output, bias);

    /// <summary>output = then(input · Wᵀ + b): the activation in the product's epilogue.</summary>
    public void Forward<TFn>(IComputeBackend backend, TensorSlice input, TensorSlice output, TFn then) where TFn : struct, IUnaryFunctor =>
        backend.WeightGemm(weight, input, output, bias, accumulate: false, then);

    /// <summary>residual += input · Wᵀ + b (a residual branch's projection), added in the product's epilogue.</summary>
    public void AddTo(IComputeBackend backend, TensorSlice input, TensorSlice residual) => backend.WeightGemmAdd(weight, input, residual, bias);
}
