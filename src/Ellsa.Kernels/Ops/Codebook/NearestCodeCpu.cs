using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Codebook;

namespace Ellsa.Kernels.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void NearestCodes(TensorSlice products, TensorView norms, Span<int> codes)
    {
        NearestCode.Check(products, norms, codes.Length);
        float* n = Base(norms) + norms.Layout.Offset;
        for (int r = 0; r < products.Rows; r++)
        {
            float* row = At(products.RowRange(r, 1));
            int best = 0;
            float bestScore = NearestCode.Score(n[0], row[0]);
            for (int c = 1; c < products.Cols; c++)
            {
                float score = NearestCode.Score(n[c], row[c]);
                if (score < bestScore)
                    (best, bestScore) = (c, score);
            }
            codes[r] = best;
        }
    }
}
