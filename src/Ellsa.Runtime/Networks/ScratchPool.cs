using Ellsa.Kernels.Backend;

namespace Ellsa.Runtime.Networks;

/// <summary>
/// Device tensors a network's passes hand back for the next pass to take again, by exact shape.
/// A pass through the same network at the same input size asks for the same shapes in the same
/// order, so after the first one a pass allocates nothing: on the CPU each fresh tensor of an
/// image network (tens of MB) was otherwise mapped, zeroed and faulted in page by page, about a
/// tenth of a frame. The pool keeps what one pass used at its peak; it is not thread-safe (a
/// network runs one pass at a time).
/// </summary>
public sealed class ScratchPool(IComputeBackend backend) : IDisposable
{
    private readonly Dictionary<(int Rows, int Cols), Stack<DeviceTensor>> _free = [];

    /// <summary>A [rows, cols] tensor, taken from those handed back or allocated; its contents are undefined.</summary>
    public DeviceTensor Rent(int rows, int cols) =>
        _free.TryGetValue((rows, cols), out var stack) && stack.TryPop(out var tensor) ? tensor : backend.AllocateTensor(rows, cols);

    public void Return(DeviceTensor tensor)
    {
        var key = (tensor.Rows, tensor.Cols);
        if (!_free.TryGetValue(key, out var stack))
            _free[key] = stack = new Stack<DeviceTensor>();
        stack.Push(tensor);
    }

    public void Dispose()
    {
        foreach (var stack in _free.Values)
        {
            while (stack.TryPop(out var tensor))
                tensor.Dispose();
        }
        _free.Clear();
    }
}
