using ILGPU;

namespace Ellsa.Kernels.Gpu.Kernels;

/// <summary>
/// <see cref="IMmaCore"/> modelled in C# for ILGPU's CPU simulator (32-lane warps): ldmatrix and
/// mma.sync are rebuilt with the register layouts the PTX ISA specifies, so a wrong row address,
/// swizzle or fragment index in the shared kernel body fails a test here exactly as it would
/// fail on the GPU. Each lane computes only from what the other lanes of its warp hold: the
/// warp publishes its fragments (or ldmatrix row addresses) to an exchange area, and every lane
/// reads the words the hardware would route to it (one warp barrier instead of a shuffle per
/// element keeps the simulator fast). Copies are synchronous; the barriers that follow the
/// waits in the kernel keep the ordering.
/// </summary>
public struct EmulatedMmaCore : IMmaCore
{
    private const int Words = 40;

    private ArrayView<uint> _shared;
    private ArrayView<uint> _exchange;
    private ArrayView<float> _acc;
    /// <summary>[0, 16) A hi, [16, 32) A lo, [32, 40) B: what the PTX core keeps in eh*, el*, eb*.</summary>
    private ArrayView<uint> _frag;

    public void Begin(ArrayView<uint> shared)
    {
        _shared = shared;
        _exchange = SharedMemory.Allocate<uint>(MmaGemmKernels.Threads * Words);
        _acc = LocalMemory.Allocate<float>(64);
        _frag = LocalMemory.Allocate<uint>(Words);
        for (int i = 0; i < 64; i++)
            _acc[i] = 0f;
    }

    public readonly void Copy16(uint sharedOffset, ArrayView<U4> source, ulong sourceAddress, int unit, bool valid)
    {
        var v = default(U4);
        if (valid)
            v = source[unit];
        int word = (int)(sharedOffset >> 2);
        _shared[word] = v.X;
        _shared[word + 1] = v.Y;
        _shared[word + 2] = v.Z;
        _shared[word + 3] = v.W;
    }

    public readonly void Commit() { }

    public readonly void WaitPrevious() { }

    /// <summary>
    /// ldmatrix.m8n8.x4.b16 for every load of the step: lanes 8q…8q+7 give the row addresses of
    /// matrix q; lane T receives, per matrix, the 32-bit word at row T/4, columns 2(T%4) and 2(T%4)+1.
    /// </summary>
    public readonly void LoadFragments(uint aOffset, uint bOffset, bool exact)
    {
        int lane = Warp.LaneIdx;
        int warpBase = Warp.WarpIdx * 32 * Words;
        _exchange[warpBase + lane * Words] = aOffset;
        _exchange[warpBase + lane * Words + 1] = bOffset;
        Warp.Barrier();
        for (int q = 0; q < 4; q++)
        {
            int source = warpBase + (8 * q + lane / 4) * Words;
            uint a = _exchange[source];
            uint b = _exchange[source + 1];
            int column = lane % 4;
            for (int i = 0; i < 4; i++)
            {
                _frag[4 * i + q] = _shared[(int)((a + (uint)(1024 * i)) >> 2) + column];
                if (exact)
                    _frag[16 + 4 * i + q] = _shared[(int)((a + 8192u + (uint)(1024 * i)) >> 2) + column];
            }
            _frag[32 + q] = _shared[(int)(b >> 2) + column];
            _frag[36 + q] = _shared[(int)((b + 1024u) >> 2) + column];
        }
        Warp.Barrier();
    }

    /// <summary>mma.m16n8k16.row.col bf16 → fp32 for the 4 × 4 tiles (twice when exact).</summary>
    public readonly void Multiply(bool exact)
    {
        int lane = Warp.LaneIdx;
        int warpBase = Warp.WarpIdx * 32 * Words;
        for (int w = 0; w < Words; w++)
            _exchange[warpBase + lane * Words + w] = _frag[w];
        Warp.Barrier();
        for (int i = 0; i < 4; i++)
        {
            for (int j = 0; j < 4; j++)
            {
                Mma(warpBase, 16 * i + 4 * j, 4 * i, j);
                if (exact)
                    Mma(warpBase, 16 * i + 4 * j, 16 + 4 * i, j);
            }
        }
        Warp.Barrier();
    }

    /// <summary>
    /// One mma: lane 4g + t accumulates rows g and g+8, columns 2t and 2t+1. Row g of A is held by
    /// lanes 4g…4g+3 (a0: k 0–7, a2: k 8–15; a1/a3 for row g+8), column n of B by lanes 4n…4n+3
    /// (b0: k 0–7, b1: k 8–15), each lane holding k pairs 2s, 2s+1 (and +8) for its s = lane % 4.
    /// </summary>
    private readonly void Mma(int warpBase, int accumulator, int a, int j)
    {
        int lane = Warp.LaneIdx;
        int g = lane / 4;
        int t = lane % 4;
        float d0 = _acc[accumulator], d1 = _acc[accumulator + 1], d2 = _acc[accumulator + 2], d3 = _acc[accumulator + 3];
        for (int s = 0; s < 4; s++)
        {
            int rowLane = warpBase + (4 * g + s) * Words;
            int col0Lane = warpBase + (4 * (2 * t) + s) * Words;
            int col1Lane = warpBase + (4 * (2 * t + 1) + s) * Words;
            uint rowLow = _exchange[rowLane + a], rowHigh = _exchange[rowLane + a + 2];
            uint row8Low = _exchange[rowLane + a + 1], row8High = _exchange[rowLane + a + 3];
            uint col0Low = _exchange[col0Lane + 32 + 2 * j], col0High = _exchange[col0Lane + 33 + 2 * j];
            uint col1Low = _exchange[col1Lane + 32 + 2 * j], col1High = _exchange[col1Lane + 33 + 2 * j];
            d0 += Dot2(rowLow, col0Low) + Dot2(rowHigh, col0High);
            d1 += Dot2(rowLow, col1Low) + Dot2(rowHigh, col1High);
            d2 += Dot2(row8Low, col0Low) + Dot2(row8High, col0High);
            d3 += Dot2(row8Low, col1Low) + Dot2(row8High, col1High);
        }
        _acc[accumulator] = d0;
        _acc[accumulator + 1] = d1;
        _acc[accumulator + 2] = d2;
        _acc[accumulator + 3] = d3;
    }

    private static float Dot2(uint x, uint y) =>
        DeviceMath.Bf16Low(x) * DeviceMath.Bf16Low(y) + DeviceMath.Bf16High(x) * DeviceMath.Bf16High(y);

    public readonly void StoreTile(int mTile, uint stagingOffset)
    {
        for (int j = 0; j < 4; j++)
        {
            for (int h = 0; h < 2; h++)
            {
                for (int e = 0; e < 2; e++)
                {
                    int word = (int)((stagingOffset + (uint)(1280 * h + 32 * j + 4 * e)) >> 2);
                    _shared[word] = Interop.FloatAsInt(_acc[16 * mTile + 4 * j + 2 * h + e]);
                }
            }
        }
    }
}
