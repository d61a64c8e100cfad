using System.Runtime.InteropServices;

namespace Ellsa.Kernels.Cpu;

/// <summary>
/// 64-byte aligned unmanaged memory: never moved by the GC, so kernels hold raw pointers into it.
/// Buffers of 2 MiB and more are aligned to and advised onto huge pages (<see cref="HugePages"/>).
/// </summary>
public sealed unsafe class NativeArray<T> : IDisposable where T : unmanaged
{
    private T* _data;

    public NativeArray(long length, bool zero = true)
    {
        if (length < 0)
            throw new ArgumentOutOfRangeException(nameof(length));
        Length = length;
        nuint bytes = (nuint)Math.Max(1, length * sizeof(T));
        _data = (T*)NativeMemory.AlignedAlloc(bytes, HugePages.Alignment(bytes, 64));
        HugePages.Advise(_data, bytes);
        if (zero)
            NativeMemory.Clear(_data, bytes);
        GC.AddMemoryPressure((long)bytes);
    }

    public long Length { get; }
    public long ByteSize => Length * sizeof(T);

    public T* Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_data == null, this);
            return _data;
        }
    }

    public Span<T> AsSpan(long start, int length)
    {
        if (start < 0 || length < 0 || start + length > Length)
            throw new ArgumentOutOfRangeException(nameof(start));
        return new Span<T>(Pointer + start, length);
    }

    public void Dispose()
    {
        // Two threads disposing at once (a shutdown race) must free the block once, not twice.
        T* data;
        fixed (T** slot = &_data)
            data = (T*)Interlocked.Exchange(ref *(nint*)slot, 0);
        if (data == null)
            return;
        NativeMemory.AlignedFree(data);
        GC.RemoveMemoryPressure(Math.Max(1, Length * sizeof(T)));
        GC.SuppressFinalize(this);
    }

    ~NativeArray()
    {
        if (_data != null)
            NativeMemory.AlignedFree(_data);
    }
}
