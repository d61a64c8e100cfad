using Ellsa.Kernels.Cpu;

namespace Ellsa.Tests.Kernels;

/// <summary>Single-token products' block order: contiguous runs per worker, stealing from the back, every block exactly once.</summary>
public sealed class ContiguousBlocksTests
{
    [Fact]
    public void EachWorkerWalksItsOwnRangeThenStealsFromTheBackOfAnother()
    {
        var blocks = new ContiguousBlocks();
        blocks.Reset(10, 2);
        Assert.Equal([0, 1, 2, 3, 4], Enumerable.Range(0, 5).Select(_ => blocks.Take(0)));
        Assert.Equal(5, blocks.Take(1));
        // Worker 0's range is done: it takes worker 1's blocks from the far end.
        Assert.Equal([9, 8], new[] { blocks.Take(0), blocks.Take(0) });
        Assert.Equal([6, 7], new[] { blocks.Take(1), blocks.Take(1) });
        Assert.Throws<InvalidOperationException>(() => blocks.Take(1));

        blocks.Reset(1, 2);
        Assert.Equal(0, blocks.Take(0)); // the only block sits in worker 1's range
    }

    [Fact]
    public void EveryBlockRunsExactlyOnceUnderThePool()
    {
        using var pool = new WorkerPool(3);
        var random = new Random();
        for (int run = 0; run < 200; run++)
        {
            int count = random.Next(1, 300);
            var job = new CountingJob(count, pool.ThreadCount);
            pool.Run(job, count);
            Assert.All(job.Hits, hits => Assert.Equal(1, hits));
        }
    }

    private sealed class CountingJob : IParallelWork
    {
        private readonly ContiguousBlocks _blocks = new();

        public CountingJob(int count, int workers)
        {
            Hits = new int[count];
            _blocks.Reset(count, workers);
        }

        public int[] Hits { get; }

        public void Execute(int chunk, int worker)
        {
            int block = _blocks.Take(worker);
            Interlocked.Increment(ref Hits[block]);
            Thread.SpinWait(block % 7 * 50);
        }
    }
}
