using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Elementwise;

namespace Ellsa.Kernels.Ops.Shapes;

/// <summary>How <see cref="Shapes.Pad"/> fills the border.</summary>
public enum PadMode
{
    Zero,
    /// <summary>The edge element repeated (PyTorch's "replicate").</summary>
    Replicate,
    /// <summary>Mirrored without repeating the edge (PyTorch's "reflect": x₁ x₀ | x₀ x₁ x₂ → pad 1 gives x₁ x₀ x₁ x₂).</summary>
    Reflect,
}

/// <summary>
/// Shape operations as layout changes plus copies: a permute, a nearest upsample, a concat and a
/// pad are one or a few elementwise copies between views (strides, broadcasts, slices), so they
/// run on every backend through the elementwise family and need no kernels of their own.
/// </summary>
public static class Shapes
{
    public static void Copy(INetworkOps backend, TensorView source, TensorView destination) =>
        backend.Unary(source, destination, new Copy());

    public static void Fill(INetworkOps backend, TensorView destination, float value) =>
        backend.Unary(destination, destination, new Constant(value));

    /// <summary>destination = source with its axes reordered (result axis i is source axis axes[i]).</summary>
    public static void Permute(INetworkOps backend, TensorView source, TensorView destination, params ReadOnlySpan<int> axes) =>
        Copy(backend, source.Permute(axes), destination);

    /// <summary>The parts laid side by side along <paramref name="axis"/> of the destination.</summary>
    public static void Concat(INetworkOps backend, int axis, TensorView destination, params ReadOnlySpan<TensorView> parts)
    {
        int at = 0;
        foreach (var part in parts)
        {
            int size = part.Dim(axis);
            if (at + size > destination.Dim(axis))
                throw new ArgumentException($"concat along axis {axis}: the parts need more than the destination's {destination.Dim(axis)}");
            Copy(backend, part, destination.Slice(axis, at, size));
            at += size;
        }
        if (at != destination.Dim(axis))
            throw new ArgumentException($"concat along axis {axis}: the parts fill {at} of the destination's {destination.Dim(axis)}");
    }

    /// <summary>
    /// Nearest-neighbour upsampling of the last <paramref name="axes"/> axes by <paramref name="factor"/>
    /// (F.interpolate(mode="nearest") with an integer scale): the destination, seen with a factor axis
    /// after each upsampled one, receives the source broadcast along those factor axes.
    /// </summary>
    public static void UpsampleNearest(INetworkOps backend, TensorView source, TensorView destination, int axes, int factor)
    {
        int rank = source.Rank;
        if (axes < 1 || rank + axes > ViewLayout.MaxRank || destination.Rank != rank || !destination.IsContiguous)
            throw new ArgumentException($"nearest upsampling of {axes} axes of {source} into {destination} (a dense destination; rank + axes ≤ {ViewLayout.MaxRank})");
        Span<int> split = stackalloc int[rank + axes];
        Span<int> widened = stackalloc int[rank + axes];
        int j = 0;
        for (int i = 0; i < rank; i++)
        {
            bool upsampled = i >= rank - axes;
            if (destination.Dim(i) != source.Dim(i) * (upsampled ? factor : 1))
                throw new ArgumentException($"nearest upsampling ×{factor} of {source} cannot give {destination}");
            split[j] = source.Dim(i);
            widened[j++] = source.Dim(i);
            if (upsampled)
            {
                split[j] = 1;
                widened[j++] = factor;
            }
        }
        var spread = Unsqueezed(source, rank, axes).BroadcastTo(widened);
        Copy(backend, spread, destination.Reshape(widened));
    }

    /// <summary>
    /// Pads one axis: destination = before elements, the source, after elements along
    /// <paramref name="axis"/> (other axes equal). Reflect and replicate copy the border from the
    /// source's own slices (one copy per reflected element, which is what a STFT's few samples need).
    /// </summary>
    public static void Pad(INetworkOps backend, TensorView source, TensorView destination, int axis, int before, int after, PadMode mode)
    {
        int size = source.Dim(axis);
        if (destination.Dim(axis) != before + size + after)
            throw new ArgumentException($"padding axis {axis} of {source} by {before}+{after} cannot give {destination}");
        if (mode == PadMode.Reflect && (before >= size || after >= size))
            throw new ArgumentException($"reflect padding by {before}+{after} needs more than {size} elements on axis {axis}");
        if (mode != PadMode.Zero && size == 0)
            throw new ArgumentException($"{mode} padding of an empty axis {axis}");
        Copy(backend, source, destination.Slice(axis, before, size));
        if (before > 0)
            Border(backend, source, destination.Slice(axis, 0, before), axis, mode, leading: true);
        if (after > 0)
            Border(backend, source, destination.Slice(axis, before + size, after), axis, mode, leading: false);
    }

    private static void Border(INetworkOps backend, TensorView source, TensorView border, int axis, PadMode mode, bool leading)
    {
        int count = border.Dim(axis), size = source.Dim(axis);
        switch (mode)
        {
            case PadMode.Zero:
                Fill(backend, border, 0f);
                break;
            case PadMode.Replicate:
                var edge = source.Slice(axis, leading ? 0 : size - 1, 1);
                for (int i = 0; i < count; i++)
                    Copy(backend, edge, border.Slice(axis, i, 1));
                break;
            default:
                // Border element i mirrors source element (count − i) before, (size − 2 − i) after.
                for (int i = 0; i < count; i++)
                    Copy(backend, source.Slice(axis, leading ? count - i : size - 2 - i, 1), border.Slice(axis, i, 1));
                break;
        }
    }

    /// <summary>The view with a size-1 axis (stride 0) after each of its last <paramref name="axes"/> axes.</summary>
    private static TensorView Unsqueezed(TensorView view, int rank, int axes)
    {
        var layout = new ViewLayout { Rank = rank + axes, Offset = view.Layout.Offset };
        int j = 0;
        for (int i = 0; i < rank; i++)
        {
            layout.Set(j++, view.Layout.Dim(i), view.Layout.Stride(i));
            if (i >= rank - axes)
                layout.Set(j++, 1, 0);
        }
        return new TensorView(view.Tensor, layout);
    }
}
