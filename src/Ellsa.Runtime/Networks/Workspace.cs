using Ellsa.Kernels.Backend;

namespace Ellsa.Runtime.Networks;

/// <summary>
/// Device scratch kept for a stream's whole life: one tensor per (purpose, width), grown to the
/// most rows ever asked for and reused, so steady streaming allocates nothing. A purpose names one
/// use at a time: code that needs two live buffers of one width asks under two names.
/// </summary>
public sealed class Workspace(IComputeBackend backend) : IDisposable
{
    private readonly Dictionary<(string Purpose, int Cols), DeviceTensor> _tensors = [];

    public IComputeBackend Backend => backend;

    /// <summary>Rows [0, rows) of the purpose's [capacity, cols] tensor; the contents are whatever the last use left.</summary>
    public TensorSlice Rows(string purpose, int rows, int cols)
    {
        var key = (purpose, cols);
        if (!_tensors.TryGetValue(key, out var tensor) || tensor.Rows < rows)
        {
            int capacity = Math.Max(Math.Max(1, rows), tensor is null ? 0 : Math.Min(int.MaxValue / 2, tensor.Rows) * 2);
            if (tensor is not null)
            {
                backend.Synchronize();
                tensor.Dispose();
            }
            _tensors[key] = tensor = backend.AllocateTensor(capacity, Math.Max(1, cols));
        }
        return new TensorSlice(tensor, 0, rows, 0, cols);
    }

    public void Dispose()
    {
        backend.Synchronize();
        foreach (var tensor in _tensors.Values)
            tensor.Dispose();
        _tensors.Clear();
    }
}
