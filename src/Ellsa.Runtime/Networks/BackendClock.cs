using System.Diagnostics;
using Ellsa.Kernels.Backend;

namespace Ellsa.Runtime.Networks;

/// <summary>
/// Stage timings of a network on a backend that may queue work (a GPU): every timestamp is taken
/// after synchronising, so the work queued before a stage is not charged to it and the stage's own
/// work is counted where it ran, not where it was queued.
/// </summary>
public abstract class BackendClock(IComputeBackend backend)
{
    /// <summary>A timestamp after the work queued so far has finished.</summary>
    internal long Start()
    {
        backend.Synchronize();
        return Stopwatch.GetTimestamp();
    }

    /// <summary>Milliseconds from <paramref name="start"/> to the end of the work queued since.</summary>
    internal double Since(long start)
    {
        backend.Synchronize();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }
}
