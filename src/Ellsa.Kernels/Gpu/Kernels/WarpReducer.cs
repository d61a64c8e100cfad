using ILGPU;

namespace Ellsa.Kernels.Gpu.Kernels;

/// <summary>
/// Warp and group reductions. On CUDA: butterfly shuffles. On the CPU simulator a shuffle costs
/// four spin barriers over 32 OS threads (~0.4 ms on two cores), so there the reducer can
/// instead exchange values through shared memory behind one warp barrier; the kernel arguments
/// say which (the kernel checks run both, the model runs the exchange). On CUDA the exchange
/// branch is dead code: <see cref="DeviceMath.OnCuda"/> is a compile-time constant there.
/// </summary>
public readonly struct WarpReducer
{
    /// <summary>Shared floats a kernel allocates for the reducer: 32 per warp (up to 8 warps) and 32 for group sums.</summary>
    public const int ScratchFloats = 32 * 9;

    private readonly ArrayView<float> _scratch;
    private readonly bool _exchange;

    public WarpReducer(ArrayView<float> scratch, int exchange)
    {
        _scratch = scratch;
        _exchange = !DeviceMath.OnCuda && exchange != 0;
    }

    public bool Exchanges => _exchange;

    public float Sum(float value)
    {
        if (!_exchange)
        {
            value += Warp.ShuffleXor(value, 16);
            value += Warp.ShuffleXor(value, 8);
            value += Warp.ShuffleXor(value, 4);
            value += Warp.ShuffleXor(value, 2);
            value += Warp.ShuffleXor(value, 1);
            return value;
        }
        int slot = Publish(value);
        float total = 0f;
        for (int i = 0; i < 32; i++)
            total += _scratch[slot + i];
        Warp.Barrier();
        return total;
    }

    public float Max(float value)
    {
        if (!_exchange)
        {
            value = IntrinsicMath.Max(value, Warp.ShuffleXor(value, 16));
            value = IntrinsicMath.Max(value, Warp.ShuffleXor(value, 8));
            value = IntrinsicMath.Max(value, Warp.ShuffleXor(value, 4));
            value = IntrinsicMath.Max(value, Warp.ShuffleXor(value, 2));
            value = IntrinsicMath.Max(value, Warp.ShuffleXor(value, 1));
            return value;
        }
        int slot = Publish(value);
        float max = float.NegativeInfinity;
        for (int i = 0; i < 32; i++)
            max = IntrinsicMath.Max(max, _scratch[slot + i]);
        Warp.Barrier();
        return max;
    }

    /// <summary>Sum over groups of eight lanes (lanes 8i…8i+7 end with their group's total).</summary>
    public float Sum8(float value)
    {
        if (!_exchange)
        {
            value += Warp.ShuffleXor(value, 4);
            value += Warp.ShuffleXor(value, 2);
            value += Warp.ShuffleXor(value, 1);
            return value;
        }
        int slot = Publish(value);
        int first = slot + (Warp.LaneIdx & ~7);
        float total = 0f;
        for (int i = 0; i < 8; i++)
            total += _scratch[first + i];
        Warp.Barrier();
        return total;
    }

    /// <summary>
    /// Sum over the whole group; every thread gets the total. Contains barriers, so every thread
    /// of the group must make the call.
    /// </summary>
    public float BlockSum(float value)
    {
        value = Sum(value);
        int warps = (Group.DimX + 31) / 32;
        if (Warp.LaneIdx == 0)
            _scratch[256 + Warp.WarpIdx] = value;
        Group.Barrier();
        float total = 0f;
        for (int w = 0; w < warps; w++)
            total += _scratch[256 + w];
        Group.Barrier();
        return total;
    }

    /// <summary>Maximum over the whole group; every thread gets it. Contains barriers, as <see cref="BlockSum"/>.</summary>
    public float BlockMax(float value)
    {
        value = Max(value);
        int warps = (Group.DimX + 31) / 32;
        if (Warp.LaneIdx == 0)
            _scratch[256 + Warp.WarpIdx] = value;
        Group.Barrier();
        float max = float.NegativeInfinity;
        for (int w = 0; w < warps; w++)
            max = IntrinsicMath.Max(max, _scratch[256 + w]);
        Group.Barrier();
        return max;
    }

    /// <summary>Writes this lane's value to its slot and waits for the warp; returns the warp's first slot.</summary>
    private int Publish(float value)
    {
        int slot = Warp.WarpIdx * 32;
        _scratch[slot + Warp.LaneIdx] = value;
        Warp.Barrier();
        return slot;
    }
}
