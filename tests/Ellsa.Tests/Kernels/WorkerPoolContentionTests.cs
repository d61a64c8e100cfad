using System.Diagnostics;
using Ellsa.Kernels.Cpu;

namespace Ellsa.Tests.Kernels;

/// <summary>
/// The pool on a saturated machine: other threads keep every core busy, so a pool thread is off
/// the core most of the time. A job must then cost about what the caller needs to run it alone,
/// not a scheduling round trip per worker (a tiny-model block once took 96 s this way).
/// </summary>
public sealed class WorkerPoolContentionTests
{
    private sealed class SmallChunks : IParallelWork
    {
        public long Sum;

        public void Execute(int chunk, int worker)
        {
            Thread.SpinWait(30);
            Interlocked.Add(ref Sum, chunk);
        }
    }

    private const int Jobs = 3000;
    private const int ChunksPerJob = 8;

    [Fact]
    public void JobsStayCloseToSerialSpeedWhileOtherThreadsSaturateTheCores()
    {
        int cores = Environment.ProcessorCount;
        using var pool = new WorkerPool(Math.Max(2, cores));
        var work = new SmallChunks();
        pool.Run(work, ChunksPerJob); // start the threads

        using var stop = new CancellationTokenSource();
        var hogs = Enumerable.Range(0, 2 * cores).Select(_ => new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
                Thread.SpinWait(1000);
        }) { IsBackground = true }).ToArray();
        foreach (var hog in hogs)
            hog.Start();
        try
        {
            Thread.Sleep(100);
            var serial = Stopwatch.StartNew();
            for (int job = 0; job < Jobs; job++)
            {
                for (int chunk = 0; chunk < ChunksPerJob; chunk++)
                    work.Execute(chunk, 0);
            }
            serial.Stop();

            var pooled = Stopwatch.StartNew();
            for (int job = 0; job < Jobs; job++)
                pool.Run(work, ChunksPerJob);
            pooled.Stop();

            long expected = (long)Jobs * 2 * (ChunksPerJob * (ChunksPerJob - 1) / 2) + ChunksPerJob * (ChunksPerJob - 1) / 2;
            Assert.Equal(expected, work.Sum);
            // Generous: a contended core time-slices the caller too, but the pool must not wait on workers the scheduler left off the core.
            Assert.True(pooled.Elapsed < serial.Elapsed * 10 + TimeSpan.FromMilliseconds(500),
                $"{Jobs} jobs took {pooled.Elapsed.TotalMilliseconds:F0} ms in the pool, {serial.Elapsed.TotalMilliseconds:F0} ms serially, with {hogs.Length} busy threads on {cores} cores");
        }
        finally
        {
            stop.Cancel();
            foreach (var hog in hogs)
                hog.Join();
        }
    }
}
