using BenchmarkDotNet.Running;

namespace Ellsa.Perf;

/// <summary>
/// Performance harness. `decode-cpu` measures decode against its bandwidth floor;
/// `kernels` runs the BenchmarkDotNet kernel benchmarks (with the memory diagnoser).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.WriteLine("""
                usage:
                  ellsa-perf decode-cpu [--threads N] [--tokens N] [--context N] [--small] [--weights bf16|bf16-packed|q8] [--profile N]
                      decode ms/token on the bench model (d 2048, 16 layers, 16/4 heads, ff 5632,
                      vocabularies 32000/40000, random bf16; q8: projections and heads quantised; bf16-packed: packed losslessly)
                      against weight bytes ÷ measured bandwidth;
                      --profile N then times N more steps per expert kernel by kernel (off: no cost)
                  ellsa-perf bandwidth [--threads N] [--passes N]
                      the read-bandwidth probe alone (each thread streams its own 256 MiB buffer)
                  ellsa-perf gemv-cpu [--cols N] [--rounds N] [--threads N]
                      the decode's row kernels (bf16 one row or eight rows per pass, Q8 one row) over
                      256 MiB of weights each, every thread its own contiguous part, beside the
                      bandwidth probe at the same thread count (cols default 2048, threads 2)
                  ellsa-perf pages-cpu [--threads N] [--rounds N] [--steps N] [--weights bf16|bf16-packed|q8]
                      the bench model on huge pages beside the same on 4 KiB pages, in one process,
                      alternating rounds of N speech steps (default 30 rounds of 16 steps, 2 threads):
                      per-round ratios of the median steps
                  ellsa-perf vision-cpu --tokenizer DIR [--frames N] [--threads N]
                      one 200×200 frame through the vision tokenizer's encoder (median of N frames)
                      and its 2-D encoder's GFLOP/s; perf/vision/side_by_side.py runs it beside PyTorch
                  ellsa-perf speech-cpu --model DIR [--seconds N] [--warmup N] [--threads N]
                      a model directory's speech input streaming N seconds (default 20) of audio in
                      1-second pushes after a warm-up stream: s per audio second, stages, layer parts;
                      perf/speech/side_by_side.py runs it beside the authors' encoder in PyTorch
                  ellsa-perf speech-out-cpu --model DIR [--seconds N] [--step N] [--threads N] [--no-reuse]
                      a model directory's speech decoder for N seconds (default 10) of speech: the LM
                      (8 random hidden rows a second), the flow over the evaluation's windows (step 50;
                      0 = one offline call) and HiFT: CPU s per audio second each; --no-reuse recomputes
                      the prompt's rows in every estimator pass; perf/speech_out/side_by_side.py runs it
                      beside the authors' modules in PyTorch
                  ellsa-perf gemm-cpu [--threads N] [--rounds N]
                      the weight GEMM on the speech encoder's release shapes at the rows a 1-s push
                      brings each stack: GFLOP/s and the weights' read rate
                  ellsa-perf conv-cpu [--threads N] [--rounds N]
                      the release vision encoder's convolution shapes: the composed path (im2col,
                      GEMM, layout copy) beside the backend's own (the implicit GEMM on AVX-512)
                  ellsa-perf kernels [BenchmarkDotNet arguments, e.g. --filter *MatMul*]
                      CPU kernel microbenchmarks with allocation counts
                  any command --small-pages: buffers stay on 4 KiB pages (the engine otherwise asks
                      Linux for huge pages under buffers of 2 MiB and more), to measure what they give
                """);
            return args.Length == 0 ? 2 : 0;
        }
        if (args.Contains("--small-pages"))
            Ellsa.Kernels.Cpu.HugePages.Enabled = false;
        switch (args[0])
        {
            case "decode-cpu":
                return DecodeBenchmark.Run(
                    threads: Option(args, "--threads", 0),
                    tokens: Option(args, "--tokens", 32),
                    context: Option(args, "--context", 64),
                    small: args.Contains("--small"),
                    profileSteps: Option(args, "--profile", 0), format: Weights(args));
            case "bandwidth":
                using (var backend = new Ellsa.Kernels.Cpu.CpuBackend(Option(args, "--threads", 0)))
                using (var memory = new MemoryBandwidth(backend.Threads))
                    Console.WriteLine($"read bandwidth: {memory.Describe(memory.Measure(backend, Math.Max(1, Option(args, "--passes", 7))))}");
                return 0;
            case "gemv-cpu":
                return GemvBenchmark.Run(Math.Max(64, Option(args, "--cols", 2048)), Math.Max(1, Option(args, "--rounds", 10)), Math.Max(1, Option(args, "--threads", 2)));
            case "pages-cpu":
                return PagesBenchmark.Run(Math.Max(1, Option(args, "--threads", 2)), Math.Max(1, Option(args, "--rounds", 30)), Math.Max(1, Option(args, "--steps", 16)), Weights(args));
            case "vision-cpu":
                int at = Array.IndexOf(args, "--tokenizer");
                if (at < 0 || at + 1 >= args.Length)
                    throw new ArgumentException("vision-cpu needs --tokenizer DIR (a vision_tokenizer folder)");
                return VisionBenchmark.Run(args[at + 1], Option(args, "--frames", 3), Option(args, "--threads", 0));
            case "speech-cpu":
                int model = Array.IndexOf(args, "--model");
                if (model < 0 || model + 1 >= args.Length)
                    throw new ArgumentException("speech-cpu needs --model DIR (ellsa.json and speech_encoder.safetensors, or a checkpoint with the encoder)");
                return SpeechBenchmark.Run(args[model + 1], Option(args, "--seconds", 20), Option(args, "--warmup", 4), Option(args, "--threads", 0));
            case "speech-out-cpu":
                int decoder = Array.IndexOf(args, "--model");
                if (decoder < 0 || decoder + 1 >= args.Length)
                    throw new ArgumentException("speech-out-cpu needs --model DIR (ellsa.json with a speech_decoder section, its weights and prompt files)");
                return SpeechOutBenchmark.Run(args[decoder + 1], Option(args, "--seconds", 10), Option(args, "--step", 50), Option(args, "--threads", 0),
                    reuse: !args.Contains("--no-reuse"));
            case "gemm-cpu":
                return GemmBenchmark.Run(Option(args, "--threads", 0), Option(args, "--rounds", 5));
            case "conv-cpu":
                return ConvBenchmark.Run(Option(args, "--threads", 0), Option(args, "--rounds", 3));
            case "kernels":
                BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args[1..]);
                return 0;
            default:
                Console.Error.WriteLine($"error: unknown command '{args[0]}' (decode-cpu, bandwidth, gemv-cpu, pages-cpu, vision-cpu, speech-cpu, speech-out-cpu, gemm-cpu, conv-cpu, kernels)");
                return 2;
        }
    }

    /// <summary>--weights bf16 (default), bf16-packed or q8.</summary>
    private static Ellsa.Runtime.Configuration.WeightFormat Weights(string[] args)
    {
        int i = Array.IndexOf(args, "--weights");
        if (i < 0)
            return Ellsa.Runtime.Configuration.WeightFormat.Bf16;
        return i + 1 < args.Length && Ellsa.Runtime.Configuration.WeightSettings.TryParse(args[i + 1], out var format)
            ? format
            : throw new ArgumentException("--weights needs bf16, bf16-packed or q8");
    }

    private static int Option(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        if (i < 0)
            return fallback;
        if (i + 1 >= args.Length || !int.TryParse(args[i + 1], out int value) || value < 0)
            throw new ArgumentException($"{name} needs a non-negative integer");
        return value;
    }
}
