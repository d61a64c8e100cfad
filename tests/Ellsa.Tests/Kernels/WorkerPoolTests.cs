using Ellsa.Kernels.Cpu;

namespace Ellsa.Tests.Kernels;

public sealed class WorkerPoolTests
{
    private sealed class Counting(int chunks) : IParallelWork
    {
        public readonly int[] Hits = new int[chunks];
        public readonly HashSet<int> Workers = [];

        public void Execute(int chunk, int worker)
        {
            Interlocked.Increment(ref Hits[chunk]);
            lock (Workers)
                Workers.Add(worker);
            Thread.SpinWait(2000);
        }
    }

    private sealed class Failing : IParallelWork
    {
        public void Execute(int chunk, int worker)
        {
            if (chunk == 5)
                throw new InvalidOperationException("chunk 5 fails");
        }
    }

    [Fact]
    public void EveryChunkRunsExactlyOnceAcrossManyJobs()
    {
        using var pool = new WorkerPool(3);
        var random = new Random();
        for (int job = 0; job < 300; job++)
        {
            int chunks = random.Next(1, 40);
            var work = new Counting(chunks);
            pool.Run(work, chunks);
            Assert.All(work.Hits, h => Assert.Equal(1, h));
            Assert.All(work.Workers, w => Assert.InRange(w, 0, 2));
        }
    }

    [Fact]
    public void WorkersWakeAfterSleeping()
    {
        using var pool = new WorkerPool(2);
        var first = new Counting(64);
        pool.Run(first, 64);
        Thread.Sleep(50); // long enough for the worker to stop spinning and block
        var second = new Counting(64);
        pool.Run(second, 64);
        Assert.All(second.Hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public void AFailingChunkSurfacesAndThePoolStaysUsable()
    {
        using var pool = new WorkerPool(2);
        var error = Assert.Throws<AggregateException>(() => pool.Run(new Failing(), 32));
        Assert.Contains("chunk 5 fails", error.InnerException!.Message);
        var work = new Counting(16);
        pool.Run(work, 16);
        Assert.All(work.Hits, h => Assert.Equal(1, h));
    }
}
