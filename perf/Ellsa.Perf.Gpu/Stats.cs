using System.Diagnostics;

namespace Ellsa.Perf.Gpu;

/// <summary>Medians over repeated timed runs, after warm-up.</summary>
public static class Stats
{
    /// <summary>Runs <paramref name="action"/> <paramref name="warmup"/> times untimed, then returns the median of <paramref name="repeats"/> timed runs in ms.</summary>
    public static double MedianMs(int warmup, int repeats, Action prepare, Action action)
    {
        for (int i = 0; i < warmup; i++)
        {
            prepare();
            action();
        }
        var samples = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            prepare();
            var watch = Stopwatch.StartNew();
            action();
            samples[i] = watch.Elapsed.TotalMilliseconds;
        }
        return Timed.Median(samples);
    }
}
