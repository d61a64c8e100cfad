using System.Diagnostics;
using Ellsa.Kernels.Gpu;
using Ellsa.Runtime.Moe;

namespace Ellsa.Perf.Gpu;

/// <summary>
/// All benchmarks of one run: ceilings first (copy bandwidth here, bf16 rate from the PyTorch
/// script of the same run), then the model figures for exact and fast precision, each beside
/// its floor and PyTorch eager, then a per-operation breakdown.
/// </summary>
public static class BenchRun
{
    /// <param name="warmUpSeconds">Kernel compile and load time, measured by the caller before anything else ran.</param>
    public static string Run(PerfOptions options, Func<IlgpuOptions, IlgpuBackend> create, double warmUpSeconds, Action<string> log)
    {
        var shape = options.Size == "real" ? BenchShape.Real : BenchShape.Small;
        var torch = TorchBaseline.Read(options.Torch);
        using var exact = create(IlgpuOptions.Default);
        using var fast = create(IlgpuOptions.Default with { Precision = GemmPrecision.Fast });


        long copyBytes = options.Size == "real" ? 2L << 30 : 16L << 20;
        double copy = Timed.Median(exact.MeasureCopyBandwidth(copyBytes, options.Repeats));
        log($"device copy bandwidth (read + write): {copy:F0} GB/s");
        double bf16 = torch["bf16_tflops"] ?? 790;
        bool bf16Measured = torch["bf16_tflops"] is not null;

        var watch = Stopwatch.StartNew();
        var (speech, vision) = DeviceModel.Build(exact, shape, log, q8: options.Weights == "q8");
        double buildSeconds = watch.Elapsed.TotalSeconds;
        using var exactModel = new SaMoeModel(shape.Config, exact, speech, vision);
        var fastModel = new SaMoeModel(shape.Config, fast, speech, vision);
        var floors = new Floors(exactModel, copy, bf16, bf16Measured);
        var exactRun = new Scenarios(exactModel, shape, options.Repeats, log);
        var fastRun = new Scenarios(fastModel, shape, options.Repeats, log);
        var table = new ResultsTable();
        int context = options.Size == "real" ? options.Context : Math.Min(options.Context, 64);

        double decodeSpeech = exactRun.DecodeStep(Expert.Speech, context);
        double decodeVision = exactRun.DecodeStep(Expert.Vision, context);
        table.Add(new ResultRow($"decode step, speech expert + head (context {context})", decodeSpeech, null, torch["decode_speech_ms"],
            floors.DecodeMs(Expert.Speech, context), $"{Bytes(floors.DecodeBytes(Expert.Speech, context))} ÷ copy BW", "≤ 1.3× floor"));
        table.Add(new ResultRow($"decode step, vision expert + head (context {context})", decodeVision, null, torch["decode_vision_ms"],
            floors.DecodeMs(Expert.Vision, context), $"{Bytes(floors.DecodeBytes(Expert.Vision, context))} ÷ copy BW", "≤ 1.3× floor"));

        foreach (int tokens in new[] { shape.Prefill, shape.LongPrefill })
        {
            double e = exactRun.Prefill(tokens);
            double f = fastRun.Prefill(tokens);
            string goal = tokens == shape.LongPrefill ? "< 60 ms (2048)" : "";
            table.Add(new ResultRow($"prefill {tokens} tokens, to first token", e, f, torch[$"prefill_{tokens}_ms"], floors.PrefillMs(0, tokens, 0),
                $"{floors.PrefillFlops(0, tokens, 0) / 1e12:F3} TFLOP ÷ bf16 rate", goal));
        }

        var (speechBlockExact, speechOutput) = exactRun.SpeechBlock();
        var (speechBlockFast, _) = fastRun.SpeechBlock();
        var speechRouted = exactRun.Routed(exactRun.SpeechBlockBatch());
        table.Add(new ResultRow(
            $"speech-only block ({exactRun.SpeechBlockBatch().Count} new positions, {speechOutput.TextIds.Length} text, {speechOutput.ActionIds.Length - 1} action steps; {shape.History} cached)",
            speechBlockExact, speechBlockFast, torch["speech_block_ms"],
            BlockFloor(floors, shape.History, speechRouted, speechOutput), "prefill floor + steps × decode floor", "< 80 ms"));

        var (actingExact, actingOutput) = exactRun.ActingBlock();
        var (actingFast, _) = fastRun.ActingBlock();
        var actingRouted = exactRun.Routed(exactRun.ActingBlockBatch());
        table.Add(new ResultRow(
            $"acting block ({exactRun.ActingBlockBatch().Count} new positions: {actingRouted.Speech} S / {actingRouted.Vision} V, {actingOutput.TextIds.Length} text, {actingOutput.ActionIds.Length - 1} action steps; {shape.History} cached)",
            actingExact, actingFast, torch["acting_block_ms"],
            BlockFloor(floors, shape.History, actingRouted, actingOutput), "prefill floor + steps × decode floor", "< 250 ms"));

        table.Note($"Floors: bytes ÷ {copy:F0} GB/s (device copy, this run) and FLOPs ÷ {bf16:F0} TFLOP/s bf16 " +
                   (bf16Measured ? $"(PyTorch matmul, this run, {torch.Source})" : "(NOT measured in this run: KINDS.md's 790 TFLOP/s)") + "; the larger of the two.");
        table.Note("Exact: activations enter the tensor cores as bf16 hi + lo (two MMAs, ≈fp32 products; the default, parity 1e-3). " +
                   "Fast: activations rounded to bf16 once (the authors' bf16 stack). Decode steps take the matrix-vector path, the same in both.");
        table.Note("Decode floor = layer weights + head + fp32 K/V of the context, read once. PyTorch eager runs the same shapes in bf16 (weights, activations, KV).");
        table.Note($"Kernels compiled and loaded (ILGPU codegen + driver JIT) in {warmUpSeconds:F1} s; weights generated on the device in {buildSeconds:F1} s.");

        var header = new List<string>
        {
            $"- device: {exact.Description}",
            $"- model: two experts, d {shape.Config.Speech.HiddenSize}, {shape.Config.Speech.Layers} layers, {shape.Config.Speech.Heads}/{shape.Config.Speech.KvHeads} heads of {shape.Config.Speech.HeadDim}, ff {shape.Config.Speech.IntermediateSize}, " +
            $"head vocabularies {shape.SpeechVocab} / {shape.VisionVocab}, {(options.Weights == "q8" ? "random q8 projections and heads (made on the host; bf16 embeddings)" : "random bf16 weights generated on the device")}",
            $"- medians of {options.Repeats} (decode ≥ 10, prefill and blocks ≥ 3) after warm-up; PyTorch eager from {torch.Source} {torch.Device}",
            $"- command: ellsa-perf-gpu {options.Command} --size {options.Size} --context {options.Context} --repeats {options.Repeats} --weights {options.Weights}",
        };
        string markdown = table.ToMarkdown($"ELLSA CUDA backend (ILGPU) — {shape.Name} size", header);

        var breakdown = KernelBreakdown.Run(exact, fast, exactModel, shape, context, copy, bf16);
        markdown += Environment.NewLine + "## Single operations" + Environment.NewLine + Environment.NewLine + string.Join(Environment.NewLine, breakdown) + Environment.NewLine;

        return ResultFiles.Write(options.Output, "results", markdown, new
        {
            device = exact.Description, copy_gbps = copy, bf16_tflops = bf16, bf16_measured = bf16Measured, context,
            decode_speech_ms = decodeSpeech, decode_vision_ms = decodeVision,
            speech_block_ms = speechBlockExact, speech_block_fast_ms = speechBlockFast,
            acting_block_ms = actingExact, acting_block_fast_ms = actingFast,
            warm_up_s = warmUpSeconds, build_s = buildSeconds,
        });
    }

    private static string Bytes(double bytes) => bytes >= 1e9 ? $"{bytes / 1e9:F2} GB" : $"{bytes / 1e6:F2} MB";

    private static double BlockFloor(Floors floors, int history, (int Speech, int Vision) routed, Ellsa.Runtime.Decoding.BlockOutput output)
    {
        int position = history + routed.Speech + routed.Vision;
        double ms = floors.PrefillMs(history, routed.Speech, routed.Vision);
        int textSteps = output.TextIds.Length - 1;
        for (int i = 0; i < textSteps; i++)
            ms += floors.DecodeMs(Expert.Speech, position++);
        ms += floors.DecodeMs(Expert.Speech, position++, withHead: false);
        for (int i = 0; i < output.ActionIds.Length - 1; i++)
            ms += floors.DecodeMs(Expert.Vision, position++);
        return ms;
    }
}
