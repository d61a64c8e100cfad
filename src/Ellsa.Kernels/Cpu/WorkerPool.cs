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
/// Persistent threads that spin briefly between jobs and then sleep. A decode step issues a
/// hundred or more small jobs; waking sleeping threads for each would cost more than the work,
/// while <c>Parallel.For</c> allocates and was measured noisy on two cores.
/// </summary>
public sealed class WorkerPool : IDisposable
{
    // About 50 µs of spinning: longer than the gap between the kernels of one step, far shorter than a block.
    private const int SpinIterations = 2000;

    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _wake;
    private readonly int[] _sleeping;
    private readonly long[] _allocated;
    private readonly object _runGate = new();
    private IParallelWork? _work;
    private int _chunkCount;
    private int _nextChunk;
    private int _pending;
    private int _generation;
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
            _work = work;
            _chunkCount = chunkCount;
            _nextChunk = 0;
            _failure = null;
            Volatile.Write(ref _pending, _threads.Length);
            Interlocked.Increment(ref _generation);
            for (int i = 0; i < _threads.Length; i++)
            {
                if (Interlocked.Exchange(ref _sleeping[i], 0) == 1)
                    _wake[i].Release();
            }

            try
            {
                Drain(work, 0);
            }
            catch (Exception e)
            {
                _failure ??= e;
                Volatile.Write(ref _nextChunk, int.MaxValue / 2); // stop the others picking up more chunks
            }

            var spinner = new SpinWait();
            while (Volatile.Read(ref _pending) != 0)
                spinner.SpinOnce(sleep1Threshold: -1);
            _work = null;
            if (_failure is { } failure)
                throw new AggregateException("a parallel kernel failed", failure);
        }
    }

    private void Drain(IParallelWork work, int worker)
    {
        int chunk;
        while ((chunk = Interlocked.Increment(ref _nextChunk) - 1) < _chunkCount)
            work.Execute(chunk, worker);
    }

    private void WorkerLoop(int index)
    {
        int seen = 0;
        while (true)
        {
            int spins = 0;
            while (Volatile.Read(ref _generation) == seen)
            {
                if (_disposed)
                    return;
                if (++spins < SpinIterations)
                {
                    Thread.SpinWait(20);
                    continue;
                }

                // Announce sleep, then re-check: a publisher that missed the flag has already bumped the generation.
                Interlocked.Exchange(ref _sleeping[index], 1);
                if (Volatile.Read(ref _generation) != seen || _disposed)
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
            seen = Volatile.Read(ref _generation);
            var work = _work;
            try
            {
                if (work is not null)
                    Drain(work, index + 1);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, e, null);
                Volatile.Write(ref _nextChunk, int.MaxValue / 2);
            }
            Volatile.Write(ref _allocated[index], GC.GetAllocatedBytesForCurrentThread());
            Interlocked.Decrement(ref _pending);
        }
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        Interlocked.Increment(ref _generation);
        for (int i = 0; i < _threads.Length; i++)
            _wake[i].Release();
        foreach (var thread in _threads)
            thread.Join();
        foreach (var semaphore in _wake)
            semaphore.Dispose();
    }
}
