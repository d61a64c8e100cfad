using System.Diagnostics;
using System.Globalization;
using System.Text;
using Ellsa.Kernels.Cpu;
using Ellsa.Kernels.Gpu;
using Ellsa.Runtime.Codecs.SpeechOut;
using Ellsa.Tests.Gpu.Checks;
using Ellsa.Tests.Support;

namespace Ellsa.Perf.Gpu;

/// <summary>
/// The speech decoder on the device (ellsa-perf-gpu speech-out): the release size redrawn from
/// perf/gpu/manifests/speech_decoder_release.json (--size real; BF16 matrices, the release prompt
/// shapes), the goldens' small decoder (--size small) or --model DIR. Checked against the CPU backend first:
/// the LM's first logits for 16 hidden rows, the flow's mel of the first window of the CPU's tokens
/// and HiFT's samples of that mel (relative L2 ≤ 1e-3 each). Then timed:
/// <list type="bullet">
/// <item>first packet after the block's text: with the first LM call's 8 rows already decoded, the
/// second call's 8 rows → its 25 tokens → the flow's first window [0, 50) (not the last) → HiFT →
/// the first samples on the host (median of --repeats);</item>
/// <item>compute per second of audio: --seconds of speech as ellsa-perf speech-out-cpu runs it (the LM
/// on 8 rows a second, the flow over the evaluation's step-50 windows, HiFT with the window caches),
/// total and per component.</item>
/// </list>
/// Goals (issue 11): first packet within 150 ms of the block's text, ≤ 50 ms of compute per second of audio.
/// Writes speech_out.md and speech_out.json.
/// </summary>
public static class SpeechOutBench
{
    private const double Tolerance = 1e-3;
    private const int Step = 50;

    public static string Run(PerfOptions options, Func<IlgpuOptions, IlgpuBackend> create, Action<string> log)
    {
        var random = new Random(20251203);
        DirectoryInfo? temporary = null;
        string directory;
        if (options.Model is { } model)
        {
            directory = model;
        }
        else if (options.Size == "real")
        {
            temporary = Directory.CreateTempSubdirectory("ellsa-speech-out-bench-");
            directory = temporary.FullName;
            var watch = Stopwatch.StartNew();
            long bytes = Manifests.Write(Manifests.Path("speech_decoder_release.json"), directory, random);
            log($"speech decoder: random weights ({bytes / 1e9:F2} GB) written in {watch.Elapsed.TotalSeconds:F1} s");
        }
        else
        {
            directory = Path.Combine(GoldenFiles.Root, "tests", "goldens", "speech_out", "small");
        }
        try
        {
            using var backend = create(IlgpuOptions.Default);
            using var cpu = new CpuBackend(threads: 0);
            using var device = SpeechSpeaker.Load(directory, backend);
            using var reference = SpeechSpeaker.Load(directory, cpu);
            int rows = device.Lm.Config.TextChunk, width = device.Projection.Config.InputSize;
            var hidden = new float[Math.Max(options.Seconds, 2) * rows * width];
            for (int i = 0; i < hidden.Length; i++)
                hidden[i] = (float)(random.NextDouble() * 2 - 1);

            var check = Check(device, reference, hidden.AsSpan(0, 2 * rows * width), rows);
            log($"speech decoder check: LM first logits {check.Logits:E2}, {check.SameTokens}/{check.Tokens} greedy tokens the same; flow mel {check.Mel:E2}; HiFT samples {check.Samples:E2} (limit {Tolerance:E0})");
            if (!(check.Logits <= Tolerance && check.Mel <= Tolerance && check.Samples <= Tolerance))
                throw new CheckFailedException($"speech-out: the device disagrees with the CPU backend (logits {check.Logits:E2}, mel {check.Mel:E2}, samples {check.Samples:E2})");

            var firstPacket = new List<double>();
            for (int r = 0; r < Math.Max(1, options.Repeats); r++)
                firstPacket.Add(FirstPacketMs(device, hidden, rows, width));
            double first = Timed.Median(firstPacket);
            log($"speech decoder first packet after the block's text: {first:F2} ms (median of {firstPacket.Count})");

            int seconds = options.Size == "real" ? options.Seconds : Math.Min(options.Seconds, 2);
            var timings = new SpeechOutTimings(backend);
            var (lmMs, flowMs, hiftMs, audio, lmAudio) = Compute(device, hidden, seconds, random, timings);
            double total = lmMs / lmAudio + (flowMs + hiftMs) / audio;
            log($"speech decoder compute: {total:F2} ms per audio second (LM {lmMs / lmAudio:F2}, flow {flowMs / audio:F2}, HiFT {hiftMs / audio:F2})");

            string markdown = Markdown(options, backend.Description, device, seconds, first, firstPacket.Count, lmMs / lmAudio, flowMs / audio, hiftMs / audio, timings, audio, check);
            return ResultFiles.Write(options.Output, "speech_out", markdown, new
            {
                device = backend.Description, size = options.Size, seconds, first_packet_ms = first, ms_per_audio_second = total,
                lm_ms_per_audio_second = lmMs / lmAudio, flow_ms_per_audio_second = flowMs / audio, hift_ms_per_audio_second = hiftMs / audio,
                flow_encoder_ms_per_audio_second = timings.FlowEncoderMs / audio, flow_estimator_ms_per_audio_second = timings.EstimatorMs / audio,
                versus_cpu = new { check.Logits, check.Mel, check.Samples, check.SameTokens, check.Tokens },
            });
        }
        finally
        {
            temporary?.Delete(recursive: true);
        }
    }

