namespace Ellsa.Kernels.Cpu;

/// <summary>A unit of parallel work split into chunks. Implementations are long-lived objects whose
/// fields are set before each run, so dispatching work allocates nothing.</summary>
public interface IParallelWork
{
    /// <param name="chunk">0 ≤ chunk &lt; the chunk count passed to <see cref="WorkerPool.Run"/>.</param>
    /// <param name="worker">0 is the calling thread, 1… the pool's threads; indexes per-worker scratch.</param>
    void Execute(int chunk, int worker);
}

/// <summary>
/// Persistent threads that spin briefly between jobs and then block. A decode step issues a
/// hundred or more small jobs; waking sleeping threads for each would cost more than the work,
/// while <c>Parallel.For</c> allocates and was measured noisy on two cores.
/// </summary>
/// <remarks>
/// Built to degrade gracefully when the cores are busy with other processes: the caller never
/// waits for a worker that has not started a chunk (chunks are claimed, and the caller runs
/// whatever nobody claimed), spinning yields the core every few microseconds, and both sides
/// fall back to blocking waits. A worker the scheduler leaves off the core therefore delays
/// only the chunk it already holds, never the whole job.
/// </remarks>
public sealed class WorkerPool : IDisposable
{
    // About 50 µs of spinning: longer than the gap between the kernels of one step, far shorter than a block.
    private const int SpinIterations = 2000;
    // Yield the core every this many spins, so that a spinning thread gives way on a saturated machine.
    private const int SpinsPerYield = 64;
    // The caller spins this long for chunks in flight on other threads, then blocks until the last one is done.
    private const int CallerSpinIterations = 400;
    // A ticket index no chunk count reaches: published while a job's fields are being replaced.
    private const int Closed = int.MaxValue;

    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _wake;
    private readonly int[] _sleeping;
    private readonly long[] _allocated;
    private readonly object _runGate = new();
    private readonly SemaphoreSlim _lastChunkDone = new(0);
    private IParallelWork? _work;
    private int _chunkCount;
    /// <summary>(generation &lt;&lt; 32) | next chunk: a worker claims a chunk only while the generation it read is current.</summary>
    private long _ticket;
    private int _completed;
    private int _callerSleeping;
    private volatile bool _failed;
    private volatile bool _disposed;
    private Exception? _failure;

    public WorkerPool(int threadCount)
    {
        if (threadCount < 1)
            throw new ArgumentOutOfRangeException(nameof(threadCount), threadCount, "a pool needs at least the calling thread");
        ThreadCount = threadCount;
        _threads = new Thread[threadCount - 1];
        _wake = new SemaphoreSlim[threadCount - 1];
        _sleeping = new int[threadCount - 1];
        _allocated = new long[threadCount - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            _wake[i] = new SemaphoreSlim(0);
            int index = i;
            _threads[i] = new Thread(() => WorkerLoop(index))
            {
                IsBackground = true,
                Name = $"ellsa-cpu-{i + 1}",
            };
            _threads[i].Start();
        }
    }

    /// <summary>When set, counts dispatches and the caller's wait for other threads' chunks (see <see cref="KernelTimings"/>).</summary>
    internal KernelTimings? Timings { get; set; }

    /// <summary>Threads that execute chunks, the caller included.</summary>
    public int ThreadCount { get; }

    /// <summary>
    /// Bytes the pool's own threads have allocated, as of their last finished job. With the
    /// caller's <see cref="GC.GetAllocatedBytesForCurrentThread"/> it shows whether a hot path allocates,
    /// without the noise of unrelated threads in the process.
    /// </summary>
    public long WorkerAllocatedBytes
    {
        get
        {
            long total = 0;
            for (int i = 0; i < _allocated.Length; i++)
                total += Volatile.Read(ref _allocated[i]);
            return total;
        }
    }

    /// <summary>Runs every chunk of <paramref name="work"/> and returns when all are done. Calls are serialised.</summary>
    public void Run(IParallelWork work, int chunkCount)
    {
        if (chunkCount <= 0)
            return;
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_threads.Length == 0 || chunkCount == 1)
        {
            for (int c = 0; c < chunkCount; c++)
                work.Execute(c, 0);
            return;
        }

