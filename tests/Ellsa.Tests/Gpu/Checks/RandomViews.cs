using Ellsa.Kernels.Backend;

namespace Ellsa.Tests.Gpu.Checks;

/// <summary>
/// N-d views the op families must handle: random shapes of rank 1–4 reached through a permuted,
/// sliced parent at an odd offset (so neither the strides nor the start are those of a dense
/// tensor), or dense, or broadcast from size-1 axes.
/// </summary>
public static class RandomViews
{
    public static int[] Shape(RandomData data, int minRank = 1, int maxRank = 4, int maxSize = 9)
    {
        var shape = new int[data.Next(minRank, maxRank)];
        for (int i = 0; i < shape.Length; i++)
            shape[i] = data.Next(1, maxSize);
        return shape;
    }

    /// <summary>A parent buffer laid out in a random axis order, one or two spare elements per axis, a random start.</summary>
    public static (int BufferLength, Func<DeviceTensor, TensorView> Make) Strided(RandomData data, int[] shape)
    {
        int rank = shape.Length;
        var order = Enumerable.Range(0, rank).OrderBy(_ => data.Random.Next()).ToArray();
        var spare = shape.Select(_ => data.Next(0, 2)).ToArray();
        var starts = shape.Select((_, i) => data.Next(0, spare[i])).ToArray();
        var parentShape = order.Select(axis => shape[axis] + spare[axis]).ToArray();
        var inverse = new int[rank];
        for (int j = 0; j < rank; j++)
            inverse[order[j]] = j;
        int offset = data.Next(0, 3);
        int length = offset + parentShape.Aggregate(1, (a, b) => a * b);
        return (length, tensor =>
        {
            var view = TensorView.At(tensor, offset, parentShape).Permute(inverse);
            for (int axis = 0; axis < rank; axis++)
                view = view.Slice(axis, starts[axis], shape[axis]);
            return view;
        });
    }

    /// <summary>A view of <paramref name="shape"/> that is dense, strided, or broadcast from size-1 axes, chosen at random.</summary>
    public static (int BufferLength, Func<DeviceTensor, TensorView> Make) Any(RandomData data, int[] shape, bool allowBroadcast)
    {
        int kind = data.Next(0, allowBroadcast ? 2 : 1);
        if (kind == 0)
        {
            int count = shape.Aggregate(1, (a, b) => a * b);
            return (count, tensor => TensorView.Of(tensor, shape));
        }
        if (kind == 1)
            return Strided(data, shape);
        var reduced = shape.Select(size => data.Chance() ? 1 : size).ToArray();
        int reducedCount = reduced.Aggregate(1, (a, b) => a * b);
        return (reducedCount, tensor => TensorView.Of(tensor, reduced).BroadcastTo(shape));
    }
}
