using ILGPU;

namespace Ellsa.Kernels.Gpu.Kernels;

/// <summary>Arguments of <see cref="GemvKernels.Gemv"/>.</summary>
public struct GemvArgs
{
    /// <summary>Output rows; in pair mode the gate half's row count (the up rows follow it).</summary>
    public int Rows;
    public int K;
    /// <summary>Input rows (tokens) handled by this launch, 1 to <see cref="GemvKernels.MaxTokens"/>.</summary>
    public int Tokens;
    public int XOffset, XStride;
    /// <summary>1 when every input row starts on a 16-byte boundary (read as 16-byte vectors).</summary>
    public int XAligned;
    public int YOffset, YStride;
    public int HasBias, Accumulate;
    /// <summary>1: rows i and Rows + i are gate and up; the output is silu(gate) · up.</summary>
    public int PairMode;
    /// <summary>1: the input is RMSNorm(x) with the norm weight and Eps; group 0 also stores it at NormOut.</summary>
    public int Norm;
    public float Eps;
    public int NormOutOffset, NormOutStride;
    /// <summary>Reductions by shared-memory exchange instead of shuffles (simulator only, see <see cref="WarpReducer"/>).</summary>
    public int Exchange;
}

/// <summary>
/// The decode matrix-vector product: y[t, r] = w[r] · x[t] for up to four input rows, weights
/// read exactly once per launch.
/// <list type="bullet">
/// <item>A warp owns two weight rows (plain mode) or gate row i and up row i (pair mode, which
/// finishes with silu(gate)·up so the [T, 2·ff] product never reaches memory).</item>
/// <item>Lanes stride over 8-element groups: one 16-byte load per group of a bf16 row (two for
/// fp32), unrolled four groups deep so eight independent 16-byte loads per lane are in flight.</item>
/// <item>fp32 accumulation; one warp-shuffle reduction per (row, token) at the end.</item>
/// <item>Optional RMSNorm prologue: each group computes the row scales itself (the input is a
/// few KB, read from L2) so the norm costs no launch of its own; group 0 stores the normalised
/// row because the model may read it.</item>
/// </list>
/// Rows are padded to whole groups with zeros and input reads past K are masked, so any K works.
/// </summary>
public static class GemvKernels
{
    public const int MaxTokens = 4;
    /// <summary>The group size on CUDA (8 warps); any multiple of 32 works (the simulator uses one warp).</summary>
    public const int Threads = 256;

    /// <summary>Groups of <paramref name="threads"/> to launch for <paramref name="outputs"/> rows (plain) or output columns (pair mode).</summary>
    public static int GridSize(int outputs, bool pairMode, int threads)
    {
        int perGroup = threads / 32 * (pairMode ? 1 : 2);
        return (outputs + perGroup - 1) / perGroup;
    }

    [GpuKernel]
    public static void Gemv(ArrayView<U4> w, MatrixRuns runs, ArrayView<float> x, ArrayView<U4> x4, ArrayView<float> y,
        ArrayView<float> bias, ArrayView<float> normWeight, ArrayView<U4> normWeight4, ArrayView<float> normOut, GemvArgs a)
    {
        var scales = SharedMemory.Allocate<float>(MaxTokens);
        var reducer = new WarpReducer(SharedMemory.Allocate<float>(WarpReducer.ScratchFloats), a.Exchange);
        float s0 = 1f, s1 = 1f, s2 = 1f, s3 = 1f;
        if (a.Norm != 0)
        {
            for (int t = 0; t < a.Tokens; t++)
            {
                int start = a.XOffset + t * a.XStride;
                float squares = 0f;
                for (int k = Group.IdxX; k < a.K; k += Group.DimX)
                {
                    float v = x[start + k];
                    squares += v * v;
                }
                float total = reducer.BlockSum(squares);
                if (Group.IdxX == 0)
                    scales[t] = 1f / MathF.Sqrt(total / a.K + a.Eps);
            }
            Group.Barrier();
            s0 = scales[0];
            if (a.Tokens > 1) s1 = scales[1];
            if (a.Tokens > 2) s2 = scales[2];
            if (a.Tokens > 3) s3 = scales[3];
            if (Grid.IdxX == 0)
            {
                for (int idx = Group.IdxX; idx < a.Tokens * a.K; idx += Group.DimX)
                {
                    int t = idx / a.K;
                    int k = idx - t * a.K;
                    float s = t == 0 ? s0 : t == 1 ? s1 : t == 2 ? s2 : s3;
                    normOut[a.NormOutOffset + t * a.NormOutStride + k] = x[a.XOffset + t * a.XStride + k] * s * normWeight[k];
                }
            }
        }

        int warpsPerGroup = Group.DimX / 32;
        int tasks = a.PairMode != 0 ? a.Rows : (a.Rows + 1) / 2;
        for (int task = Grid.IdxX * warpsPerGroup + Warp.WarpIdx; task < tasks; task += Grid.DimX * warpsPerGroup)
            Rows(w, runs, x, x4, y, bias, normWeight, normWeight4, a, reducer, task, s0, s1, s2, s3);
    }

