using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Gpu.Kernels;
using Ellsa.Kernels.Ops.Elementwise;
using ILGPU;
using ILGPU.Runtime;

namespace Ellsa.Kernels.Gpu
{
    public sealed partial class IlgpuBackend
    {
        public void Unary<TFn>(TensorView source, TensorView destination, TFn fn) where TFn : struct, IUnaryFunctor
        {
            Elementwise.CheckUnary(source, destination);
            var x = Tensor(source.Tensor);
            var y = Tensor(destination.Tensor);
            var kernel = _kernels.Generic(typeof(TFn), "unary",
                a => a.LoadKernel<ArrayView<float>, ArrayView<float>, ViewLayout, ViewLayout, int, TFn>(ElementwiseKernels.Unary));
            int count = (int)destination.Count;
            if (count == 0)
                return;
            Launch("Unary", (kernel, x, y, s: source.Layout, d: destination.Layout, count, fn),
                static (b, s) => s.kernel(b._host.Stream, b.ElementwiseConfig(s.count), s.x.View, s.y.View, s.s, s.d, s.count, s.fn),
                static s => $"{typeof(TFn).Name} over {s.d} elements");
        }

        public void Binary<TFn>(TensorView a, TensorView b, TensorView destination, TFn fn) where TFn : struct, IBinaryFunctor
        {
            Elementwise.CheckBinary(a, b, destination);
            var left = Tensor(a.Tensor);
            var right = Tensor(b.Tensor);
            var y = Tensor(destination.Tensor);
            var kernel = _kernels.Generic(typeof(TFn), "binary",
                acc => acc.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ViewLayout, ViewLayout, ViewLayout, int, TFn>(ElementwiseKernels.Binary));
            int count = (int)destination.Count;
            if (count == 0)
                return;
            Launch("Binary", (kernel, left, right, y, la: a.Layout, lb: b.Layout, d: destination.Layout, count, fn),
                static (backend, s) => s.kernel(backend._host.Stream, backend.ElementwiseConfig(s.count), s.left.View, s.right.View, s.y.View,
                    s.la, s.lb, s.d, s.count, s.fn),
                static s => $"{typeof(TFn).Name} over {s.d} elements");
        }

        /// <summary>Enough groups of the row kernels' size to cover the elements once on CUDA; the simulator strides.</summary>
        private KernelConfig ElementwiseConfig(int count)
        {
            int threads = Threads(RowKernels.Threads);
            return new KernelConfig(Groups((count + threads - 1) / threads), threads);
        }
    }
}

namespace Ellsa.Kernels.Gpu.Kernels
{
    /// <summary>
    /// One kernel per elementwise family, compiled once per functor type; threads stride over the
    /// elements. The attributes list every functor the project has, so the offline PTX check
    /// compiles each (a functor using math PTX lacks fails there, not on the device).
    /// </summary>
    public static class ElementwiseKernels
    {
        [GpuKernel(typeof(Copy))]
        [GpuKernel(typeof(Constant))]
        [GpuKernel(typeof(Affine))]
        [GpuKernel(typeof(Relu))]
        [GpuKernel(typeof(LeakyRelu))]
        [GpuKernel(typeof(Sigmoid))]
        [GpuKernel(typeof(Silu))]
        [GpuKernel(typeof(Tanh))]
        [GpuKernel(typeof(Gelu))]
        [GpuKernel(typeof(Mish))]
        [GpuKernel(typeof(SwooshL))]
        [GpuKernel(typeof(SwooshR))]
        [GpuKernel(typeof(Clamp))]
        [GpuKernel(typeof(Elu))]
        public static void Unary<TFn>(ArrayView<float> source, ArrayView<float> destination, ViewLayout s, ViewLayout d, int count, TFn fn)
            where TFn : struct, IUnaryFunctor
        {
            for (int i = Grid.GlobalIndex.X; i < count; i += Grid.DimX * Group.DimX)
                destination[d.OffsetOf(i)] = fn.Apply(source[s.OffsetOf(i)]);
        }

        [GpuKernel(typeof(Add))]
        [GpuKernel(typeof(Subtract))]
        [GpuKernel(typeof(Multiply))]
        [GpuKernel(typeof(Snake))]
        [GpuKernel(typeof(Divide))]
        [GpuKernel(typeof(PolarReal))]
        [GpuKernel(typeof(PolarImag))]
        public static void Binary<TFn>(ArrayView<float> a, ArrayView<float> b, ArrayView<float> destination,
            ViewLayout la, ViewLayout lb, ViewLayout d, int count, TFn fn) where TFn : struct, IBinaryFunctor
        {
            for (int i = Grid.GlobalIndex.X; i < count; i += Grid.DimX * Group.DimX)
                destination[d.OffsetOf(i)] = fn.Apply(a[la.OffsetOf(i)], b[lb.OffsetOf(i)]);
        }
    }
}
