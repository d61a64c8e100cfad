using Ellsa.Kernels.Gpu.Kernels;
using Ellsa.Kernels.Gpu.Platform;
using ILGPU;
using ILGPU.Runtime;

namespace Ellsa.Kernels.Gpu.Memory;

/// <summary>
/// Scratch buffers of one backend, grown on first need and then reused, so that a warmed-up
/// decode step allocates nothing on the device.
/// </summary>
internal sealed class GpuWorkspace : IDisposable
{
    private readonly AcceleratorHost _host;
    private readonly Dictionary<string, MemoryBuffer> _buffers = new();

    public GpuWorkspace(AcceleratorHost host)
    {
        _host = host;
        Dummy = Floats("dummy", 16);
        DummyUnits = Dummy.Cast<U4>();
    }

    /// <summary>Stands in for optional views a kernel does not read (bias, norm weight).</summary>
    public ArrayView<float> Dummy { get; }
    public ArrayView<U4> DummyUnits { get; }

    public ArrayView<float> Floats(string name, long length) => Get<float>(name, length);

    public ArrayView<int> Ints(string name, long length) => Get<int>(name, length);

    public ArrayView<uint> Words(string name, long length) => Get<uint>(name, length);

    private ArrayView<T> Get<T>(string name, long length) where T : unmanaged
    {
        length = Math.Max(4, (length + 3) / 4 * 4);
        if (_buffers.TryGetValue(name, out var existing) && existing.Length >= length && existing is MemoryBuffer1D<T, Stride1D.Dense> typed)
            return typed.View;
        if (existing is not null)
        {
            // Queued kernels may still read the old buffer; growth is rare (first prefill of a size).
            _host.Stream.Synchronize();
            existing.Dispose();
        }
        var buffer = _host.Accelerator.Allocate1D<T>(length);
        _buffers[name] = buffer;
        return buffer.View;
    }

    public void Dispose()
    {
        _host.Stream.Synchronize();
        foreach (var buffer in _buffers.Values)
            buffer.Dispose();
        _buffers.Clear();
    }
}
