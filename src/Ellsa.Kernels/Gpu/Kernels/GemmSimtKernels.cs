using ILGPU;

namespace Ellsa.Kernels.Gpu.Kernels;

/// <summary>Arguments of a matrix product over many input rows: y[m, n] = x[m] · w[n] (+ bias[n]) (+ y[m, n]).</summary>
public struct GemmArgs
{
    public int M, N, K;
    public int XOffset, XStride, YOffset, YStride;
    public int HasBias, Accumulate;
}

/// <summary>
/// The plain tiled matrix product on CUDA cores: the fallback where tensor cores are not used
/// (the CPU simulator, fp32 weight runs, the tensor cores switched off). 64 weight rows × (group
/// size / 8) input rows per group (32 with the 256 threads used on CUDA), K in steps of 32
/// through shared memory, 2×4 outputs per thread with consecutive lanes on consecutive weight
/// rows (conflict-free reads, coalesced writes).
/// </summary>
public static class GemmSimtKernels
{
    public const int MaxTileM = 32;
    public const int TileN = 64;
    public const int TileK = 32;
    public const int Threads = 256;
    private const int Pad = TileK + 1;

    /// <summary>Input rows per group for a group of <paramref name="threads"/> (a multiple of 16, at most 256).</summary>
    public static int TileM(int threads) => threads / 8;

    /// <summary>Tiles: ceil(N / 64) × ceil(M / TileM(group size)), one per group (groups stride over them).</summary>
    [GpuKernel]
    public static void Gemm(ArrayView<U4> w, MatrixRuns runs, ArrayView<float> x, ArrayView<float> y, ArrayView<float> bias, GemmArgs a)
    {
        var xs = SharedMemory.Allocate<float>(MaxTileM * Pad);
        var ws = SharedMemory.Allocate<float>(TileN * Pad);
        int tileM = Group.DimX / 8;
        int tilesN = (a.N + TileN - 1) / TileN;
        int tiles = tilesN * ((a.M + tileM - 1) / tileM);
        for (int tile = Grid.IdxX; tile < tiles; tile += Grid.DimX)
            Tile(w, runs, x, y, bias, a, xs, ws, (tile % tilesN) * TileN, (tile / tilesN) * tileM, tileM);
    }

    private static void Tile(ArrayView<U4> w, MatrixRuns runs, ArrayView<float> x, ArrayView<float> y, ArrayView<float> bias, GemmArgs a,
        ArrayView<float> xs, ArrayView<float> ws, int n0, int m0, int tileM)
    {
        int tid = Group.IdxX;
        int threads = Group.DimX;
        int tn = tid % 16;
        int tm = tid / 16;

        float c00 = 0f, c01 = 0f, c02 = 0f, c03 = 0f, c10 = 0f, c11 = 0f, c12 = 0f, c13 = 0f;
        for (int k0 = 0; k0 < a.K; k0 += TileK)
        {
            for (int idx = tid; idx < tileM * TileK; idx += threads)
            {
                int m = idx / TileK;
                int kk = idx - m * TileK;
                float v = 0f;
                if (m0 + m < a.M && k0 + kk < a.K)
                    v = x[a.XOffset + (m0 + m) * a.XStride + k0 + kk];
                xs[m * Pad + kk] = v;
            }
            // 64 rows × 4 groups of 8 weights per K step.
            for (int idx = tid; idx < TileN * 4; idx += threads)
            {
                int loadRow = idx / 4;
                int loadGroup = idx % 4;
                int globalRow = n0 + loadRow;
                int group = k0 / 8 + loadGroup;
                var wv = default(F8);
                if (globalRow < a.N && group < runs.Groups)
                {
                    int rowUnit = runs.Locate(globalRow);
                    wv = runs.IsF32(globalRow) ? DeviceMath.F32x8(w[rowUnit + 2 * group], w[rowUnit + 2 * group + 1]) : DeviceMath.Bf16x8(w[rowUnit + group]);
                }
                int at = loadRow * Pad + loadGroup * 8;
                ws[at] = wv.A0; ws[at + 1] = wv.A1; ws[at + 2] = wv.A2; ws[at + 3] = wv.A3;
                ws[at + 4] = wv.A4; ws[at + 5] = wv.A5; ws[at + 6] = wv.A6; ws[at + 7] = wv.A7;
            }
            Group.Barrier();

            for (int kk = 0; kk < TileK; kk++)
            {
                float x0 = xs[(2 * tm) * Pad + kk];
                float x1 = xs[(2 * tm + 1) * Pad + kk];
                float w0 = ws[tn * Pad + kk];
                float w1 = ws[(tn + 16) * Pad + kk];
                float w2 = ws[(tn + 32) * Pad + kk];
                float w3 = ws[(tn + 48) * Pad + kk];
                c00 += x0 * w0; c01 += x0 * w1; c02 += x0 * w2; c03 += x0 * w3;
                c10 += x1 * w0; c11 += x1 * w1; c12 += x1 * w2; c13 += x1 * w3;
            }
            Group.Barrier();
        }

        Store(y, bias, a, m0 + 2 * tm, n0 + tn, c00);
        Store(y, bias, a, m0 + 2 * tm, n0 + tn + 16, c01);
        Store(y, bias, a, m0 + 2 * tm, n0 + tn + 32, c02);
        Store(y, bias, a, m0 + 2 * tm, n0 + tn + 48, c03);
        Store(y, bias, a, m0 + 2 * tm + 1, n0 + tn, c10);
        Store(y, bias, a, m0 + 2 * tm + 1, n0 + tn + 16, c11);
        Store(y, bias, a, m0 + 2 * tm + 1, n0 + tn + 32, c12);
        Store(y, bias, a, m0 + 2 * tm + 1, n0 + tn + 48, c13);
    }

    private static void Store(ArrayView<float> y, ArrayView<float> bias, GemmArgs a, int m, int n, float v)
    {
        if (m >= a.M || n >= a.N)
            return;
        if (a.HasBias != 0)
            v += bias[n];
        int at = a.YOffset + m * a.YStride + n;
        if (a.Accumulate != 0)
            v += y[at];
        y[at] = v;
    }
}
