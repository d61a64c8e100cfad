using System.Diagnostics;
using System.Globalization;
using System.Text;
using Ellsa.Kernels.Cpu;
using Ellsa.Kernels.Gpu;
using Ellsa.Runtime.Codecs.Speech;
using Ellsa.Runtime.Networks;
using Ellsa.Tests.Gpu.Checks;
using Ellsa.Tests.Speech;

namespace Ellsa.Perf.Gpu;

/// <summary>
/// The speech encoder streaming on the device: random weights at the release size (every matrix
/// bf16, as the released checkpoint; --size small: the release's structure at width 32) written to a
/// temporary component file, checked first (the device's streamed rows against the CPU backend's
/// and against its own whole-utterance encoding: <see cref="SpeechEncoderChecks"/>), then timed: a
/// warm-up stream, then --repeats streams of --seconds of fbank in 1-second pushes (100 frames),
/// each push ending with the rows on the host. The floor is the weights one push reads ÷ the copy
/// bandwidth, or the Linear FLOPs ÷ the bf16 rate, whichever is larger. Writes speech.md and speech.json.
/// </summary>
public static class SpeechBench
{
    public static string Run(PerfOptions options, Func<IlgpuOptions, IlgpuBackend> create, Action<string> log)
    {
        var config = options.Size == "real"
            ? new SpeechEncoderConfig()
            : SpeechEncoderChecks.ReleaseStructure(width: 32, heads: 4, layer3Channels: 8);
        var random = new Random(20251202);
        var directory = Directory.CreateTempSubdirectory("ellsa-speech-bench-");
        try
        {
            var watch = Stopwatch.StartNew();
            string path = RandomSpeechCheckpoint.Write(directory.FullName, RandomSpeechCheckpoint.Tensors(config, random, allBf16: true));
            log($"speech encoder: random weights ({new FileInfo(path).Length / 1e9:F2} GB) written in {watch.Elapsed.TotalSeconds:F1} s");
            using var tensors = TensorSet.OpenFile(path, SpeechEncoder.ComponentFileName);
            using var backend = create(IlgpuOptions.Default);
            using var cpu = new CpuBackend(threads: 0);
            using var device = SpeechEncoder.Load(tensors, config, backend, new WeightBindings());
            using var reference = SpeechEncoder.Load(tensors, config, cpu, new WeightBindings());

            int checkFrames = (options.Size == "real" ? 3 : 1) * SpeechEncoderChecks.FramesPerSecond + 37;
            var check = SpeechEncoderChecks.Compare(device, reference, RandomSpeechCheckpoint.Fbank(random, checkFrames, config.NumMelBins), checkFrames);
            log($"speech encoder check ({checkFrames} fbank frames, {check.Rows} rows): device vs CPU {check.VersusCpu:E2} (limit {SpeechEncoderChecks.CpuTolerance:E0}), " +
                $"streamed vs whole utterance {check.VersusOffline:E2} (limit {SpeechEncoderChecks.StreamingTolerance:E0})");
            check.Require("benchmark weights");

            int seconds = options.Size == "real" ? options.Seconds : Math.Min(options.Seconds, 2);
            int frames = seconds * SpeechEncoderChecks.FramesPerSecond;
            var fbank = RandomSpeechCheckpoint.Fbank(random, frames, config.NumMelBins);
            Stream(device, fbank, Math.Min(frames, 4 * SpeechEncoderChecks.FramesPerSecond), null, null);
            var pushes = new List<double>();
            var perSecond = Timed.RunsMs(options.Repeats / 3, () => Stream(device, fbank, frames, null, pushes)).Select(ms => ms / seconds).ToList();
            var timings = new SpeechTimings(backend, config.Stacks);
            Stream(device, fbank, frames, timings, null);

            double ms = Timed.Median(perSecond);
            double push = Timed.Median(pushes);
            double copy = Timed.Median(backend.MeasureCopyBandwidth(options.Size == "real" ? 2L << 30 : 16L << 20, 5));
            double weightBytes = 2 * SpeechEncoderCost.LinearWeights(config);
            double flops = SpeechEncoderCost.LinearFlopsPerSecond(config);
            double bf16 = TorchBaseline.Read(options.Torch)["bf16_tflops"] ?? 790;
            double floor = Math.Max(weightBytes / (copy * 1e9), flops / (bf16 * 1e12)) * 1e3;
            log($"speech encoder streaming: {ms:F2} ms per audio second (median push {push:F2} ms), floor {floor:F3} ms");

            string markdown = Markdown(options, backend.Description, config, seconds, ms, push, floor, weightBytes, flops, copy, bf16, timings, check);
            return ResultFiles.Write(options.Output, "speech", markdown, new
            {
                device = backend.Description, size = options.Size, seconds, ms_per_audio_second = ms, median_push_ms = push, floor_ms = floor,
                copy_gbps = copy, versus_cpu = check.VersusCpu, versus_offline = check.VersusOffline,
                stages_ms_per_audio_second = new { subsampling = timings.SubsamplingMs / seconds, stacks = timings.StackMs.Select(t => t / seconds), projector = timings.ProjectorMs / seconds },
            });
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>Pushes the fbank 100 frames at a time and finishes; each push's wall time (rows on the host) goes to <paramref name="pushMs"/>.</summary>
    private static void Stream(SpeechEncoder encoder, float[] fbank, int frames, SpeechTimings? timings, List<double>? pushMs)
    {
        int mel = encoder.Config.NumMelBins, piece = SpeechEncoderChecks.FramesPerSecond;
        using var stream = encoder.CreateStream();
        stream.Timings = timings;
        var rows = new List<float[]>();
        for (int first = 0; first < frames; first += piece)
        {
            var clock = Stopwatch.StartNew();
            stream.Push(fbank.AsSpan(first * mel, Math.Min(piece, frames - first) * mel), Math.Min(piece, frames - first), rows);
            pushMs?.Add(clock.Elapsed.TotalMilliseconds);
        }
        stream.Finish(rows);
    }

    private static string Markdown(PerfOptions options, string device, SpeechEncoderConfig config, int seconds, double ms, double push, double floor,
        double weightBytes, double flops, double copy, double bf16, SpeechTimings timings, SpeechEncoderChecks.Comparison check)
    {
        var s = new StringBuilder();
        string F(double v) => v.ToString(v < 10 ? "F3" : "F1", CultureInfo.InvariantCulture);
        s.AppendLine($"# Speech encoder streaming — {(options.Size == "real" ? "release" : "small")} size").AppendLine();
        s.AppendLine($"- device: {device}");
        s.AppendLine($"- encoder: {config.EncoderDim.Max()}-d, {config.NumEncoderLayers.Sum()} layers over {config.Stacks} stacks (÷{string.Join(",", config.DownsamplingFactor)}), " +
                     $"ff {config.FeedforwardDim.Max()}, projector {config.ProjectorInput}→{config.Hidden}→{config.OutputDim}; random bf16 matrices, fp32 activations");
        s.AppendLine($"- {seconds} s of fbank in 1-second pushes (100 frames), rows on the host after each push; median of {Math.Max(1, options.Repeats / 3)} streams after a warm-up stream");
        s.AppendLine($"- checks: device vs CPU backend {check.VersusCpu:E2} (limit {SpeechEncoderChecks.CpuTolerance:E0}), streamed vs whole utterance {check.VersusOffline:E2} (limit {SpeechEncoderChecks.StreamingTolerance:E0}), {check.Rows} rows");
        s.AppendLine($"- command: ellsa-perf-gpu speech --size {options.Size} --seconds {options.Seconds} --repeats {options.Repeats}").AppendLine();
        s.AppendLine("| figure | ILGPU (ms) | floor (ms) | floor basis | ÷ floor | goal |");
        s.AppendLine("| --- | ---: | ---: | --- | ---: | --- |");
        s.AppendLine($"| streaming encode, per second of audio | {F(ms)} | {F(floor)} | max({weightBytes / 1e9:F2} GB of weights ÷ {copy:F0} GB/s, {flops / 1e9:F1} GFLOP ÷ {bf16:F0} TFLOP/s) | " +
                     $"{ms / floor:F1}× | ≤ 10 ms |");
        s.AppendLine($"| one 1-second push (median) | {F(push)} | | | | |").AppendLine();
        s.AppendLine("Stages (a separate stream that synchronises at each stage), ms per audio second: " +
                     $"subsampling {F(timings.SubsamplingMs / seconds)}, " +
                     string.Join(", ", timings.StackMs.Select((t, i) => $"stack {i} {F(t / seconds)}")) + $", projector {F(timings.ProjectorMs / seconds)}; layer parts: " +
                     string.Join(", ", Enum.GetValues<LayerPart>().Select(p => $"{p} {F(timings.LayerPartMs[(int)p] / seconds)}")) + ".");
        return s.ToString();
    }
}
