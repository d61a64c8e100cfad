using ILGPU;

namespace Ellsa.Kernels.Gpu.Kernels;

/// <summary>Arguments of <see cref="Q8GemvKernels.Gemv"/>.</summary>
public struct Q8GemvArgs
{
    public int Rows;
    public int K;
    /// <summary>Blocks of 32 per row: each is two 16-byte units of int8 values and one fp16 scale.</summary>
    public int Blocks;
    /// <summary>uint words of packed fp16 scales per row (⌈Blocks / 2⌉).</summary>
    public int ScaleWords;
    public int Tokens;
    public int XOffset, XStride;
    public int YOffset, YStride;
    public int HasBias, Accumulate;
    public int Exchange;
    /// <summary>1 when every input row starts on a 16-byte boundary: whole blocks read x as eight 16-byte vectors.</summary>
    public int XAligned;
}

/// <summary>
/// y[t, r] = w[r] · x[t] for a Q8 weight (Kernels.Numerics.Q8Format), the int8 values dequantised in
/// registers: fp32 activations as they are (the GPU has the arithmetic to spare, so it keeps the
/// accuracy the CPU trades for its int8 units), fp32 accumulation. One warp per weight row; each
/// lane takes whole blocks (two 16-byte loads and one scale), tokens four at a time so a prefill
/// reads each row once per four tokens. Rows are padded to whole blocks with zeros and inputs
/// past K are masked, so any K works.
/// </summary>
public static class Q8GemvKernels
{
    public const int Threads = 256;

    public static int GridSize(int rows, int threads) => (rows + threads / 32 - 1) / (threads / 32);

    [GpuKernel]
    public static void Gemv(ArrayView<U4> quants, ArrayView<uint> scales, ArrayView<float> x, ArrayView<U4> x4, ArrayView<float> y, ArrayView<float> bias, Q8GemvArgs a)
    {
        var reducer = new WarpReducer(SharedMemory.Allocate<float>(WarpReducer.ScratchFloats), a.Exchange);
        int warps = Group.DimX / 32;
        int lane = Warp.LaneIdx;
        for (int row = Grid.IdxX * warps + Warp.WarpIdx; row < a.Rows; row += Grid.DimX * warps)
        {
            for (int t0 = 0; t0 < a.Tokens; t0 += 4)
            {
                float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
                for (int b = lane; b < a.Blocks; b += 32)
                {
                    int unit = 2 * (row * a.Blocks + b);
                    U4 low = quants[unit];
                    U4 high = quants[unit + 1];
                    uint word = scales[row * a.ScaleWords + (b >> 1)];
                    float d = HalfToSingle((b & 1) == 0 ? word & 0xFFFF : word >> 16);
                    int k = 32 * b;
                    s0 += d * Block(low, high, x, x4, a.XOffset + t0 * a.XStride, k, a.K, a.XAligned != 0);
                    if (t0 + 1 < a.Tokens) s1 += d * Block(low, high, x, x4, a.XOffset + (t0 + 1) * a.XStride, k, a.K, a.XAligned != 0);
                    if (t0 + 2 < a.Tokens) s2 += d * Block(low, high, x, x4, a.XOffset + (t0 + 2) * a.XStride, k, a.K, a.XAligned != 0);
                    if (t0 + 3 < a.Tokens) s3 += d * Block(low, high, x, x4, a.XOffset + (t0 + 3) * a.XStride, k, a.K, a.XAligned != 0);
                }
                s0 = reducer.Sum(s0);
                if (t0 + 1 < a.Tokens) s1 = reducer.Sum(s1);
                if (t0 + 2 < a.Tokens) s2 = reducer.Sum(s2);
                if (t0 + 3 < a.Tokens) s3 = reducer.Sum(s3);
                if (lane == 0)
                {
                    Store(y, bias, a, t0, row, s0);
                    if (t0 + 1 < a.Tokens) Store(y, bias, a, t0 + 1, row, s1);
                    if (t0 + 2 < a.Tokens) Store(y, bias, a, t0 + 2, row, s2);
                    if (t0 + 3 < a.Tokens) Store(y, bias, a, t0 + 3, row, s3);
                }
            }
        }
    }

