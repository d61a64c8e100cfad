using ILGPU;

namespace Ellsa.Kernels.Gpu.Kernels;

/// <summary>
/// <see cref="IAttentionCore"/> modelled in C# for ILGPU's CPU simulator, with the register
/// layouts of the PTX ISA (see <see cref="EmulatedMmaCore"/>): each lane publishes the fragments
/// an instruction reads to an exchange area and computes its own outputs only from the words the
/// hardware would route to it; ldmatrix rows come from the addresses the other lanes give.
/// </summary>
public struct EmulatedAttentionCore : IAttentionCore
{
    private const int Words = 32;
    private const int AddressWord = 31;

    private ArrayView<uint> _shared;
    private ArrayView<uint> _exchange;
    /// <summary>Q fragments: [0, 32) hi, [32, 64) lo (qh*, ql*).</summary>
    private ArrayView<uint> _q;
    /// <summary>K fragments: [0, 8) hi, [8, 16) lo; P: [16, 24) hi, [24, 32) lo; V: [32, 36) hi, [36, 40) lo.</summary>
    private ArrayView<uint> _frag;
    private ArrayView<float> _s;
    private ArrayView<float> _o;

    public void Begin(ArrayView<uint> shared)
    {
        _shared = shared;
        _exchange = SharedMemory.Allocate<uint>(FlashAttentionKernels.Threads * Words);
        _q = LocalMemory.Allocate<uint>(64);
        _frag = LocalMemory.Allocate<uint>(40);
        _s = LocalMemory.Allocate<float>(16);
        _o = LocalMemory.Allocate<float>(64);
    }

    public readonly void ResetOutput()
    {
        for (int i = 0; i < 64; i++)
            _o[i] = 0f;
    }

    public readonly void Copy16(uint sharedOffset, ArrayView<U4> source, ulong sourceAddress, int unit, bool valid) =>
        EmulatedWarpMma.Copy16(_shared, sharedOffset, source, unit, valid);

    public readonly void Commit() { }

    public readonly void WaitAll() { }

    public readonly void LoadQuery(int step, uint address, bool exact)
    {
        Load(address, _q, 4 * step, trans: false);
        if (exact)
            Load(address + 16384u, _q, 32 + 4 * step, trans: false);
    }

    public readonly void ZeroScores()
    {
        for (int i = 0; i < 16; i++)
            _s[i] = 0f;
    }

    public readonly void Scores(int step, uint keyAddress, bool exact)
    {
        Load(keyAddress, _frag, 0, trans: false);
        Load(keyAddress + 4096u, _frag, 4, trans: false);
        if (exact)
        {
            Load(keyAddress + 8192u, _frag, 8, trans: false);
            Load(keyAddress + 12288u, _frag, 12, trans: false);
        }
        // Published: [0, 4) Q hi of the step, [4, 8) Q lo, [8, 16) K hi, [16, 24) K lo.
        int record = Publish(0, _q, 4 * step, 4);
        Publish(4, _q, 32 + 4 * step, 4);
        Publish(8, _frag, 0, 16);
        Warp.Barrier();
        for (int j = 0; j < 4; j++)
        {
            Mma(_s, 4 * j, record, 0, 8 + 2 * j);
            if (exact)
            {
                Mma(_s, 4 * j, record, 0, 16 + 2 * j);
                Mma(_s, 4 * j, record, 4, 8 + 2 * j);
            }
        }
        Warp.Barrier();
    }

    public readonly void StoreScores(uint stagingAddress)
    {
        for (int j = 0; j < 4; j++)
            for (int h = 0; h < 2; h++)
                for (int e = 0; e < 2; e++)
                    _shared[(int)((stagingAddress + (uint)(1280 * h + 32 * j + 4 * e)) >> 2)] = Interop.FloatAsInt(_s[4 * j + 2 * h + e]);
    }

    public readonly void ScaleOutput(float rowLow, float rowHigh)
    {
        for (int j = 0; j < 16; j++)
        {
            _o[4 * j] *= rowLow;
            _o[4 * j + 1] *= rowLow;
            _o[4 * j + 2] *= rowHigh;
            _o[4 * j + 3] *= rowHigh;
        }
    }

