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
/// (the CPU simulator, fp32 weight runs, the tensor cores switched off). 32 input rows × 64
/// weight rows per group, K in steps of 32 through shared memory, 2×4 outputs per thread with
/// consecutive lanes on consecutive weight rows (conflict-free reads, coalesced writes).
/// </summary>
public static class GemmSimtKernels
{
    public const int TileM = 32;
    public const int TileN = 64;
    public const int TileK = 32;
    public const int Threads = 256;
    private const int Pad = TileK + 1;

    /// <summary>Grid: (ceil(N / 64), ceil(M / 32)).</summary>
    [GpuKernel]
    public static void Gemm(ArrayView<U4> w, MatrixRuns runs, ArrayView<float> x, ArrayView<float> y, ArrayView<float> bias, GemmArgs a)
    {
        var xs = SharedMemory.Allocate<float>(TileM * Pad);
        var ws = SharedMemory.Allocate<float>(TileN * Pad);
        int tid = Group.IdxX;
        int n0 = Grid.IdxX * TileN;
        int m0 = Grid.IdxY * TileM;
        int tn = tid % 16;
        int tm = tid / 16;

        // The weight row this thread loads in every K step, located once.
        int loadRow = tid / 4;
        int loadGroup = tid % 4;
        int globalRow = n0 + loadRow;
        bool rowValid = globalRow < a.N;
        int rowUnit = runs.Locate(rowValid ? globalRow : 0, out bool rowF32);

        float c00 = 0f, c01 = 0f, c02 = 0f, c03 = 0f, c10 = 0f, c11 = 0f, c12 = 0f, c13 = 0f;
        for (int k0 = 0; k0 < a.K; k0 += TileK)
        {
            for (int i = 0; i < 4; i++)
            {
                int idx = tid + i * Threads;
                int m = idx / TileK;
                int kk = idx - m * TileK;
                float v = 0f;
                if (m0 + m < a.M && k0 + kk < a.K)
                    v = x[a.XOffset + (m0 + m) * a.XStride + k0 + kk];
                xs[m * Pad + kk] = v;
            }
            int group = k0 / 8 + loadGroup;
            var wv = default(F8);
            if (rowValid && group < runs.Groups)
                wv = rowF32 ? DeviceMath.F32x8(w[rowUnit + 2 * group], w[rowUnit + 2 * group + 1]) : DeviceMath.Bf16x8(w[rowUnit + group]);
            int at = loadRow * Pad + loadGroup * 8;
            ws[at] = wv.A0; ws[at + 1] = wv.A1; ws[at + 2] = wv.A2; ws[at + 3] = wv.A3;
            ws[at + 4] = wv.A4; ws[at + 5] = wv.A5; ws[at + 6] = wv.A6; ws[at + 7] = wv.A7;
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
