using System.Diagnostics;
using Ellsa.Kernels.Cpu;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Moe;

namespace Ellsa.Perf.LlamaCpp;

/// <summary>What one run compares: the bench shape, the rounds and which systems.</summary>
public sealed record SideBySideOptions(
    int Threads, int Rounds, int Tokens, int Context, int WarmUp, int CheckSteps, bool Small,
    IReadOnlyList<string> EngineWeights, IReadOnlyList<GgmlType> LlamaTypes, string? GgufDirectory);

/// <summary>
/// The engine's speech-expert decode beside llama.cpp's on GGUFs of the same random weights, in
/// one process, on the same number of threads, interleaved round by round (the order rotates each
/// round, so neither side always runs on a machine its predecessor warmed or heated). Before
/// timing, each GGUF is checked against the engine: the prompt's last logits and the greedy ids
/// of teacher-forced steps must agree, which validates the writer's names, layout and RoPE order.
/// </summary>
public static class SideBySide
{
    public static int Run(SideBySideOptions o)
    {
        LlamaRunner.ConfigureNative();
        using var backend = new CpuBackend(o.Threads);
        var config = o.Small
            ? BenchModel.Config(hidden: 256, layers: 2, heads: 4, kvHeads: 2, ff: 704, speechVocab: 32000, visionVocab: 40000)
            : BenchModel.Config();
        var speech = config.Speech;
        Console.Error.WriteLine($"machine: {MachineInfo.Describe(backend)}");
        var clock = Stopwatch.StartNew();
        var host = BenchModel.CreateWeights(backend, config);
        using var model = new SaMoeModel(config, backend, host);
        Console.Error.WriteLine($"engine model built in {clock.Elapsed.TotalSeconds:F1} s");
        // The same draws quantised to Q8_0 blocks (projections and head; embeddings stay bf16), as --weights q8 loads them.
        using var q8 = o.EngineWeights.Contains("q8") ? BenchModel.Create(backend, config, format: WeightFormat.Q8) : null;
        // The same draws packed losslessly to 12 bits (projections and head), as --weights bf16-packed loads them.
        using var packed = o.EngineWeights.Contains("bf16-packed") ? BenchModel.Create(backend, config, format: WeightFormat.PackedBf16) : null;

        string dir = o.GgufDirectory ?? Path.Combine(Path.GetTempPath(), $"ellsa-llama-bench-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        var ggufs = new List<(GgmlType Type, string Path)>();
        try
        {
            foreach (var type in o.LlamaTypes)
            {
                clock.Restart();
                string path = Path.Combine(dir, $"bench-{(o.Small ? "small" : "full")}-{type}.gguf");
                BenchGguf.Write(path, speech, host.Speech, type);
                ggufs.Add((type, path));
                Console.Error.WriteLine($"wrote {path} ({new FileInfo(path).Length / 1e9:F3} GB) in {clock.Elapsed.TotalSeconds:F1} s");
            }
            return Compare(o, backend, model, q8, packed, speech, ggufs);
        }
        finally
        {
            if (o.GgufDirectory is null)
                Directory.Delete(dir, recursive: true);
        }
    }

    private static int Compare(SideBySideOptions o, CpuBackend backend, SaMoeModel model, SaMoeModel? q8, SaMoeModel? packed, ExpertConfig speech, List<(GgmlType Type, string Path)> ggufs)
    {
        int positions = o.Context + o.WarmUp + Math.Max(o.Tokens, o.CheckSteps) + 1;
        int llamaContext = (positions + 255) / 256 * 256;
        var random = new Random(7);
        var prompt = new int[o.Context];
        for (int i = 0; i < prompt.Length; i++)
            prompt[i] = random.Next(0, 100);

        using var state = model.CreateSequence(positions);
        using var q8State = q8?.CreateSequence(positions);
        using var packedState = packed?.CreateSequence(positions);
        var engines = new List<(string Name, SequenceState State, long Bytes)>();
        if (o.EngineWeights.Contains("bf16"))
            engines.Add(("engine bf16", state, model.Speech.DecodeBytes));
        if (packed is not null)
            engines.Add(("engine bf16-packed", packedState!, packed.Speech.DecodeBytes));
        if (q8 is not null)
            engines.Add(("engine q8", q8State!, q8.Speech.DecodeBytes));
        var runners = ggufs.Select(g => (g.Type, Runner: new LlamaRunner(g.Path, backend.Threads, llamaContext))).ToList();
        try
        {
            Console.WriteLine($"bench shape: d {speech.HiddenSize}, {speech.Layers} layers, {speech.Heads}/{speech.KvHeads} heads, ff {speech.IntermediateSize}, vocabulary {speech.VocabSize}; random weights; {o.Context}-token context; {backend.Threads} threads each");
            Console.WriteLine($"machine: {MachineInfo.Describe(backend)}");
            Console.WriteLine($"llama.cpp (LLamaSharp 0.30.0): {LlamaRunner.SystemInfo()}");
            bool ok = true;
            foreach (var (type, runner) in runners)
                ok &= Check(o, state, runner, type, prompt);
            if (!ok)
            {
                Console.Error.WriteLine("error: a GGUF does not reproduce the engine's logits; its timings would compare different models");
                return 1;
            }

            // The probe takes its turn in every round like the systems (the machine's read rate
            // drifts with its neighbours' load over seconds): the floor is its best round.
            using var memory = new MemoryBandwidth(backend.Threads);
            var probeRounds = new List<double>();
            var names = engines.Select(e => e.Name).ToList();
            names.AddRange(runners.Select(r => $"llama.cpp {r.Type}"));
            var bytes = engines.Select(e => e.Bytes).ToList();
            bytes.AddRange(runners.Select(r => LlamaDecodeBytes(speech, r.Type)));
            var medians = names.Select(_ => new List<double>()).ToList();
            for (int round = 0; round < o.Rounds; round++)
            {
                for (int k = 0; k <= names.Count; k++)
                {
                    int system = (k + round) % (names.Count + 1);
                    if (system == names.Count)
                    {
                        double rate = memory.Measure(backend);
                        probeRounds.Add(rate);
                        Console.Error.WriteLine($"round {round + 1}: read bandwidth {rate / 1e9:F1} GB/s");
                        continue;
                    }
                    var times = system < engines.Count
                        ? TimeEngine(engines[system].State, prompt, o.WarmUp, o.Tokens)
                        : runners[system - engines.Count].Runner.Time(prompt, o.WarmUp, o.Tokens);
                    medians[system].Add(times[times.Length / 2]);
                    Console.Error.WriteLine($"round {round + 1}: {names[system]} median {times[times.Length / 2]:F2} ms/token");
                }
            }
            double bandwidth = memory.BestRate;
            Console.WriteLine($"read bandwidth (floor), best of the rounds' probes ({string.Join(", ", probeRounds.Select(r => (r / 1e9).ToString("F1")))} GB/s): {memory.BestLine}");

            Console.WriteLine();
            Console.WriteLine($"{o.Rounds} interleaved rounds, {o.WarmUp} warm-up then {o.Tokens} timed greedy steps each (step + argmax):");
            Console.WriteLine();
            Console.WriteLine("| system | weight bytes/token | floor ms | round medians ms | median ms/token | % of floor | engine / it |");
            Console.WriteLine("| --- | ---: | ---: | --- | ---: | ---: | ---: |");
            for (int s = 0; s < names.Count; s++)
            {
                double median = Timed.Median(medians[s]);
                double floor = bytes[s] / bandwidth * 1e3;
                // Each llama.cpp type beside the engines of its values: Q8_0 beside engine q8, BF16 and F16 beside engine bf16 and bf16-packed.
                var peers = s < engines.Count ? [] : Enumerable.Range(0, engines.Count)
                    .Where(e => runners[s - engines.Count].Type == GgmlType.Q8_0 ? engines[e].Name == "engine q8" : engines[e].Name != "engine q8").ToList();
                string ratio = peers.Count == 0 ? "–" : string.Join(", ", peers.Select(p => $"{Timed.Median(medians[p]) / median:F2} ({names[p]})"));
                Console.WriteLine($"| {names[s]} | {bytes[s] / 1e9:F3} GB | {floor:F1} | {string.Join(", ", medians[s].Select(m => m.ToString("F1")))} | {median:F1} | {100 * floor / median:F0} % | {ratio} |");
            }
            // The machine's read rate drifts between rounds; within a round the systems run one after
            // another, so the ratio of the two medians of one round compares them at nearly one rate.
            Console.WriteLine();
            for (int s = engines.Count; s < names.Count; s++)
            {
                var type = runners[s - engines.Count].Type;
                for (int e = 0; e < engines.Count; e++)
                {
                    if ((type == GgmlType.Q8_0) != (engines[e].Name == "engine q8"))
                        continue;
                    var perRound = medians[e].Zip(medians[s], (a, b) => a / b).ToList();
                    Console.WriteLine($"per-round ratios {names[e]} / {names[s]}: {string.Join(", ", perRound.Select(r => r.ToString("F2")))} (median {Timed.Median(perRound):F2})");
                }
            }
            return 0;
        }
        finally
        {
            foreach (var r in runners)
                r.Runner.Dispose();
        }
    }

    /// <summary>
    /// The prompt's last logits, then <see cref="SideBySideOptions.CheckSteps"/> steps fed the
    /// engine's greedy ids in both: relative L2 of every logit row, and greedy ids compared where
    /// the engine's top-2 margin is wide enough that rounding the activations cannot flip them.
    /// </summary>
    private static bool Check(SideBySideOptions o, SequenceState state, LlamaRunner llama, GgmlType type, int[] prompt)
    {
        int vocab = llama.VocabSize;
        var mine = new float[vocab];
        var theirs = new float[vocab];
        state.Truncate(0);
        state.Append(Batch(prompt));
        int token = state.ArgMax(Expert.Speech);
        state.LastLogits(Expert.Speech, mine);
        llama.Prefill(prompt, theirs);
        double worst = 0;
        int compared = 0, agreed = 0;
        for (int step = 0; ; step++)
        {
            double rel = RelativeL2(mine, theirs, out double scale);
            worst = Math.Max(worst, rel);
            if (Margin(mine) > 4 * rel * scale)
            {
                compared++;
                agreed += ArgMax(mine) == ArgMax(theirs) ? 1 : 0;
            }
            if (step == o.CheckSteps)
                break;
            state.Step(token, Expert.Speech);
            state.LastLogits(Expert.Speech, mine);
            llama.Step(token, theirs);
            token = ArgMax(mine);
        }
        // BF16 and F16 keep the engine's weights (llama.cpp rounds activations to bf16/f16 for the
        // dot products); Q8_0 adds its weight rounding.
        double bound = type == GgmlType.Q8_0 ? 0.08 : 0.03;
        bool ok = worst <= bound && agreed == compared;
        Console.WriteLine($"check {type}: logits relative L2 ≤ {worst:E2} over {o.CheckSteps + 1} rows (bound {bound}); greedy ids agree {agreed}/{compared} where the top-2 margin is clear{(ok ? "" : " — FAILED")}");
        return ok;
    }

    private static double[] TimeEngine(SequenceState state, int[] prompt, int warmUp, int steps)
    {
        state.Truncate(0);
        state.Append(Batch(prompt));
        int token = state.ArgMax(Expert.Speech);
        for (int i = 0; i < warmUp; i++)
        {
            state.Step(token, Expert.Speech);
            token = state.ArgMax(Expert.Speech);
        }
        var times = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            long start = Stopwatch.GetTimestamp();
            state.Step(token, Expert.Speech);
            token = state.ArgMax(Expert.Speech);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return times;
    }

    /// <summary>Bytes of the layer matrices and the output matrix in the GGUF (what llama.cpp streams per token).</summary>
    private static long LlamaDecodeBytes(ExpertConfig c, GgmlType type)
    {
        long perLayer = Bytes(c.QueryWidth + 2 * c.KvWidth, c.HiddenSize) + Bytes(c.HiddenSize, c.QueryWidth)
                        + Bytes(2 * c.IntermediateSize, c.HiddenSize) + Bytes(c.HiddenSize, c.IntermediateSize);
        return c.Layers * perLayer + Bytes(c.VocabSize, c.HiddenSize);

        long Bytes(int rows, int cols) => GgufWriter.TensorBytes([cols, rows], type);
    }

    private static TokenBatch Batch(int[] ids)
    {
        var batch = new TokenBatch();
        foreach (int id in ids)
            batch.AddId(id);
        return batch;
    }

    private static double RelativeL2(float[] a, float[] b, out double scale)
    {
        double diff = 0, norm = 0;
        for (int i = 0; i < a.Length; i++)
        {
            diff += (double)(a[i] - b[i]) * (a[i] - b[i]);
            norm += (double)b[i] * b[i];
        }
        scale = Math.Sqrt(norm / a.Length);
        return Math.Sqrt(diff / norm);
    }

    private static int ArgMax(float[] v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++)
        {
            if (v[i] > v[best])
                best = i;
        }
        return best;
    }

    private static double Margin(float[] v)
    {
        float first = float.NegativeInfinity, second = float.NegativeInfinity;
        foreach (float x in v)
        {
            if (x > first)
            {
                second = first;
                first = x;
            }
            else if (x > second)
            {
                second = x;
            }
        }
        return first - second;
    }
}
