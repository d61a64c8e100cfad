using Ellsa.Kernels.Backend;

namespace Ellsa.Kernels.Ops.Elementwise;

/// <summary>
/// The elementwise family's contract and its scalar reference. Contract: every operand has the
/// destination's shape (broadcast an operand with <see cref="TensorView.BroadcastTo"/> first); the
/// destination has no broadcast axis; it may be an operand itself (in place) but must not
/// otherwise overlap one. The reference walks the views element by element in double precision
/// through the functors' <c>Exact</c> definitions.
/// </summary>
public static class Elementwise
{
    public static void CheckUnary(in TensorView source, in TensorView destination)
    {
        CheckDestination(destination, "unary");
        if (!source.SameShape(destination))
            throw new ArgumentException($"unary op: source {source} and destination {destination} differ in shape");
    }

    public static void CheckBinary(in TensorView a, in TensorView b, in TensorView destination)
    {
        CheckDestination(destination, "binary");
        if (!a.SameShape(destination) || !b.SameShape(destination))
            throw new ArgumentException($"binary op: operands {a} and {b} and destination {destination} differ in shape (broadcast them first)");
    }

    /// <summary>destination = fn(source) over host buffers laid out as the views' layouts say.</summary>
    public static void ReferenceUnary<TFn>(ReadOnlySpan<float> source, ViewLayout s, Span<float> destination, ViewLayout d, TFn fn)
        where TFn : struct, IUnaryFunctor
    {
        int count = checked((int)d.Count);
        for (int i = 0; i < count; i++)
            destination[d.OffsetOf(i)] = (float)fn.Exact(source[s.OffsetOf(i)]);
    }

    /// <summary>destination = fn(a, b) over host buffers laid out as the views' layouts say.</summary>
    public static void ReferenceBinary<TFn>(ReadOnlySpan<float> a, ViewLayout la, ReadOnlySpan<float> b, ViewLayout lb,
        Span<float> destination, ViewLayout d, TFn fn) where TFn : struct, IBinaryFunctor
    {
        int count = checked((int)d.Count);
        for (int i = 0; i < count; i++)
            destination[d.OffsetOf(i)] = (float)fn.Exact(a[la.OffsetOf(i)], b[lb.OffsetOf(i)]);
    }

    private static void CheckDestination(in TensorView destination, string what)
    {
        for (int axis = 0; axis < destination.Rank; axis++)
        {
            if (destination.Layout.Stride(axis) == 0 && destination.Layout.Dim(axis) > 1)
                throw new ArgumentException($"{what} op: the destination {destination} is broadcast along axis {axis}; each element must be written once");
        }
        if (destination.Count > int.MaxValue)
            throw new ArgumentException($"{what} op: {destination.Count} elements exceed one launch");
    }
}
