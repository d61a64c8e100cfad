using Ellsa.Runtime.Configuration;
using System.Diagnostics;
using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;
using Ellsa.Runtime.Moe;

namespace Ellsa.Perf;

/// <summary>
/// Decode ms/token on the bench model against its floor: the weight bytes one step reads
/// (every layer matrix of the routed expert and its head) divided by the read bandwidth measured
/// in the same run on the same threads.
/// </summary>
public static class DecodeBenchmark
{
    /// <summary>Steps run before timing: tiered compilation promotes the library code the kernels call (TensorPrimitives).</summary>
    private const int WarmUpSteps = 16;

    public static int Run(int threads, int tokens, int context, bool small, int profileSteps = 0, WeightFormat format = WeightFormat.Bf16)
    {
        using var backend = new CpuBackend(threads);
        var config = small ? BenchModel.Config(hidden: 256, layers: 2, heads: 4, kvHeads: 2, ff: 704, speechVocab: 32000, visionVocab: 40000) : BenchModel.Config();
        Console.Error.WriteLine($"machine: {MachineInfo.Describe(backend)}");
        var clock = Stopwatch.StartNew();
        using var model = BenchModel.Create(backend, config, format: format);
        Console.Error.WriteLine($"model built in {clock.Elapsed.TotalSeconds:F1} s");

        // The probe runs before and after the timed steps (the machine's read rate drifts over seconds); the floor takes the better.
        using var memory = new MemoryBandwidth(backend.Threads);
        memory.Measure(backend);

        using var state = model.CreateSequence(context + 2 * (tokens + WarmUpSteps + profileSteps) + 1);
        var random = new Random(7);
        var prompt = new TokenBatch();
        for (int i = 0; i < context; i++)
            prompt.AddId(random.Next(0, 100));
        state.Append(prompt);

        var tokensConfig = config.Settings.Tokens;
        IdRange[] actions = [new(tokensConfig.ActionFirst, tokensConfig.ActionLast), IdRange.Single(tokensConfig.Eoa)];
        int token = state.ArgMax(Expert.Speech);
        var speech = Measure(tokens, () =>
        {
            state.Step(token, Expert.Speech);
            token = state.ArgMax(Expert.Speech);
        });
        int action = tokensConfig.Boa;
        var vision = Measure(tokens, () =>
        {
            state.Step(action, Expert.Vision);
            action = state.ArgMax(Expert.Vision, actions);
        });

        memory.Measure(backend);
        double bandwidth = memory.BestRate;

        Console.WriteLine($"bench model: d={config.Speech.HiddenSize}, {config.Speech.Layers} layers, {config.Speech.Heads} heads / {config.Speech.KvHeads} KV, ff {config.Speech.IntermediateSize}, vocabularies {config.Speech.VocabSize}/{config.Vision.VocabSize}, {(format == WeightFormat.Q8 ? $"q8 ({Q8Paths.Name(backend.Q8Path)} products)" : WeightSettings.Name(format))}");
        Console.WriteLine($"machine: {MachineInfo.Describe(backend)}");
        Console.WriteLine($"measured read bandwidth (better of before and after the steps): {memory.BestLine}");
        Console.WriteLine($"context: {context} prompt tokens, then {tokens} timed steps per expert after {WarmUpSteps} warm-up steps");
        Console.WriteLine();
        Console.WriteLine("| step | weight bytes/token | floor ms | median ms | p90 ms | tok/s | % of floor |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        Row("speech (text) step", model.Speech.DecodeBytes, bandwidth, speech);
        Row("vision (action) step", model.Vision.DecodeBytes, bandwidth, vision);

        if (profileSteps > 0)
        {
            // Timed separately, after the figures above: those runs had the timings detached.
            Profile(backend, "speech (text) step", profileSteps, () =>
            {
                state.Step(token, Expert.Speech);
                token = state.ArgMax(Expert.Speech);
            });
            Profile(backend, "vision (action) step", profileSteps, () =>
            {
                state.Step(action, Expert.Vision);
                action = state.ArgMax(Expert.Vision, actions);
            });
        }

        return 0;
    }

    /// <summary>Per-kernel wall time of <paramref name="steps"/> decode steps, per step.</summary>
    private static void Profile(CpuBackend backend, string name, int steps, Action step)
    {
        var timings = new KernelTimings();
        backend.Timings = timings;
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < steps; i++)
            step();
        double total = Stopwatch.GetElapsedTime(start).TotalMilliseconds / steps;
        backend.Timings = null;
        Console.WriteLine();
        Console.WriteLine($"per-kernel timings, {name}, mean of {steps} steps ({total:F2} ms per step with the timers on):");
        Console.WriteLine();
        Console.WriteLine("| kernel | calls/step | ms/step | % of step |");
        Console.WriteLine("| --- | ---: | ---: | ---: |");
        double timed = 0;
        foreach (var e in timings.Entries)
        {
            double ms = e.Milliseconds / steps;
            timed += ms;
            Console.WriteLine($"| {e.Name} | {(double)e.Calls / steps:F0} | {ms:F3} | {100 * ms / total:F1} % |");
        }
        Console.WriteLine($"| (host work between kernels) | | {total - timed:F3} | {100 * (total - timed) / total:F1} % |");
        Console.WriteLine($"| of which inside the kernels above: caller waiting for workers (sync) | {(double)timings.Dispatches / steps:F0} dispatches | {timings.WaitMilliseconds / steps:F3} | {100 * timings.WaitMilliseconds / steps / total:F1} % |");
    }

    private static double[] Measure(int count, Action step)
    {
        for (int i = 0; i < WarmUpSteps; i++)
            step();
        var times = new double[count];
        for (int i = 0; i < count; i++)
        {
            long start = Stopwatch.GetTimestamp();
            step();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return times;
    }

    private static void Row(string name, long bytes, double bandwidth, double[] sorted)
    {
        double floor = bytes / bandwidth * 1e3;
        double median = sorted[sorted.Length / 2];
        double p90 = sorted[(int)(sorted.Length * 0.9)];
        Console.WriteLine($"| {name} | {bytes / 1e9:F3} GB | {floor:F1} | {median:F1} | {p90:F1} | {1000 / median:F1} | {100 * floor / median:F0} % |");
    }
}
