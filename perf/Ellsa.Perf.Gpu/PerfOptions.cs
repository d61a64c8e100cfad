namespace Ellsa.Perf.Gpu;

/// <summary>Command-line options of ellsa-perf-gpu (parsed by hand: a handful of flags).</summary>
public sealed record PerfOptions
{
    public string Command { get; init; } = "all";
    /// <summary>cuda or ilgpu-cpu.</summary>
    public string Device { get; init; } = "cuda";
    /// <summary>real (two Llama-3-8B-shaped experts) or small (a few MB, to exercise the program on the simulator).</summary>
    public string Size { get; init; } = "real";
    public string Output { get; init; } = "perf-gpu-out";
    /// <summary>JSON written by perf/gpu/torch_baseline.py in the same run (optional).</summary>
    public string? Torch { get; init; }
    /// <summary>Context length of the decode-step figures.</summary>
    public int Context { get; init; } = 1024;
    public int Repeats { get; init; } = 10;
    /// <summary>Seconds of audio per timed stream of the speech benchmark.</summary>
    public int Seconds { get; init; } = 20;
    /// <summary>speech-out: a model directory with a speech_decoder section to run instead of the size's.</summary>
    public string? Model { get; init; }
    /// <summary>bf16 (random bf16 weights) or q8 (projections and heads quantised).</summary>
    public string Weights { get; init; } = "bf16";

    public const string Usage =
        "ellsa-perf-gpu [all|selftest|bench|speech|speech-out|vision|ptx] [--device cuda|ilgpu-cpu] [--size real|small] [--out DIR] [--torch torch.json] [--context N] [--repeats N] [--seconds N] [--model DIR] [--weights bf16|q8]\n" +
        "  selftest  the kernel checks and golden checks the xunit CUDA tests run, on this device\n" +
        "  bench     decode, prefill and block timings at the real size beside their floors and PyTorch eager\n" +
        "  speech    the speech encoder streaming N seconds (default 20) of audio in 1-second pushes, checked against the CPU backend first\n" +
        "  speech-out  the speech decoder (LM, flow, HiFT): first packet after the block's text and compute per second of audio (--seconds, default 20), checked against the CPU backend first\n" +
        "  vision    one 200x200 frame through the vision tokenizer's encoder (median of --repeats), checked against the CPU backend first\n" +
        "  ptx       every kernel's PTX (for ptxas -v on the device machine)\n" +
        "  all       selftest, ptx, bench, speech, speech-out, vision; writes results.md, speech.md, speech_out.md and vision.md to --out";

    public static PerfOptions Parse(string[] args)
    {
        var options = new PerfOptions();
        int i = 0;
        if (args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal))
            options = options with { Command = args[i++] };
        for (; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value\n{Usage}");
            options = args[i] switch
            {
                "--device" => options with { Device = Value() },
                "--size" => options with { Size = Value() },
                "--out" => options with { Output = Value() },
                "--torch" => options with { Torch = Value() },
                "--context" => options with { Context = int.Parse(Value()) },
                "--repeats" => options with { Repeats = int.Parse(Value()) },
                "--weights" => options with { Weights = Value() },
                "--seconds" => options with { Seconds = Math.Max(1, int.Parse(Value())) },
                "--model" => options with { Model = Value() },
                "--help" or "-h" => throw new ArgumentException(Usage),
                _ => throw new ArgumentException($"unknown option {args[i]}\n{Usage}"),
            };
        }
        if (options.Command is not ("all" or "selftest" or "bench" or "speech" or "speech-out" or "vision" or "ptx"))
            throw new ArgumentException($"unknown command {options.Command}\n{Usage}");
        if (options.Device is not ("cuda" or "ilgpu-cpu"))
            throw new ArgumentException($"--device {options.Device}: cuda or ilgpu-cpu\n{Usage}");
        if (options.Weights is not ("bf16" or "q8"))
            throw new ArgumentException($"--weights {options.Weights}: bf16 or q8\n{Usage}");
        if (options.Size is not ("real" or "small"))
            throw new ArgumentException($"--size {options.Size}: real or small\n{Usage}");
        return options;
    }
}