    public readonly record struct Comparison(double Logits, int SameTokens, int Tokens, double Mel, double Samples);

    /// <summary>The device against the CPU backend on two LM calls, the flow's first window of the CPU's tokens and HiFT of that mel.</summary>
    private static Comparison Check(SpeechSpeaker device, SpeechSpeaker reference, ReadOnlySpan<float> hidden, int rows)
    {
        var greedy = new SpeechLmOptions { Greedy = true };
        using var deviceStream = device.Lm.CreateStream(device.Projection, greedy);
        using var cpuStream = reference.Lm.CreateStream(reference.Projection, greedy);
        var deviceTokens = deviceStream.Feed(hidden, 2 * rows);
        var cpuTokens = cpuStream.Feed(hidden, 2 * rows);
        double logits = Numeric.RelativeL2<float>(deviceStream.FirstLogits.ToArray(), cpuStream.FirstLogits.ToArray());
        int same = deviceTokens.Zip(cpuTokens).TakeWhile(p => p.First == p.Second).Count();

        var window = SpeechOutBenchmark.Windows(cpuTokens.Length, Step)[0];
        var tokens = cpuTokens.AsSpan(window.First, window.Count);
        var deviceMel = device.Flow.Infer(tokens, device.Prompt, window.Final);
        var cpuMel = reference.Flow.Infer(tokens, reference.Prompt, window.Final);
        double mel = Numeric.RelativeL2<float>(deviceMel.Mel, cpuMel.Mel);
        var deviceWave = device.Hift.Synthesize(cpuMel.Mel, cpuMel.Frames, HiftOptions.Deterministic);
        var cpuWave = reference.Hift.Synthesize(cpuMel.Mel, cpuMel.Frames, HiftOptions.Deterministic);
        return new Comparison(logits, same, cpuTokens.Length, mel, Numeric.RelativeL2<float>(deviceWave, cpuWave));
    }

    /// <summary>The first call decoded beforehand; timed: the second call, the first window's flow and HiFT, samples on the host.</summary>
    private static double FirstPacketMs(SpeechSpeaker model, float[] hidden, int rows, int width)
    {
        using var stream = model.Lm.CreateStream(model.Projection, new SpeechLmOptions { Greedy = true });
        var tokens = new List<int>(stream.Feed(hidden.AsSpan(0, rows * width), rows));
        model.Lm.Backend.Synchronize();
        var clock = Stopwatch.StartNew();
        tokens.AddRange(stream.Feed(hidden.AsSpan(rows * width, rows * width), rows));
        var window = SpeechOutBenchmark.Windows(tokens.Count, Step)[0];
        var mel = model.Flow.Infer(tokens.ToArray().AsSpan(window.First, window.Count), model.Prompt, window.Final);
        model.Hift.Run(mel.Mel, mel.Frames, HiftOptions.Deterministic);
        return clock.Elapsed.TotalMilliseconds;
    }

