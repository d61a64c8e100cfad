namespace Ellsa.Perf.LlamaCpp;

/// <summary>Command line of the side-by-side; errors are one line naming the flag.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Contains("-h") || args.Contains("--help"))
        {
            Console.WriteLine("""
                usage: ellsa-perf-llamacpp [--rounds N] [--tokens N] [--context N] [--warmup N] [--threads N]
                                           [--weights bf16,bf16-packed,q8] [--llama bf16,f16,q8_0] [--check-steps N]
                                           [--small] [--gguf-dir DIR]
                  the engine's bf16 decode beside llama.cpp (LLamaSharp 0.30.0) on GGUFs of the same random
                  weights (bench shape d 2048, 16 layers, 16/4 heads, ff 5632, vocabulary 32000; --small for a
                  tiny one), interleaved over the rounds on the same threads; prints medians, ratios and the
                  bandwidth floor. Defaults: 3 rounds, 32 tokens, 64-token context, 16 warm-up, 2 threads.
                  --gguf-dir keeps the GGUF files there (else a temporary folder, removed at the end).
                """);
            return 0;
        }
        try
        {
            var types = Text(args, "--llama", "bf16,f16,q8_0").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(t => t.ToLowerInvariant() switch
                {
                    "bf16" => GgmlType.BF16,
                    "f16" => GgmlType.F16,
                    "q8_0" or "q8" => GgmlType.Q8_0,
                    _ => throw new ArgumentException($"--llama: unknown type '{t}' (bf16, f16, q8_0)"),
                }).ToArray();
            var weights = Text(args, "--weights", "bf16").ToLowerInvariant().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToArray();
            if (weights.Length == 0 || weights.Any(w => w is not ("bf16" or "bf16-packed" or "q8")))
                throw new ArgumentException($"--weights: '{string.Join(",", weights)}' must list bf16, bf16-packed and/or q8");
            var options = new SideBySideOptions(
                Threads: Number(args, "--threads", 2, 1),
                Rounds: Number(args, "--rounds", 3, 1),
                Tokens: Number(args, "--tokens", 32, 1),
                Context: Number(args, "--context", 64, 1),
                WarmUp: Number(args, "--warmup", 16, 0),
                CheckSteps: Number(args, "--check-steps", 8, 0),
                Small: args.Contains("--small"),
                EngineWeights: weights,
                LlamaTypes: types,
                GgufDirectory: args.Contains("--gguf-dir") ? Text(args, "--gguf-dir", "") : null);
            return SideBySide.Run(options);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
    }

    private static string Text(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        if (i < 0)
            return fallback;
        if (i + 1 >= args.Length)
            throw new ArgumentException($"{name} needs a value");
        return args[i + 1];
    }

    private static int Number(string[] args, string name, int fallback, int min)
    {
        string text = Text(args, name, fallback.ToString());
        if (!int.TryParse(text, out int value) || value < min)
            throw new ArgumentException($"{name} needs an integer ≥ {min}, not '{text}'");
        return value;
    }
}
