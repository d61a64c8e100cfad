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

    public readonly void Copy16(uint sharedOffset, ArrayView<U4> source, ulong sourceAddress, int unit, bool valid) =>
        EmulatedWarpMma.Copy16(_shared, sharedOffset, source, unit, valid);

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

    /// <summary>Tile (m, j) from the A words at <paramref name="a"/> and n tile j's B words (32 + 2j).</summary>
    private readonly void Mma(int warpBase, int accumulator, int a, int j) =>
        EmulatedWarpMma.Mma(_exchange, Words, warpBase, _acc, accumulator, a, 32 + 2 * j);

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
