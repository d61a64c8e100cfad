using ILGPU;

namespace Ellsa.Kernels.Gpu.Kernels;

/// <summary>
/// The instruction models both emulated tensor-core cores share (<see cref="EmulatedMmaCore"/>,
/// <see cref="EmulatedAttentionCore"/>): a 16-byte cp.async, and one mma.m16n8k16 read from the
/// warp's exchange area, where each lane has published <c>words</c> 32-bit fragment words.
/// </summary>
public static class EmulatedWarpMma
{
    /// <summary>cp.async of 16 bytes, done at once; src-size 0 (<paramref name="valid"/> false) writes zeros.</summary>
    public static void Copy16(ArrayView<uint> shared, uint sharedOffset, ArrayView<U4> source, int unit, bool valid)
    {
        var v = default(U4);
        if (valid)
            v = source[unit];
        int word = (int)(sharedOffset >> 2);
        shared[word] = v.X;
        shared[word + 1] = v.Y;
        shared[word + 2] = v.Z;
        shared[word + 3] = v.W;
    }

    /// <summary>
    /// One mma.m16n8k16.row.col bf16 → fp32 into <paramref name="acc"/>[accumulator…+3]: lane 4g + t
    /// accumulates rows g and g+8, columns 2t and 2t+1. Row g of A is held by lanes 4g…4g+3 at
    /// word <paramref name="a"/> (a0: k 0–7, a2: k 8–15; a1/a3 for row g+8), column n of B by lanes
    /// 4n…4n+3 at word <paramref name="b"/> (b0: k 0–7, b1: k 8–15), each lane holding k pairs 2s,
    /// 2s+1 (and +8) for its s = lane % 4.
    /// </summary>
    public static void Mma(ArrayView<uint> exchange, int words, int warpBase, ArrayView<float> acc, int accumulator, int a, int b)
    {
        int lane = Warp.LaneIdx;
        int g = lane / 4;
        int t = lane % 4;
        float d0 = acc[accumulator], d1 = acc[accumulator + 1], d2 = acc[accumulator + 2], d3 = acc[accumulator + 3];
        for (int s = 0; s < 4; s++)
        {
            int rowLane = warpBase + (4 * g + s) * words;
            int col0Lane = warpBase + (4 * (2 * t) + s) * words;
            int col1Lane = warpBase + (4 * (2 * t + 1) + s) * words;
            uint rowLow = exchange[rowLane + a], rowHigh = exchange[rowLane + a + 2];
            uint row8Low = exchange[rowLane + a + 1], row8High = exchange[rowLane + a + 3];
            uint col0Low = exchange[col0Lane + b], col0High = exchange[col0Lane + b + 1];
            uint col1Low = exchange[col1Lane + b], col1High = exchange[col1Lane + b + 1];
            d0 += Dot2(rowLow, col0Low) + Dot2(rowHigh, col0High);
            d1 += Dot2(rowLow, col1Low) + Dot2(rowHigh, col1High);
            d2 += Dot2(row8Low, col0Low) + Dot2(row8High, col0High);
            d3 += Dot2(row8Low, col1Low) + Dot2(row8High, col1High);
        }
        acc[accumulator] = d0;
        acc[accumulator + 1] = d1;
        acc[accumulator + 2] = d2;
        acc[accumulator + 3] = d3;
    }

    private static float Dot2(uint x, uint y) =>
        DeviceMath.Bf16Low(x) * DeviceMath.Bf16Low(y) + DeviceMath.Bf16High(x) * DeviceMath.Bf16High(y);
}
