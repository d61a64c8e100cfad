using Ellsa.Kernels.Cpu;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Moe;

namespace Ellsa.Perf;

/// <summary>
/// What huge pages give a decode step: the bench model built twice in one process, once with its
/// buffers advised onto huge pages and once on 4 KiB pages (<see cref="HugePages"/>), and the two
/// timed in alternation, short rounds each, so that both see nearly one machine read rate (it
/// drifts over seconds on the shared machine). The per-round ratio is the comparison.
/// </summary>
public static class PagesBenchmark
{
    private const int WarmUpSteps = 4;

    public static int Run(int threads, int rounds, int steps, WeightFormat format)
    {
        if (!HugePages.Offered)
        {
            Console.Error.WriteLine("error: this machine offers no transparent huge pages (Linux with /sys/kernel/mm/transparent_hugepage/enabled set to always or madvise), so there is nothing to compare");
            return 2;
        }
        using var backend = new CpuBackend(threads);
        var config = BenchModel.Config();
        Console.Error.WriteLine($"machine: {MachineInfo.Describe(backend)}; building the bench model twice ({WeightSettings.Name(format)})");
        SaMoeModel Build(bool huge)
        {
            HugePages.Enabled = huge;
            try
            {
                return BenchModel.Create(backend, config, format: format);
            }
            finally
            {
                HugePages.Enabled = true;
            }
        }
        using var onHuge = Build(huge: true);
        using var onSmall = Build(huge: false);
        var systems = new[] { (Name: "huge pages", Model: onHuge), (Name: "4 KiB pages", Model: onSmall) };
        var states = systems.Select(s => Prompted(s.Model, rounds * (WarmUpSteps + steps))).ToArray();
        var medians = new List<double>[] { [], [] };
        try
        {
            for (int round = 0; round < rounds; round++)
            {
                // Alternate which goes first, so neither always follows the other.
                for (int k = 0; k < 2; k++)
                {
                    int which = (round + k) % 2;
                    medians[which].Add(MedianStep(states[which], steps));
                }
            }
        }
        finally
        {
            foreach (var state in states)
                state.Dispose();
        }

        var ratios = medians[0].Zip(medians[1], (huge, small) => huge / small).ToList();
        Console.WriteLine($"bench model ({WeightSettings.Name(format)}), {backend.Threads} threads, {rounds} alternating rounds of {steps} speech steps (median step per round)");
        Console.WriteLine($"machine: {MachineInfo.Describe(backend)}");
        Console.WriteLine();
        Console.WriteLine("| buffers | median of round medians, ms | fastest round, ms |");
        Console.WriteLine("| --- | ---: | ---: |");
        for (int s = 0; s < 2; s++)
            Console.WriteLine($"| {systems[s].Name} | {Timed.Median(medians[s]):F1} | {medians[s].Min():F1} |");
        Console.WriteLine();
        Console.WriteLine($"per-round ratios huge / 4 KiB: {string.Join(", ", ratios.Select(r => r.ToString("F2")))}");
        Console.WriteLine($"median ratio {Timed.Median(ratios):F3}, mean {ratios.Average():F3}");
        return 0;
    }

    private static SequenceState Prompted(SaMoeModel model, int steps)
    {
        // Room for every round's steps: the context grows by one position per step.
        var state = model.CreateSequence(64 + steps + 1);
        var prompt = new TokenBatch();
        for (int i = 0; i < 64; i++)
            prompt.AddId(i);
        state.Append(prompt);
        return state;
    }

    private static double MedianStep(SequenceState state, int steps)
    {
        int token = state.ArgMax(Expert.Speech);
        void Step()
        {
            state.Step(token, Expert.Speech);
            token = state.ArgMax(Expert.Speech);
        }
        for (int i = 0; i < WarmUpSteps; i++)
            Step();
        return Timed.Median(Timed.RunsMs(steps, Step));
    }
}
