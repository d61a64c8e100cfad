namespace Ellsa.Kernels.Backend;

/// <summary>
/// Where the elements of an N-d view lie in its tensor's buffer: an element offset, up to
/// <see cref="MaxRank"/> sizes and their strides in elements. Plain fields, not arrays, so the
/// same value is a GPU kernel argument. A stride of 0 broadcasts that dimension.
/// </summary>
public struct ViewLayout
{
    public const int MaxRank = 5;

    public int Rank;
    public int Offset;
    public int D0, D1, D2, D3, D4;
    public int S0, S1, S2, S3, S4;

    public readonly int Dim(int axis) => axis switch
    {
        0 => D0, 1 => D1, 2 => D2, 3 => D3, 4 => D4,
        _ => throw new ArgumentOutOfRangeException(nameof(axis)),
    };

    public readonly int Stride(int axis) => axis switch
    {
        0 => S0, 1 => S1, 2 => S2, 3 => S3, 4 => S4,
        _ => throw new ArgumentOutOfRangeException(nameof(axis)),
    };

    public void Set(int axis, int size, int stride)
    {
        switch (axis)
        {
            case 0: D0 = size; S0 = stride; break;
            case 1: D1 = size; S1 = stride; break;
            case 2: D2 = size; S2 = stride; break;
            case 3: D3 = size; S3 = stride; break;
            case 4: D4 = size; S4 = stride; break;
            default: throw new ArgumentOutOfRangeException(nameof(axis));
        }
    }

    /// <summary>Elements the view spans (the product of its sizes; 1 for rank 0).</summary>
    public readonly long Count
    {
        get
        {
            long count = 1;
            for (int i = 0; i < Rank; i++)
                count *= Dim(i);
            return count;
        }
    }

    /// <summary>
    /// The buffer offset of the element with row-major index <paramref name="linear"/>. Written with
    /// the fields unrolled (no switch, no loop over an axis variable) so kernels inline it.
    /// </summary>
    public readonly int OffsetOf(int linear)
    {
        int offset = Offset;
        if (Rank > 4) { offset += linear % D4 * S4; linear /= D4; }
        if (Rank > 3) { offset += linear % D3 * S3; linear /= D3; }
        if (Rank > 2) { offset += linear % D2 * S2; linear /= D2; }
        if (Rank > 1) { offset += linear % D1 * S1; linear /= D1; }
        if (Rank > 0) offset += linear * S0;
        return offset;
    }

    public readonly override string ToString()
    {
        var sizes = new int[Rank];
        for (int i = 0; i < Rank; i++)
            sizes[i] = Dim(i);
        return "[" + string.Join(", ", sizes) + "]";
    }
}