        lock (_runGate)
        {
            // Close the ticket before replacing the job's fields: a late worker that read the old
            // generation can then no longer claim a chunk against the new job's fields.
            long generation = (Volatile.Read(ref _ticket) >> 32) + 1;
            Interlocked.Exchange(ref _ticket, (generation << 32) | Closed);
            _work = work;
            _chunkCount = chunkCount;
            _completed = 0;
            _failure = null;
            _failed = false;
            Interlocked.Exchange(ref _ticket, generation << 32);
            for (int i = 0; i < _threads.Length; i++)
            {
                if (Interlocked.Exchange(ref _sleeping[i], 0) == 1)
                    _wake[i].Release();
            }

            Drain(work, chunkCount, generation, 0);
            var timings = Timings;
            long waitStart = timings is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
            WaitForChunksInFlight(chunkCount);
            if (timings is not null)
            {
                timings.WaitTicks += System.Diagnostics.Stopwatch.GetTimestamp() - waitStart;
                timings.Dispatches++;
            }
            _work = null;
            if (_failure is { } failure)
                throw new AggregateException("a parallel kernel failed", failure);
        }
    }

    /// <summary>Claims and runs chunks of the job of <paramref name="generation"/> until none is left.</summary>
    private void Drain(IParallelWork work, int chunkCount, long generation, int worker)
    {
        while (true)
        {
            long ticket = Volatile.Read(ref _ticket);
            int next = (int)(ticket & 0xFFFF_FFFF);
            if (ticket >> 32 != generation || next >= chunkCount)
                return;
            if (Interlocked.CompareExchange(ref _ticket, ticket + 1, ticket) != ticket)
                continue;
            try
            {
                if (!_failed)
                    work.Execute(next, worker);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, e, null);
                _failed = true; // the remaining chunks are claimed and skipped, so the count still completes
            }
            if (Interlocked.Increment(ref _completed) == chunkCount && worker != 0
                && Interlocked.Exchange(ref _callerSleeping, 0) == 1)
                _lastChunkDone.Release();
        }
    }

    /// <summary>Every chunk is claimed; waits, spinning briefly and then blocked, for those other threads still run.</summary>
    private void WaitForChunksInFlight(int chunkCount)
    {
        for (int spin = 0; spin < CallerSpinIterations; spin++)
        {
            if (Volatile.Read(ref _completed) == chunkCount)
                return;
            if (spin % SpinsPerYield == SpinsPerYield - 1)
                Thread.Yield();
            else
                Thread.SpinWait(20);
        }

        // Announce the wait, then re-check; the worker that completes the last chunk takes the flag and signals.
        Interlocked.Exchange(ref _callerSleeping, 1);
        if (Volatile.Read(ref _completed) == chunkCount && Interlocked.Exchange(ref _callerSleeping, 0) == 1)
            return;
        _lastChunkDone.Wait(); // consumes the release of the worker that took the flag
    }

    private void WorkerLoop(int index)
    {
        long seen = 0;
        while (true)
        {
            int spins = 0;
            long generation;
            while ((generation = Volatile.Read(ref _ticket) >> 32) == seen)
            {
                if (_disposed)
                    return;
                if (++spins < SpinIterations)
                {
                    if (spins % SpinsPerYield == 0)
                        Thread.Yield();
                    else
                        Thread.SpinWait(20);
                    continue;
                }

                // Announce sleep, then re-check: a publisher that missed the flag has already moved the generation on.
                Interlocked.Exchange(ref _sleeping[index], 1);
                if (Volatile.Read(ref _ticket) >> 32 != seen || _disposed)
                {
                    if (Interlocked.Exchange(ref _sleeping[index], 0) == 0)
                        _wake[index].Wait(); // the publisher cleared the flag first and released: consume it
                    break;
                }
                _wake[index].Wait();
                spins = 0;
            }
            if (_disposed)
                return;
            // The ticket is closed only while the caller replaces the job's fields, a few instructions.
            long ticket;
            while (((ticket = Volatile.Read(ref _ticket)) & 0xFFFF_FFFF) == Closed)
                Thread.SpinWait(1);
            generation = ticket >> 32;
            seen = generation;
            // Read after the ticket: if the job has moved on since, the claim in Drain fails.
            var work = _work;
            int chunkCount = _chunkCount;
            if (work is not null)
                Drain(work, chunkCount, generation, index + 1);
            Volatile.Write(ref _allocated[index], GC.GetAllocatedBytesForCurrentThread());
        }
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        for (int i = 0; i < _threads.Length; i++)
            _wake[i].Release();
        foreach (var thread in _threads)
            thread.Join();
        foreach (var semaphore in _wake)
            semaphore.Dispose();
        _lastChunkDone.Dispose();
    }
}
