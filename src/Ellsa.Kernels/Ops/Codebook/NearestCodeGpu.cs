using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Gpu.Kernels;
using Ellsa.Kernels.Gpu.Memory;
using Ellsa.Kernels.Ops.Codebook;
using ILGPU;
using ILGPU.Runtime;

namespace Ellsa.Kernels.Gpu
{
    public sealed partial class IlgpuBackend
    {
        public void NearestCodes(TensorSlice products, TensorView norms, Span<int> codes)
        {
            NearestCode.Check(products, norms, codes.Length);
            var p = Tensor(products);
            var n = Tensor(norms.Tensor);
            if (products.Rows == 0)
                return;
            var args = new NearestCodeArgs
            {
                Rows = products.Rows, Codes = products.Cols, ProductOffset = p.Offset(products), ProductStride = p.Cols,
                NormOffset = norms.Layout.Offset, Exchange = Exchange,
            };
            lock (_host.Gate)
            {
                var result = _workspace.Ints("nearest.codes", products.Rows);
                Launch("NearestCodes", (p, n, result, args),
                    static (b, s) => b._kernels.NearestCode.Value(b._host.Stream, new KernelConfig(b.Groups(s.args.Rows), b.Threads(NormKernels.Threads)),
                        s.p.View, s.n.View, s.result, s.args),
                    static s => $"{s.args.Rows} rows × {s.args.Codes} codes");
                Guard("NearestCodes", flush: false, (result, rows: products.Rows), codes, static (b, s, destination) =>
                {
                    HostTransfer.Download(b._host.Stream, s.result, destination[..s.rows]);
                    return true;
                }, static s => $"download of {s.rows} codes");
            }
        }
    }
}

namespace Ellsa.Kernels.Gpu.Kernels
{
    public struct NearestCodeArgs
    {
        public int Rows, Codes, ProductOffset, ProductStride, NormOffset, Exchange;
    }

    /// <summary>One group per row: the block minimum of the scores, then the lowest index that reaches it.</summary>
    public static class NearestCodeKernels
    {
        [GpuKernel]
        public static void Nearest(ArrayView<float> products, ArrayView<float> norms, ArrayView<int> result, NearestCodeArgs a)
        {
            var reducer = new WarpReducer(SharedMemory.Allocate<float>(WarpReducer.ScratchFloats), a.Exchange);
            for (int row = Grid.IdxX; row < a.Rows; row += Grid.DimX)
            {
                int first = a.ProductOffset + row * a.ProductStride;
                float best = float.PositiveInfinity;
                for (int c = Group.IdxX; c < a.Codes; c += Group.DimX)
                    best = IntrinsicMath.Min(best, NearestCode.Score(norms[a.NormOffset + c], products[first + c]));
                best = -reducer.BlockMax(-best);
                // Indices stay exact as floats up to 2²⁴ codes.
                float lowest = -float.MaxValue;
                for (int c = Group.IdxX; c < a.Codes; c += Group.DimX)
                {
                    if (NearestCode.Score(norms[a.NormOffset + c], products[first + c]) == best)
                    {
                        lowest = -c;
                        break;
                    }
                }
                int chosen = (int)-reducer.BlockMax(lowest);
                if (Group.IdxX == 0)
                    result[row] = chosen;
            }
        }
    }
}