/// <summary>
/// An N-d view (rank 0…5) of a <see cref="DeviceTensor"/>'s fp32 buffer: shape and strides in
/// elements. The 2-D row-major case is a <see cref="TensorSlice"/>; permutes, slices and
/// broadcasts only change the layout, never the data.
/// </summary>
public readonly struct TensorView
{
    public TensorView(DeviceTensor tensor, ViewLayout layout)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        Validate(tensor, layout);
        Tensor = tensor;
        Layout = layout;
    }

    public DeviceTensor Tensor { get; }
    public ViewLayout Layout { get; }
    public int Rank => Layout.Rank;
    public long Count => Layout.Count;
    public int Dim(int axis) => Layout.Dim(Axis(axis));

    /// <summary>A row-major view of the whole tensor with the given shape (its sizes must multiply to Rows·Cols).</summary>
    public static TensorView Of(DeviceTensor tensor, params ReadOnlySpan<int> shape) => At(tensor, 0, shape);

    /// <summary>A row-major run of elements starting at <paramref name="offset"/>.</summary>
    public static TensorView At(DeviceTensor tensor, int offset, params ReadOnlySpan<int> shape)
    {
        if (shape.Length > ViewLayout.MaxRank)
            throw new ArgumentException($"a view has at most {ViewLayout.MaxRank} dimensions, not {shape.Length}");
        var layout = new ViewLayout { Rank = shape.Length, Offset = offset };
        int stride = 1;
        for (int axis = shape.Length - 1; axis >= 0; axis--)
        {
            if (shape[axis] < 0)
                throw new ArgumentException($"size {shape[axis]} of axis {axis} is negative");
            layout.Set(axis, shape[axis], stride);
            stride = checked(stride * Math.Max(1, shape[axis]));
        }
        return new TensorView(tensor, layout);
    }

    public static implicit operator TensorView(TensorSlice slice)
    {
        var layout = new ViewLayout { Rank = 2, Offset = slice.Row * slice.Tensor.Cols + slice.Col };
        layout.Set(0, slice.Rows, slice.Tensor.Cols);
        layout.Set(1, slice.Cols, 1);
        return new TensorView(slice.Tensor, layout);
    }

    /// <summary>True when the elements are one dense row-major run (they can be handled as a flat span).</summary>
    public bool IsContiguous
    {
        get
        {
            long expected = 1;
            for (int axis = Rank - 1; axis >= 0; axis--)
            {
                int size = Layout.Dim(axis);
                if (size != 1 && Layout.Stride(axis) != expected)
                    return false;
                expected *= size;
            }
            return true;
        }
    }

    /// <summary>The axes in a new order: result axis i is this view's axis <c>axes[i]</c>.</summary>
    public TensorView Permute(params ReadOnlySpan<int> axes)
    {
        if (axes.Length != Rank)
            throw new ArgumentException($"a permutation of a rank-{Rank} view needs {Rank} axes, got {axes.Length}");
        var layout = new ViewLayout { Rank = Rank, Offset = Layout.Offset };
        int seen = 0;
        for (int i = 0; i < Rank; i++)
        {
            int axis = Axis(axes[i]);
            if ((seen & (1 << axis)) != 0)
                throw new ArgumentException($"axis {axis} appears twice in the permutation");
            seen |= 1 << axis;
            layout.Set(i, Layout.Dim(axis), Layout.Stride(axis));
        }
        return new TensorView(Tensor, layout);
    }

    /// <summary>Elements [start, start + length) along one axis.</summary>
    public TensorView Slice(int axis, int start, int length)
    {
        axis = Axis(axis);
        int size = Layout.Dim(axis);
        if (start < 0 || length < 0 || start + length > size)
            throw new ArgumentOutOfRangeException(nameof(start), $"[{start}, {start + length}) is outside axis {axis} of size {size}");
        var layout = Layout;
        layout.Offset += start * Layout.Stride(axis);
        layout.Set(axis, length, Layout.Stride(axis));
        return new TensorView(Tensor, layout);
    }

    /// <summary>The view at one index of an axis, that axis removed (rank − 1).</summary>
    public TensorView Select(int axis, int index)
    {
        axis = Axis(axis);
        var sliced = Slice(axis, index, 1).Layout;
        var layout = new ViewLayout { Rank = Rank - 1, Offset = sliced.Offset };
        for (int i = 0, j = 0; i < Rank; i++)
        {
            if (i != axis)
                layout.Set(j++, sliced.Dim(i), sliced.Stride(i));
        }
        return new TensorView(Tensor, layout);
    }

    /// <summary>A size-1 axis inserted before <paramref name="axis"/> (0 … Rank), whatever the strides.</summary>
    public TensorView Unsqueeze(int axis)
    {
        if (axis < 0 || axis > Rank || Rank == ViewLayout.MaxRank)
            throw new ArgumentOutOfRangeException(nameof(axis), $"cannot insert axis {axis} into a rank-{Rank} view");
        var layout = new ViewLayout { Rank = Rank + 1, Offset = Layout.Offset };
        for (int i = 0, j = 0; i <= Rank; i++)
        {
            if (i == axis)
                layout.Set(i, 1, 0);
            else
                layout.Set(i, Layout.Dim(j), Layout.Stride(j++));
        }
        return new TensorView(Tensor, layout);
    }

    /// <summary>A new shape over the same dense elements (only for contiguous views).</summary>
    public TensorView Reshape(params ReadOnlySpan<int> shape)
    {
        if (!IsContiguous)
            throw new InvalidOperationException($"a view of shape {Layout} with strides is not contiguous: copy it before reshaping");
        long count = 1;
        foreach (int size in shape)
            count *= size;
        if (count != Count)
            throw new ArgumentException($"cannot reshape {Count} elements of {Layout} into {count}");
        return At(Tensor, Layout.Offset, shape);
    }

    /// <summary>Size-1 axes repeated to <paramref name="shape"/> by a stride of 0 (and missing leading axes added), as NumPy broadcasts.</summary>
    public TensorView BroadcastTo(params ReadOnlySpan<int> shape)
    {
        if (shape.Length < Rank || shape.Length > ViewLayout.MaxRank)
            throw new ArgumentException($"cannot broadcast {Layout} to rank {shape.Length}");
        var layout = new ViewLayout { Rank = shape.Length, Offset = Layout.Offset };
        int lead = shape.Length - Rank;
        for (int i = 0; i < shape.Length; i++)
        {
            if (i < lead)
            {
                layout.Set(i, shape[i], 0);
                continue;
            }
            int size = Layout.Dim(i - lead);
            if (size == shape[i])
                layout.Set(i, size, Layout.Stride(i - lead));
            else if (size == 1)
                layout.Set(i, shape[i], 0);
            else
                throw new ArgumentException($"cannot broadcast {Layout} to [{string.Join(", ", shape.ToArray())}]: axis {i - lead} has size {size}");
        }
        return new TensorView(Tensor, layout);
    }

    public bool SameShape(in TensorView other)
    {
        if (other.Rank != Rank)
            return false;
        for (int i = 0; i < Rank; i++)
        {
            if (Layout.Dim(i) != other.Layout.Dim(i))
                return false;
        }
        return true;
    }

    public override string ToString() => Layout.ToString();

    private int Axis(int axis)
    {
        int resolved = axis < 0 ? axis + Rank : axis;
        if (resolved < 0 || resolved >= Rank)
            throw new ArgumentOutOfRangeException(nameof(axis), $"axis {axis} of a rank-{Rank} view");
        return resolved;
    }

    /// <summary>Every element a layout reaches must lie inside the tensor (strides are non-negative).</summary>
    private static void Validate(DeviceTensor tensor, in ViewLayout layout)
    {
        if (layout.Rank is < 0 or > ViewLayout.MaxRank)
            throw new ArgumentException($"a view has 0 to {ViewLayout.MaxRank} dimensions, not {layout.Rank}");
        long last = layout.Offset;
        bool empty = false;
        for (int axis = 0; axis < layout.Rank; axis++)
        {
            int size = layout.Dim(axis), stride = layout.Stride(axis);
            if (size < 0 || stride < 0)
                throw new ArgumentException($"view {layout} has a negative size or stride on axis {axis}");
            empty |= size == 0;
            if (size > 0)
                last += (long)(size - 1) * stride;
        }
        long capacity = (long)tensor.Rows * tensor.Cols;
        if (layout.Offset < 0 || (!empty && last >= capacity))
            throw new ArgumentOutOfRangeException(nameof(layout),
                $"view {layout} at offset {layout.Offset} reaches element {last} of a tensor of {capacity} ({tensor.Rows}×{tensor.Cols})");
    }
}
