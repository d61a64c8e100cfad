using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Gpu.Kernels;
using Ellsa.Kernels.Gpu.Memory;
using Ellsa.Kernels.Ops.Elementwise;
using Ellsa.Kernels.Ops.Norms;
using ILGPU;
using ILGPU.Runtime;

namespace Ellsa.Kernels.Gpu
{
    public sealed partial class IlgpuBackend
    {
        public void Normalize<TFn>(TensorView source, TensorView destination, NormSpec spec, TensorView? weight, TensorView? bias, TFn then)
            where TFn : struct, IUnaryFunctor
        {
            Normalization.Check(source, destination, spec, weight, bias);
            var x = Tensor(source.Tensor);
            var y = Tensor(destination.Tensor);
            var w = weight is { } wv ? Tensor(wv.Tensor) : null;
            var b = bias is { } bv ? Tensor(bv.Tensor) : null;
            var args = new NormArgs
            {
                Rows = source.Dim(0), Width = source.Dim(1), Spec = spec,
                SourceOffset = source.Layout.Offset, SourceStride = source.Layout.S0,
                DestinationOffset = destination.Layout.Offset, DestinationStride = destination.Layout.S0,
                HasWeight = w is null ? 0 : 1, WeightOffset = weight?.Layout.Offset ?? 0, WeightStride = weight?.Layout.S0 ?? 0,
                HasBias = b is null ? 0 : 1, BiasOffset = bias?.Layout.Offset ?? 0, BiasStride = bias?.Layout.S0 ?? 0,
                Exchange = Exchange,
            };
            if (args.Rows == 0 || args.Width == 0)
                return;
            var kernel = _kernels.Generic(typeof(TFn), "normalize",
                a => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormArgs, TFn>(NormKernels.Normalize));
            Launch("Normalize", (kernel, x, y, w, b, args, then, dummy: _workspace.Dummy),
                static (backend, s) => s.kernel(backend._host.Stream,
                    new KernelConfig(backend.Groups(s.args.Rows), backend.Threads(NormKernels.Threads)),
                    s.x.View, s.y.View, s.w?.View ?? s.dummy, s.b?.View ?? s.dummy, s.args, s.then),
                static s => $"{s.args.Spec.Kind} of {s.args.Rows} rows × {s.args.Width} then {typeof(TFn).Name}");
        }
    }
}

namespace Ellsa.Kernels.Gpu.Kernels
{
    public struct NormArgs
    {
        public int Rows, Width;
        public NormSpec Spec;
        public int SourceOffset, SourceStride, DestinationOffset, DestinationStride;
        public int HasWeight, WeightOffset, WeightStride, HasBias, BiasOffset, BiasStride;
        public int Exchange;
    }

    /// <summary>
    /// One group per normalisation row: block reductions for the statistics, then one pass to write
    /// through the functor. Compiled per functor; the attributes list those the networks put after a norm.
    /// </summary>
    public static class NormKernels
    {
        public const int Threads = 256;

        [GpuKernel(typeof(Copy))]
        [GpuKernel(typeof(Silu))]
        public static void Normalize<TFn>(ArrayView<float> source, ArrayView<float> destination, ArrayView<float> weight, ArrayView<float> bias,
            NormArgs a, TFn then) where TFn : struct, IUnaryFunctor
        {
            var reducer = new WarpReducer(SharedMemory.Allocate<float>(WarpReducer.ScratchFloats), a.Exchange);
            var spec = a.Spec;
            for (int row = Grid.IdxX; row < a.Rows; row += Grid.DimX)
            {
                int src = a.SourceOffset + row * a.SourceStride;
                int dst = a.DestinationOffset + row * a.DestinationStride;
                int first = (row % spec.Groups) * a.Width;
                float mean = 0f;
                if (spec.Kind == NormKind.Standard)
                {
                    float sum = 0f;
                    for (int j = Group.IdxX; j < a.Width; j += Group.DimX)
                        sum += source[src + j];
                    mean = reducer.BlockSum(sum) / a.Width;
                }
                float squares = 0f;
                for (int j = Group.IdxX; j < a.Width; j += Group.DimX)
                {
                    float c = spec.Kind == NormKind.Bias
                        ? source[src + j] - bias[a.BiasOffset + (first + j) / spec.ElementsPerChannel * a.BiasStride]
                        : source[src + j] - mean;
                    squares += c * c;
                }
                float meanSquare = reducer.BlockSum(squares) / a.Width;
                float scale = spec.Kind == NormKind.Bias
                    ? spec.Scale * IntrinsicMath.CPUOnly.Rsqrt(meanSquare)
                    : 1f / IntrinsicMath.CPUOnly.Sqrt(meanSquare + spec.Eps);
                for (int j = Group.IdxX; j < a.Width; j += Group.DimX)
                {
                    float v = (source[src + j] - mean) * scale;
                    if (spec.Kind != NormKind.Bias)
                    {
                        int p = (first + j) / spec.ElementsPerChannel;
                        if (a.HasWeight != 0)
                            v *= weight[a.WeightOffset + p * a.WeightStride];
                        if (a.HasBias != 0)
                            v += bias[a.BiasOffset + p * a.BiasStride];
                    }
                    destination[dst + j] = then.Apply(v);
                }
            }
        }
    }
}
