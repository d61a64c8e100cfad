using System.Diagnostics;

namespace Ellsa.Perf;

/// <summary>
/// The timing the component benchmarks share (ellsa-perf speech-cpu, speech-out-cpu, vision-cpu and
/// ellsa-perf-gpu speech, vision, and the side-by-sides): wall and process CPU seconds of one piece
/// of work, the wall times of repeated runs, and their median. Warm-ups, checks and printing stay
/// with each benchmark.
/// </summary>
public static class Timed
{
    /// <summary>Wall and CPU seconds (every thread of the process) of <paramref name="work"/>, and what it returned.</summary>
    public static (double Wall, double Cpu, T Result) Measure<T>(Func<T> work)
    {
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        T result = work();
        double wall = clock.Elapsed.TotalSeconds;
        process.Refresh();
        return (wall, (process.TotalProcessorTime - cpuBefore).TotalSeconds, result);
    }

    /// <summary>The median (of an even count, the mean of the middle two); NaN for none.</summary>
    public static double Median(IReadOnlyList<double> samples)
    {
        var sorted = samples.Order().ToArray();
        int n = sorted.Length;
        return n == 0 ? double.NaN : n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /// <summary>Runs <paramref name="run"/> <paramref name="count"/> times (at least once); the wall milliseconds of each, in order.</summary>
    public static List<double> RunsMs(int count, Action run)
    {
        var times = new List<double>();
        for (int i = 0; i < Math.Max(1, count); i++)
        {
            var clock = Stopwatch.StartNew();
            run();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        return times;
    }
}
