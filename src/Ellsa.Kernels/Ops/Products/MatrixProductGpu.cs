using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Gpu.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace Ellsa.Kernels.Gpu
{
    public sealed partial class IlgpuBackend
    {
        public void MatrixProduct(TensorView a, TensorView b, TensorView output, float scale)
        {
            Ops.Products.MatrixProduct.Check(a, b, output);
            if (output.Count == 0)
                return;
            var x = Tensor(a.Tensor);
            var y = Tensor(b.Tensor);
            var z = Tensor(output.Tensor);
            var args = new MatrixProductArgs { A = a.Layout, B = b.Layout, Output = output.Layout, Scale = scale, Count = (int)output.Count };
            Launch("MatrixProduct", (x, y, z, args),
                static (backend, s) => backend._kernels.MatrixProduct.Value(backend._host.Stream, backend.ElementwiseConfig(s.args.Count),
                    s.x.View, s.y.View, s.z.View, s.args),
                static s => $"{s.args.A} · {s.args.B}ᵀ");
        }
    }
}

namespace Ellsa.Kernels.Gpu.Kernels
{
    public struct MatrixProductArgs
    {
        public ViewLayout A, B, Output;
        public float Scale;
        public int Count;
    }

    /// <summary>
    /// One thread per output element, consecutive threads along a row of the output. Plain on
    /// purpose: the relative-position products it serves are a small share of the flow's work.
    /// </summary>
    public static class MatrixProductKernels
    {
        [GpuKernel]
        public static void Product(ArrayView<float> a, ArrayView<float> b, ArrayView<float> output, MatrixProductArgs args)
        {
            int m = args.A.D1, n = args.B.D1, k = args.A.D2;
            for (int e = Grid.GlobalIndex.X; e < args.Count; e += Grid.DimX * Group.DimX)
            {
                int j = e % n, rest = e / n, i = rest % m, z = rest / m;
                int rowA = args.A.Offset + z * args.A.S0 + i * args.A.S1;
                int rowB = args.B.Offset + z * args.B.S0 + j * args.B.S1;
                float sum = 0f;
                for (int c = 0; c < k; c++)
                    sum += a[rowA + c * args.A.S2] * b[rowB + c * args.B.S2];
                output[args.Output.Offset + z * args.Output.S0 + i * args.Output.S1 + j * args.Output.S2] = sum * args.Scale;
            }
        }
    }
}