    public readonly void LoadProbabilities(uint step0, uint step1, bool exact)
    {
        Load(step0, _frag, 16, trans: false);
        Load(step1, _frag, 20, trans: false);
        if (exact)
        {
            Load(step0 + 1024u, _frag, 24, trans: false);
            Load(step1 + 1024u, _frag, 28, trans: false);
        }
    }

    public readonly void Values(int step, int pair, uint valueAddress, bool exact)
    {
        Load(valueAddress, _frag, 32, trans: true);
        if (exact)
            Load(valueAddress + 8192u, _frag, 36, trans: true);
        // Published: [0, 4) P hi of the step, [4, 8) P lo, [8, 12) V hi, [12, 16) V lo.
        int record = Publish(0, _frag, 16 + 4 * step, 4);
        Publish(4, _frag, 24 + 4 * step, 4);
        Publish(8, _frag, 32, 8);
        Warp.Barrier();
        for (int t = 0; t < 2; t++)
        {
            int tile = 4 * (2 * pair + t);
            Mma(_o, tile, record, 0, 8 + 2 * t);
            if (exact)
            {
                Mma(_o, tile, record, 0, 12 + 2 * t);
                Mma(_o, tile, record, 4, 8 + 2 * t);
            }
        }
        Warp.Barrier();
    }

    public readonly void StoreOutput(uint stagingAddress)
    {
        for (int j = 0; j < 16; j++)
            for (int h = 0; h < 2; h++)
                for (int e = 0; e < 2; e++)
                    _shared[(int)((stagingAddress + (uint)(4352 * h + 32 * j + 4 * e)) >> 2)] = Interop.FloatAsInt(_o[4 * j + 2 * h + e]);
    }

    /// <summary>Copies this lane's registers to its exchange record; returns the warp's first record.</summary>
    private readonly int Publish(int at, ArrayView<uint> source, int from, int count)
    {
        int warpBase = Warp.WarpIdx * 32 * Words;
        for (int i = 0; i < count; i++)
            _exchange[warpBase + Warp.LaneIdx * Words + at + i] = source[from + i];
        return warpBase;
    }

    /// <summary>
    /// ldmatrix.m8n8.x4(.trans).b16: lanes 8q…8q+7 give the row addresses of matrix q. Plain: lane T
    /// gets row T/4, columns 2(T%4) and +1. Transposed: lane T gets column T/4 of rows 2(T%4) and +1.
    /// </summary>
    private readonly void Load(uint address, ArrayView<uint> destination, int at, bool trans)
    {
        int lane = Warp.LaneIdx;
        int warpBase = Warp.WarpIdx * 32 * Words;
        _exchange[warpBase + lane * Words + AddressWord] = address;
        Warp.Barrier();
        for (int q = 0; q < 4; q++)
        {
            if (!trans)
            {
                uint row = _exchange[warpBase + (8 * q + lane / 4) * Words + AddressWord];
                destination[at + q] = _shared[(int)(row >> 2) + lane % 4];
            }
            else
            {
                uint row0 = _exchange[warpBase + (8 * q + 2 * (lane % 4)) * Words + AddressWord];
                uint row1 = _exchange[warpBase + (8 * q + 2 * (lane % 4) + 1) * Words + AddressWord];
                destination[at + q] = Half(row0, lane / 4) | (Half(row1, lane / 4) << 16);
            }
        }
        Warp.Barrier();
    }

    /// <summary>The 16-bit element <paramref name="column"/> of the row at <paramref name="rowAddress"/>.</summary>
    private readonly uint Half(uint rowAddress, int column)
    {
        uint word = _shared[(int)(rowAddress >> 2) + column / 2];
        return (column & 1) == 0 ? word & 0xFFFFu : word >> 16;
    }

    private readonly void Mma(ArrayView<float> acc, int accumulator, int warpBase, int a, int b) =>
        EmulatedWarpMma.Mma(_exchange, Words, warpBase, acc, accumulator, a, b);
}
