using ILGPU;
using ILGPU.Runtime;

namespace Ellsa.Kernels.Gpu.Memory;

/// <summary>
/// Every copy between device memory and host memory goes through here, so that the host side is
/// pinned while ILGPU uses its address.
/// <para>ILGPU 1.5.3's <c>CopyFromCPUUnsafeAsync</c>/<c>CopyToCPUUnsafeAsync</c> take a <c>ref T</c>
/// documented as "the base address of the pinned CPU buffer": they turn it into a raw pointer
/// (<c>Unsafe.AsPointer</c>) and then allocate a wrapper buffer object before copying. A garbage
/// collection started at that allocation (or by any other thread) may move an unpinned managed
/// array; the copy then reads the array's old place (an upload of stale bytes) or writes there (a
/// download that leaves the caller's array as it was and overwrites whatever the GC has since put
/// in the old place). Seen as rare rows of zeros in the simulator checks, and as crashes under GC
/// pressure. Native memory and stack memory never move; pinning them costs nothing.</para>
/// <para>On CUDA, memory pinned this way is still pageable to the driver, which stages an upload
/// before the call returns, so the pin may end with the call; downloads wait for the stream inside
/// the pin.</para>
/// </summary>
internal static unsafe class HostTransfer
{
    /// <summary>Queues a copy of <paramref name="source"/> into the first elements of <paramref name="target"/>.</summary>
    public static void Upload<T>(AcceleratorStream stream, ArrayView<T> target, ReadOnlySpan<T> source) where T : unmanaged
    {
        if (source.IsEmpty)
            return;
        fixed (T* pointer = source)
            target.SubView(0, source.Length).CopyFromCPUUnsafeAsync(stream, ref *pointer, source.Length);
    }

    /// <summary>
    /// Queues a copy of <paramref name="rows"/> × <paramref name="cols"/> values (row-major in
    /// <paramref name="source"/>) into <paramref name="target"/> from <paramref name="offset"/> on,
    /// rows <paramref name="stride"/> elements apart: one copy when the rows are contiguous.
    /// </summary>
    public static void UploadRows<T>(AcceleratorStream stream, ArrayView<T> target, long offset, int stride, int rows, int cols,
        ReadOnlySpan<T> source) where T : unmanaged
    {
        if (rows == 0 || cols == 0)
            return;
        fixed (T* pointer = source)
        {
            if (cols == stride)
            {
                target.SubView(offset, (long)rows * cols).CopyFromCPUUnsafeAsync(stream, ref *pointer, (long)rows * cols);
                return;
            }
            for (int r = 0; r < rows; r++)
                target.SubView(offset + (long)r * stride, cols).CopyFromCPUUnsafeAsync(stream, ref pointer[(long)r * cols], cols);
        }
    }

    /// <summary>Copies the first <paramref name="destination"/>.Length elements of <paramref name="source"/> and waits for them.</summary>
    public static void Download<T>(AcceleratorStream stream, ArrayView<T> source, Span<T> destination) where T : unmanaged =>
        DownloadRows(stream, source, 0, destination.Length, 1, destination.Length, destination);

    /// <summary>
    /// Copies <paramref name="rows"/> × <paramref name="cols"/> values, rows <paramref name="stride"/>
    /// elements apart in <paramref name="source"/> from <paramref name="offset"/> on, into
    /// <paramref name="destination"/> (row-major), and waits for the stream before unpinning it.
    /// </summary>
    public static void DownloadRows<T>(AcceleratorStream stream, ArrayView<T> source, long offset, int stride, int rows, int cols,
        Span<T> destination) where T : unmanaged
    {
        if (rows == 0 || cols == 0)
        {
            stream.Synchronize();
            return;
        }
        fixed (T* pointer = destination)
        {
            if (cols == stride)
            {
                source.SubView(offset, (long)rows * cols).CopyToCPUUnsafeAsync(stream, ref *pointer, (long)rows * cols);
            }
            else
            {
                for (int r = 0; r < rows; r++)
                    source.SubView(offset + (long)r * stride, cols).CopyToCPUUnsafeAsync(stream, ref pointer[(long)r * cols], cols);
            }
            stream.Synchronize();
        }
    }
}
