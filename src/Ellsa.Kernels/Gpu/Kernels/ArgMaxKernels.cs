using ILGPU;

namespace Ellsa.Kernels.Gpu.Kernels;

/// <summary>Up to four inclusive id ranges, already clipped to the row; ids are visited range by range.</summary>
public struct IdRanges
{
    public int Count;
    public int First0, Last0, First1, Last1, First2, Last2, First3, Last3;

    public readonly int Total => Length(0) + Length(1) + Length(2) + Length(3);

    public readonly int Length(int range) => range >= Count ? 0 : range switch
    {
        0 => Last0 - First0 + 1,
        1 => Last1 - First1 + 1,
        2 => Last2 - First2 + 1,
        _ => Last3 - First3 + 1,
    };

    /// <summary>The id at position <paramref name="index"/> of the concatenated ranges.</summary>
    public readonly int IdAt(int index)
    {
        int n0 = Length(0);
        if (index < n0) return First0 + index;
        index -= n0;
        int n1 = Length(1);
        if (index < n1) return First1 + index;
        index -= n1;
        int n2 = Length(2);
        if (index < n2) return First2 + index;
        return First3 + index - n2;
    }
}

/// <summary>
/// Masked argmax of one logits row on the device, so a decode step returns 4 bytes instead of a
/// vocabulary: groups reduce strided slices of the allowed ids to (value, id) pairs, then one
/// group reduces the pairs. Ties go to the lowest id, as the reference's torch.argmax.
/// </summary>
public static class ArgMaxKernels
{
    public const int Threads = 256;
    public const int MaxPartials = 512;

    [GpuKernel]
    public static void Partial(ArrayView<float> row, int rowOffset, IdRanges ranges, ArrayView<float> partialValues, ArrayView<int> partialIds, int partialOffset, int exchange)
    {
        float best = float.NegativeInfinity;
        int bestId = int.MaxValue;
        int total = ranges.Total;
        for (int i = Grid.GlobalIndex.X; i < total; i += Grid.DimX * Group.DimX)
        {
            int id = ranges.IdAt(i);
            float v = row[rowOffset + id];
            if (v > best || (v == best && id < bestId))
            {
                best = v;
                bestId = id;
            }
        }
        Reduce(ref best, ref bestId, exchange);
        if (Group.IdxX == 0)
        {
            partialValues[partialOffset + Grid.IdxX] = best;
            partialIds[partialOffset + Grid.IdxX] = bestId;
        }
    }

    [GpuKernel]
    public static void Final(ArrayView<float> partialValues, ArrayView<int> partialIds, int count, ArrayView<int> result, int exchange)
    {
        float best = float.NegativeInfinity;
        int bestId = int.MaxValue;
        for (int i = Group.IdxX; i < count; i += Group.DimX)
        {
            float v = partialValues[i];
            int id = partialIds[i];
            if (v > best || (v == best && id < bestId))
            {
                best = v;
                bestId = id;
            }
        }
        Reduce(ref best, ref bestId, exchange);
        if (Group.IdxX == 0)
            result[0] = bestId;
    }

    /// <summary>
    /// Group-wide (max, lowest id) reduction; thread 0 ends with the answer. Within a warp: shuffles,
    /// or on the simulator an exchange through shared memory (see <see cref="WarpReducer"/>).
    /// </summary>
    private static void Reduce(ref float best, ref int bestId, int exchange)
    {
        var values = SharedMemory.Allocate<float>(32);
        var ids = SharedMemory.Allocate<int>(32);
        if (!DeviceMath.OnCuda && exchange != 0)
        {
            var laneValues = SharedMemory.Allocate<float>(Threads);
            var laneIds = SharedMemory.Allocate<int>(Threads);
            laneValues[Group.IdxX] = best;
            laneIds[Group.IdxX] = bestId;
            Warp.Barrier();
            if (Warp.LaneIdx == 0)
            {
                for (int lane = 1; lane < 32; lane++)
                    Better(ref best, ref bestId, laneValues[Group.IdxX + lane], laneIds[Group.IdxX + lane]);
            }
            Warp.Barrier();
        }
        else
        {
            for (int offset = 16; offset > 0; offset /= 2)
                Better(ref best, ref bestId, Warp.ShuffleDown(best, offset), Warp.ShuffleDown(bestId, offset));
        }
        if (Warp.LaneIdx == 0)
        {
            values[Warp.WarpIdx] = best;
            ids[Warp.WarpIdx] = bestId;
        }
        Group.Barrier();
        if (Group.IdxX == 0)
        {
            int warps = (Group.DimX + 31) / 32;
            for (int w = 1; w < warps; w++)
                Better(ref best, ref bestId, values[w], ids[w]);
        }
    }

    private static void Better(ref float best, ref int bestId, float v, int id)
    {
        if (v > best || (v == best && id < bestId))
        {
            best = v;
            bestId = id;
        }
    }
}
