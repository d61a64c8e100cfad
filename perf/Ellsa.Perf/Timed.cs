using System.Diagnostics;

namespace Ellsa.Perf;

/// <summary>
/// The timing the component benchmarks share (ellsa-perf speech-cpu, speech-out-cpu, vision-cpu and
/// ellsa-perf-gpu speech, vision): wall and process CPU seconds of one piece of work, and the wall
/// times of repeated runs. Warm-ups, checks, medians and printing stay with each benchmark.
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