    /// <summary>Σ q_i · x[k + i] over one block of 32 (unscaled), inputs past K read as zero.</summary>
    private static float Block(U4 low, U4 high, ArrayView<float> x, ArrayView<U4> x4, int rowStart, int k, int length, bool aligned)
    {
        int at = rowStart + k;
        if (aligned && k + 32 <= length)
        {
            int unit = at >> 2;
            return Word4(low.X, x4[unit]) + Word4(low.Y, x4[unit + 1]) + Word4(low.Z, x4[unit + 2]) + Word4(low.W, x4[unit + 3])
                   + Word4(high.X, x4[unit + 4]) + Word4(high.Y, x4[unit + 5]) + Word4(high.Z, x4[unit + 6]) + Word4(high.W, x4[unit + 7]);
        }
        if (k + 32 <= length)
        {
            return Word(low.X, x, at) + Word(low.Y, x, at + 4) + Word(low.Z, x, at + 8) + Word(low.W, x, at + 12)
                   + Word(high.X, x, at + 16) + Word(high.Y, x, at + 20) + Word(high.Z, x, at + 24) + Word(high.W, x, at + 28);
        }
        return Masked(low.X, x, at, length - k) + Masked(low.Y, x, at + 4, length - k - 4) + Masked(low.Z, x, at + 8, length - k - 8)
               + Masked(low.W, x, at + 12, length - k - 12) + Masked(high.X, x, at + 16, length - k - 16) + Masked(high.Y, x, at + 20, length - k - 20)
               + Masked(high.Z, x, at + 24, length - k - 24) + Masked(high.W, x, at + 28, length - k - 28);
    }

    /// <summary>Four int8 values of one word (little-endian) times x[at…at+3].</summary>
    private static float Word(uint word, ArrayView<float> x, int at)
    {
        int w = (int)word;
        return Byte(w, 0) * x[at] + Byte(w, 1) * x[at + 1] + Byte(w, 2) * x[at + 2] + Byte(w, 3) * x[at + 3];
    }

    /// <summary>Four int8 values of one word times four inputs loaded as one 16-byte vector.</summary>
    private static float Word4(uint word, U4 v)
    {
        int w = (int)word;
        return Byte(w, 0) * Interop.IntAsFloat(v.X) + Byte(w, 1) * Interop.IntAsFloat(v.Y) + Byte(w, 2) * Interop.IntAsFloat(v.Z) + Byte(w, 3) * Interop.IntAsFloat(v.W);
    }

    private static float Masked(uint word, ArrayView<float> x, int at, int left)
    {
        int w = (int)word;
        float sum = 0f;
        if (left > 0) sum += Byte(w, 0) * x[at];
        if (left > 1) sum += Byte(w, 1) * x[at + 1];
        if (left > 2) sum += Byte(w, 2) * x[at + 2];
        if (left > 3) sum += Byte(w, 3) * x[at + 3];
        return sum;
    }

    /// <summary>Byte i of w as a signed value (shifted to the top, then arithmetically back).</summary>
    private static float Byte(int w, int i) => (w << (24 - 8 * i)) >> 24;

    /// <summary>fp16 bits → fp32 by moving the bits and rescaling the exponent (×2^112): exact for every finite half.</summary>
    private static float HalfToSingle(uint half)
    {
        float magnitude = Interop.IntAsFloat((half & 0x7FFF) << 13) * 5.192296858534828e33f;
        return (half & 0x8000) != 0 ? -magnitude : magnitude;
    }

    private static void Store(ArrayView<float> y, ArrayView<float> bias, Q8GemvArgs a, int token, int row, float v)
    {
        int at = a.YOffset + token * a.YStride + row;
        if (a.HasBias != 0)
            v += bias[row];
        if (a.Accumulate != 0)
            v += y[at];
        y[at] = v;
    }
}