    /// <summary>ms of the LM, the flow and HiFT over <paramref name="seconds"/> of speech, and the audio seconds each stands for.</summary>
    private static (double Lm, double Flow, double Hift, double Audio, double LmAudio) Compute(SpeechSpeaker model, float[] hidden, int seconds, Random random,
        SpeechOutTimings timings)
    {
        var clock = Stopwatch.StartNew();
        int lmTokens = SpeechOutBenchmark.Lm(model, hidden.AsSpan(0, seconds * model.Lm.Config.TextChunk * model.Projection.Config.InputSize), seconds, timings);
        double lm = clock.Elapsed.TotalMilliseconds;
        var tokens = Enumerable.Range(0, seconds * 25).Select(_ => random.Next(model.Flow.Config.VocabSize)).ToArray();
        var windows = SpeechOutBenchmark.Windows(tokens.Length, Step);
        model.Flow.Timings = timings;
        clock.Restart();
        var mels = windows.Select(w => model.Flow.Infer(tokens.AsSpan(w.First, w.Count), model.Prompt, w.Final)).ToList();
        double flow = clock.Elapsed.TotalMilliseconds;
        model.Flow.Timings = null;
        clock.Restart();
        long samples = SpeechOutBenchmark.Hift(model, mels, windows);
        double hift = clock.Elapsed.TotalMilliseconds;
        return (lm, flow, hift, (double)samples / model.Hift.Config.SamplingRate, lmTokens / 25.0);
    }

    private static string Markdown(PerfOptions options, string device, SpeechSpeaker model, int seconds, double first, int repeats,
        double lm, double flow, double hift, SpeechOutTimings timings, double audio, Comparison check)
    {
        var s = new StringBuilder();
        string F(double v) => v.ToString(v < 10 ? "F3" : "F1", CultureInfo.InvariantCulture);
        var q = model.Lm.Config.Qwen2;
        s.AppendLine($"# Speech decoder — {(options.Model is { } dir ? dir : options.Size == "real" ? "release size" : "small size")}").AppendLine();
        s.AppendLine($"- device: {device}");
        s.AppendLine($"- LM {q.Layers} layers d {q.HiddenSize} ({q.Heads}/{q.KvHeads} heads, ff {q.IntermediateSize}), flow encoder {model.Flow.Config.Encoder.OutputSize}-d, " +
                     $"estimator {model.Flow.Config.Estimator.Channels} channels, HiFT {model.Hift.Config.BaseChannels} channels; prompt {model.Prompt.Tokens.Length} tokens / {model.Prompt.FeatFrames} frames; " +
                     $"the prompt's stored estimator rows reused; fp32 activations");
        s.AppendLine($"- checks against the CPU backend: LM first logits {check.Logits:E2}, {check.SameTokens}/{check.Tokens} greedy tokens the same, flow mel {check.Mel:E2}, HiFT samples {check.Samples:E2} (limit {Tolerance:E0})");
        s.AppendLine($"- command: ellsa-perf-gpu speech-out {(options.Model is null ? $"--size {options.Size}" : $"--model {options.Model}")} --seconds {options.Seconds} --repeats {options.Repeats}").AppendLine();
        s.AppendLine("| figure | ILGPU (ms) | goal |");
        s.AppendLine("| --- | ---: | --- |");
        s.AppendLine($"| first packet after the block's text (2nd LM call, flow window [0, 50), HiFT; median of {repeats}) | {F(first)} | ≤ 150 ms |");
        s.AppendLine($"| compute per second of audio ({seconds} s of speech, step-50 windows) | {F(lm + flow + hift)} | ≤ 50 ms |");
        s.AppendLine($"| — LM (8 rows a second, greedy, segments to EOS) | {F(lm)} | |");
        s.AppendLine($"| — flow (encoder {F(timings.FlowEncoderMs / audio)}, estimator {F(timings.EstimatorMs / audio)}) | {F(flow)} | |");
        s.AppendLine($"| — HiFT | {F(hift)} | |");
        return s.ToString();
    }
}
