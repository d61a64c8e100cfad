namespace Ellsa.Kernels.Cpu;

/// <summary>
/// Hands out the blocks of one parallel job so that each worker streams its own contiguous run:
/// the blocks are split into one range per worker, a worker takes its range from the front, and
/// a worker whose range is done takes the others' blocks from their back ends. A single-token
/// product then reads each worker's rows in order (the next rows it prefetches are its own), while
/// a worker the scheduler leaves off the core delays nothing: the others take its remaining blocks.
/// </summary>
/// <remarks>
/// <see cref="WorkerPool"/> calls a job exactly once per chunk, and every call here takes exactly
/// one block, so with as many chunks as blocks each call finds one: ranges only shrink, and fewer
/// calls than blocks have claimed one at any moment.
/// </remarks>
internal sealed class ContiguousBlocks
{
    /// <summary>Longs between two workers' ranges: 128 bytes, so each worker's own takes stay on a cache line no other core writes.</summary>
    private const int Spacing = 16;

    /// <summary>Per worker, at w · <see cref="Spacing"/>: (next block from the front &lt;&lt; 32) | (one past the last block not yet taken).</summary>
    private long[] _ranges = [];
    private int _workers;

    public void Reset(int blocks, int workers)
    {
        if (_ranges.Length < workers * Spacing)
            _ranges = new long[workers * Spacing];
        _workers = workers;
        for (int w = 0; w < workers; w++)
        {
            long first = (long)blocks * w / workers, end = (long)blocks * (w + 1) / workers;
            _ranges[w * Spacing] = (first << 32) | end;
        }
    }

    /// <summary>The next block for <paramref name="worker"/>: its own range's front, else the back of another's.</summary>
    public int Take(int worker)
    {
        int own = worker % _workers * Spacing;
        while (true)
        {
            long range = Volatile.Read(ref _ranges[own]);
            int front = (int)(range >> 32), end = (int)range;
            if (front >= end)
                break;
            if (Interlocked.CompareExchange(ref _ranges[own], ((long)(front + 1) << 32) | (uint)end, range) == range)
                return front;
        }
        for (int i = 1; i < _workers; i++)
        {
            int other = (worker + i) % _workers * Spacing;
            while (true)
            {
                long range = Volatile.Read(ref _ranges[other]);
                int front = (int)(range >> 32), end = (int)range;
                if (front >= end)
                    break;
                if (Interlocked.CompareExchange(ref _ranges[other], ((long)front << 32) | (uint)(end - 1), range) == range)
                    return end - 1;
            }
        }
        throw new InvalidOperationException("a job was run for more chunks than it has blocks");
    }
}
