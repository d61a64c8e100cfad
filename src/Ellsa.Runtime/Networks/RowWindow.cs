using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Shapes;

namespace Ellsa.Runtime.Networks;

/// <summary>
/// A stream's recent rows on the device, oldest first, in one tensor: a layer appends the rows of
/// a new step after the history it keeps (so history and new rows are one contiguous run that
/// attention and causal convolutions read as a single view), then drops all but the history the
/// next step needs. The tensor grows when a step brings more rows than it has room for.
/// </summary>
public sealed class RowWindow(IComputeBackend backend, int cols) : IDisposable
{
    private DeviceTensor? _tensor;

    public int Cols => cols;
    /// <summary>Rows held, history first.</summary>
    public int Count { get; private set; }
    /// <summary>The tensor the rows live in (valid until the next <see cref="Append"/>).</summary>
    public DeviceTensor Tensor => _tensor ??= backend.AllocateTensor(1, Math.Max(1, cols));

    public TensorSlice Rows(int first, int count) => new(Tensor, first, count, 0, cols);

    /// <summary>Room for <paramref name="rows"/> more rows after the held ones; returns their slice.</summary>
    public TensorSlice Append(int rows)
    {
        if (Count + rows > Tensor.Rows)
        {
            var grown = backend.AllocateTensor(Math.Max(Count + rows, Math.Min(int.MaxValue / 2, Tensor.Rows) * 2), Math.Max(1, cols));
            if (Count > 0)
                Shapes.Copy(backend, Rows(0, Count), new TensorSlice(grown, 0, Count, 0, cols));
            backend.Synchronize();
            _tensor!.Dispose();
            _tensor = grown;
        }
        var slice = Rows(Count, rows);
        Count += rows;
        return slice;
    }

    /// <summary>Appends <paramref name="rows"/> zero rows (a causal convolution's padding before the first frame).</summary>
    public void AppendZeros(int rows)
    {
        if (rows > 0)
            Shapes.Fill(backend, Append(rows), 0f);
    }

    /// <summary>Keeps the last <paramref name="keep"/> rows (all when fewer are held), moved to the front.</summary>
    public void KeepLast(int keep, Workspace scratch)
    {
        keep = Math.Min(keep, Count);
        int from = Count - keep;
        if (from > 0 && keep > 0)
        {
            if (from >= keep)
            {
                Shapes.Copy(backend, Rows(from, keep), Rows(0, keep));
            }
            else
            {
                // The ranges overlap and an elementwise copy runs in parallel: go through scratch.
                var staged = scratch.Rows("row-window.move", keep, cols);
                Shapes.Copy(backend, Rows(from, keep), staged);
                Shapes.Copy(backend, staged, Rows(0, keep));
            }
        }
        Count = keep;
    }

    public void Clear() => Count = 0;

    public void Dispose()
    {
        if (_tensor is null)
            return;
        backend.Synchronize();
        _tensor.Dispose();
        _tensor = null;
    }
}