    /// <summary>One warp's task: two weight rows (plain) or the gate and up rows of one output (pair mode).</summary>
    private static void Rows(ArrayView<U4> w, MatrixRuns runs, ArrayView<float> x, ArrayView<U4> x4, ArrayView<float> y,
        ArrayView<float> bias, ArrayView<float> normWeight, ArrayView<U4> normWeight4, GemvArgs a, WarpReducer reducer, int task,
        float s0, float s1, float s2, float s3)
    {
        int lane = Warp.LaneIdx;
        int row0, row1;
        bool valid1;
        if (a.PairMode != 0)
        {
            row0 = task;
            row1 = task + a.Rows;
            valid1 = true;
        }
        else
        {
            row0 = 2 * task;
            valid1 = row0 + 1 < a.Rows;
            row1 = valid1 ? row0 + 1 : row0;
        }
        int base0 = runs.Locate(row0);
        bool f32Row0 = runs.IsF32(row0);
        int base1 = runs.Locate(row1);
        bool f32Row1 = runs.IsF32(row1);
        int groups = runs.Groups;

        var acc = new Accumulators();
        int g = lane;
        if (!f32Row0 && !f32Row1)
        {
            for (; g + 96 < groups; g += 128)
            {
                // Eight independent 16-byte loads before any use: what keeps HBM busy at batch 1.
                U4 p0 = w[base0 + g];
                U4 p1 = w[base0 + g + 32];
                U4 p2 = w[base0 + g + 64];
                U4 p3 = w[base0 + g + 96];
                U4 q0 = w[base1 + g];
                U4 q1 = w[base1 + g + 32];
                U4 q2 = w[base1 + g + 64];
                U4 q3 = w[base1 + g + 96];
                Step(ref acc, DeviceMath.Bf16x8(p0), DeviceMath.Bf16x8(q0), g, x, x4, normWeight, normWeight4, a, s0, s1, s2, s3);
                Step(ref acc, DeviceMath.Bf16x8(p1), DeviceMath.Bf16x8(q1), g + 32, x, x4, normWeight, normWeight4, a, s0, s1, s2, s3);
                Step(ref acc, DeviceMath.Bf16x8(p2), DeviceMath.Bf16x8(q2), g + 64, x, x4, normWeight, normWeight4, a, s0, s1, s2, s3);
                Step(ref acc, DeviceMath.Bf16x8(p3), DeviceMath.Bf16x8(q3), g + 96, x, x4, normWeight, normWeight4, a, s0, s1, s2, s3);
            }
        }
        for (; g < groups; g += 32)
        {
            var w0 = f32Row0 ? DeviceMath.F32x8(w[base0 + 2 * g], w[base0 + 2 * g + 1]) : DeviceMath.Bf16x8(w[base0 + g]);
            var w1 = f32Row1 ? DeviceMath.F32x8(w[base1 + 2 * g], w[base1 + 2 * g + 1]) : DeviceMath.Bf16x8(w[base1 + g]);
            Step(ref acc, w0, w1, g, x, x4, normWeight, normWeight4, a, s0, s1, s2, s3);
        }

        acc.R0T0 = reducer.Sum(acc.R0T0);
        acc.R1T0 = reducer.Sum(acc.R1T0);
        if (a.Tokens > 1)
        {
            acc.R0T1 = reducer.Sum(acc.R0T1);
            acc.R1T1 = reducer.Sum(acc.R1T1);
        }
        if (a.Tokens > 2)
        {
            acc.R0T2 = reducer.Sum(acc.R0T2);
            acc.R1T2 = reducer.Sum(acc.R1T2);
        }
        if (a.Tokens > 3)
        {
            acc.R0T3 = reducer.Sum(acc.R0T3);
            acc.R1T3 = reducer.Sum(acc.R1T3);
        }
        if (lane != 0)
            return;
        Store(y, bias, a, 0, row0, row1, valid1, acc.R0T0, acc.R1T0);
        if (a.Tokens > 1) Store(y, bias, a, 1, row0, row1, valid1, acc.R0T1, acc.R1T1);
        if (a.Tokens > 2) Store(y, bias, a, 2, row0, row1, valid1, acc.R0T2, acc.R1T2);
        if (a.Tokens > 3) Store(y, bias, a, 3, row0, row1, valid1, acc.R0T3, acc.R1T3);
    }

