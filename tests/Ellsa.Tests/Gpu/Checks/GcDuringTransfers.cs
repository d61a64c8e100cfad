namespace Ellsa.Tests.Gpu.Checks;

/// <summary>
/// A thread that runs one compacting gen0 collection per <see cref="Next"/>, after a random
/// delay, so that it lands somewhere inside the host transfer the caller starts next and moves
/// whatever young managed arrays that transfer has not pinned.
/// </summary>
public sealed class GcDuringTransfers : IDisposable
{
    private const int Scribble = 16 << 10;

    private readonly SemaphoreSlim _go = new(0);
    private readonly Thread _thread;
    private volatile bool _stop;
    private volatile bool _awake;

    public GcDuringTransfers(int seed)
    {
        var jitter = new Random(seed);
        _thread = new Thread(() =>
        {
            while (true)
            {
                _go.Wait();
                if (_stop)
                    return;
                _awake = true;
                Thread.SpinWait(jitter.Next(0, 200));
                GC.Collect(0, GCCollectionMode.Forced, blocking: true, compacting: true);
                // New objects over the space the collection just emptied, so a copy from a moved
                // array's old place reads something else rather than the bytes still lying there.
                for (int i = 0; i < 16; i++)
                    Array.Fill(new int[Scribble], -1);
                Collections++;
            }
        })
        {
            IsBackground = true,
            Name = "GC during transfers",
        };
        _thread.Start();
    }

    public int Collections { get; private set; }

    /// <summary>
    /// Lets one collection go and returns once the thread is awake and counting down its delay:
    /// call it right before the transfer to disturb. (Without the wait, waking a thread that
    /// blocked while a kernel ran takes longer than the transfer.)
    /// </summary>
    public void Next()
    {
        _awake = false;
        _go.Release();
        var spin = new SpinWait();
        while (!_awake)
            spin.SpinOnce(sleep1Threshold: -1);
    }

    public void Dispose()
    {
        _stop = true;
        _go.Release();
        _thread.Join();
        _go.Dispose();
    }
}
