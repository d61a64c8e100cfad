using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Gpu.Kernels;
using Ellsa.Kernels.Gpu.Platform;
using ILGPU;
using ILGPU.Runtime;

namespace Ellsa.Kernels.Gpu.Memory;

/// <summary>
/// fp32 activations in device memory, [Rows, Cols] row-major. The buffer is rounded up to whole
/// 16-byte vectors so kernels may read it as <see cref="U4"/> where a slice is aligned.
/// </summary>
internal sealed class GpuTensor : DeviceTensor
{
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _buffer;

    /// <summary>Called before the memory goes, so deferred work that still reads or writes it runs first.</summary>
    public Action? BeforeDispose { get; set; }

    public GpuTensor(AcceleratorHost host, int rows, int cols) : base(rows, cols)
    {
        Host = host;
        long length = Math.Max(4, ((long)rows * cols + 3) / 4 * 4);
        _buffer = host.Accelerator.Allocate1D<float>(length);
        View = _buffer.View;
        Vectors = View.Cast<U4>();
    }

    public AcceleratorHost Host { get; }
    public ArrayView<float> View { get; }
    public ArrayView<U4> Vectors { get; }

    public int Offset(TensorSlice slice) => slice.Row * Cols + slice.Col;

    public override void Dispose()
    {
        BeforeDispose?.Invoke();
        BeforeDispose = null;
        _buffer.Dispose();
    }
}

/// <summary>fp32 parameters (norm weights, biases) in device memory.</summary>
internal sealed class GpuVector : DeviceVector
{
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _buffer;

    public GpuVector(AcceleratorHost host, ReadOnlySpan<float> values) : base(values.Length)
    {
        Host = host;
        _buffer = host.Accelerator.Allocate1D<float>(Math.Max(4, (values.Length + 3) / 4 * 4));
        View = _buffer.View;
        Vectors = View.Cast<U4>();
        HostTransfer.Upload(host.Stream, View, values);
        host.Stream.Synchronize();
    }

    public AcceleratorHost Host { get; }
    public ArrayView<float> View { get; }
    public ArrayView<U4> Vectors { get; }

    public override void Dispose() => _buffer.Dispose();
}

/// <summary>
/// int32 values (token ids, positions) in device memory, with the host copy they were uploaded
/// from: the only way values get here is an upload, so the backend checks ids and positions and
/// sizes its attention launches on the host without reading the device.
/// </summary>
internal sealed class GpuIndices : DeviceIndices
{
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _buffer;

    public GpuIndices(AcceleratorHost host, int length) : base(length)
    {
        Host = host;
        _buffer = host.Accelerator.Allocate1D<int>(Math.Max(1, length));
        View = _buffer.View;
        Shadow = new int[length];
    }

    public AcceleratorHost Host { get; }
    public ArrayView<int> View { get; }
    public int[] Shadow { get; }

    public override void Dispose() => _buffer.Dispose();
}