    /// <summary>Per lane: two rows × four tokens of partial sums, kept in registers.</summary>
    private struct Accumulators
    {
        public float R0T0, R0T1, R0T2, R0T3, R1T0, R1T1, R1T2, R1T3;
    }

    private static void Step(ref Accumulators acc, F8 w0, F8 w1, int group, ArrayView<float> x, ArrayView<U4> x4,
        ArrayView<float> normWeight, ArrayView<U4> normWeight4, GemvArgs a, float s0, float s1, float s2, float s3)
    {
        int k = 8 * group;
        bool norm = a.Norm != 0;
        var gamma = norm ? LoadX(normWeight, normWeight4, 0, k, a.K, true) : default;
        var v = LoadX(x, x4, a.XOffset, k, a.K, a.XAligned != 0);
        if (norm) v = DeviceMath.Normalize(v, gamma, s0);
        acc.R0T0 += DeviceMath.Dot(w0, v);
        acc.R1T0 += DeviceMath.Dot(w1, v);
        if (a.Tokens > 1)
        {
            v = LoadX(x, x4, a.XOffset + a.XStride, k, a.K, a.XAligned != 0);
            if (norm) v = DeviceMath.Normalize(v, gamma, s1);
            acc.R0T1 += DeviceMath.Dot(w0, v);
            acc.R1T1 += DeviceMath.Dot(w1, v);
        }
        if (a.Tokens > 2)
        {
            v = LoadX(x, x4, a.XOffset + 2 * a.XStride, k, a.K, a.XAligned != 0);
            if (norm) v = DeviceMath.Normalize(v, gamma, s2);
            acc.R0T2 += DeviceMath.Dot(w0, v);
            acc.R1T2 += DeviceMath.Dot(w1, v);
        }
        if (a.Tokens > 3)
        {
            v = LoadX(x, x4, a.XOffset + 3 * a.XStride, k, a.K, a.XAligned != 0);
            if (norm) v = DeviceMath.Normalize(v, gamma, s3);
            acc.R0T3 += DeviceMath.Dot(w0, v);
            acc.R1T3 += DeviceMath.Dot(w1, v);
        }
    }

    /// <summary>Eight inputs from k on: two 16-byte loads when aligned and whole, else masked scalar loads (zeros past K).</summary>
    private static F8 LoadX(ArrayView<float> x, ArrayView<U4> x4, int rowStart, int k, int length, bool aligned)
    {
        if (aligned && k + 8 <= length)
        {
            int unit = (rowStart + k) >> 2;
            return DeviceMath.F32x8(x4[unit], x4[unit + 1]);
        }
        var r = default(F8);
        int at = rowStart + k;
        int left = length - k;
        if (left > 0) r.A0 = x[at];
        if (left > 1) r.A1 = x[at + 1];
        if (left > 2) r.A2 = x[at + 2];
        if (left > 3) r.A3 = x[at + 3];
        if (left > 4) r.A4 = x[at + 4];
        if (left > 5) r.A5 = x[at + 5];
        if (left > 6) r.A6 = x[at + 6];
        if (left > 7) r.A7 = x[at + 7];
        return r;
    }

    private static void Store(ArrayView<float> y, ArrayView<float> bias, GemvArgs a, int token, int row0, int row1, bool valid1, float v0, float v1)
    {
        int rowStart = a.YOffset + token * a.YStride;
        if (a.PairMode != 0)
        {
            y[rowStart + row0] = DeviceMath.Silu(v0) * v1;
            return;
        }
        Finish(y, bias, a, rowStart + row0, row0, v0);
        if (valid1)
            Finish(y, bias, a, rowStart + row1, row1, v1);
    }

    private static void Finish(ArrayView<float> y, ArrayView<float> bias, GemvArgs a, int at, int row, float v)
    {
        if (a.HasBias != 0)
            v += bias[row];
        if (a.Accumulate != 0)
            v += y[at];
        y[at] = v;
    }
}
