using Ellsa.Kernels.Cpu;
using Ellsa.Runtime.Codecs.SpeechOut;

namespace Ellsa.Perf;

/// <summary>
/// <c>speech-out-cpu</c>: a model directory's speech decoder on the CPU backend, component by
/// component, for N seconds of speech (25 tokens a second): the speech-token LM fed 8 random hidden
/// rows per second (segments of at most the driver's 12 calls, each finished to EOS, greedy), then
/// the flow over the evaluation's windows of N·25 tokens (step 50 and the 3-token overlap by default,
/// prompt prepended to each), then HiFT over each window's mel with the 8 cached frames and source
/// samples in front. Each after a warm-up (which packs the weights and records the prompt's stored
/// estimator rows): wall and CPU seconds per second of audio, the flow's encoder and estimator
/// split. perf/speech_out/side_by_side.py runs it interleaved with the authors' modules in PyTorch.
/// </summary>
public static class SpeechOutBenchmark
{
    private const int TokensPerSecond = 25;
    private const int Lookahead = 3;

    public static int Run(string modelDirectory, int seconds, int step, int threads, bool reuse)
    {
        seconds = Math.Max(1, seconds);
        using var backend = new CpuBackend(threads);
        using var model = SpeechSpeaker.Load(modelDirectory, backend);
        model.Flow.ReusePromptRows = reuse;
        var random = new Random(20251203);
        int rowsPerSecond = model.Lm.Config.TextChunk, width = model.Projection.Config.InputSize;
        var hidden = new float[seconds * rowsPerSecond * width];
        for (int i = 0; i < hidden.Length; i++)
            hidden[i] = (float)(random.NextDouble() * 2 - 1);
        var tokens = Enumerable.Range(0, seconds * TokensPerSecond).Select(_ => random.Next(model.Flow.Config.VocabSize)).ToArray();
        var windows = Windows(tokens.Length, step);
        double rate = model.Hift.Config.SamplingRate;

        // Warm-up: a short segment, the first window (records the stored prompt rows) and its HiFT.
        Lm(model, hidden.AsSpan(0, rowsPerSecond * width), 1, null);
        var firstMel = model.Flow.Infer(tokens.AsSpan(windows[0].First, windows[0].Count), model.Prompt, windows[0].Final);
        model.Hift.Run(firstMel.Mel, firstMel.Frames, HiftOptions.Deterministic);

        var timings = new SpeechOutTimings(backend);
        var (lmWall, lmCpu, lmTokens) = Timed.Measure(() => Lm(model, hidden, seconds, timings));
        model.Flow.Timings = timings;
        var mels = new List<FlowOutput>();
        var (flowWall, flowCpu, _) = Timed.Measure(() =>
        {
            foreach (var w in windows)
                mels.Add(model.Flow.Infer(tokens.AsSpan(w.First, w.Count), model.Prompt, w.Final));
            return 0;
        });
        model.Hift.Timings = timings;
        var (hiftWall, hiftCpu, samples) = Timed.Measure(() => Hift(model, mels, windows));
        double audio = samples / rate, lmAudio = (double)lmTokens / TokensPerSecond;

        Console.WriteLine($"speech-out-cpu: {backend.Description}; LM {model.Lm.Config.Qwen2.Layers} layers d {model.Lm.Config.Qwen2.HiddenSize}, " +
                          $"flow encoder {model.Flow.Config.Encoder.OutputSize}-d, estimator {model.Flow.Config.Estimator.Channels} channels, " +
                          $"HiFT {model.Hift.Config.BaseChannels} channels; weights from {model.Source}; prompt {model.Prompt.Tokens.Length} tokens / {model.Prompt.FeatFrames} frames");
        Console.WriteLine($"{seconds} s of speech: {tokens.Length} tokens in {windows.Count} windows (step {(step > 0 ? step : tokens.Length)}), {audio:F2} s of audio; " +
                          $"stored prompt rows {(reuse ? $"{model.Flow.StoredPromptRows(model.Prompt)} frames, {model.Flow.PromptRowsBytes / 1e6:F0} MB" : "off")}");
        Console.WriteLine($"LM: {lmTokens} tokens ({lmAudio:F2} s) wall {lmWall:F3} s, CPU {lmCpu:F3} s → {lmCpu / lmAudio:F3} CPU-s per audio second, {1000 * lmWall / lmTokens:F1} ms per token");
        Console.WriteLine($"flow: wall {flowWall:F3} s, CPU {flowCpu:F3} s → {flowCpu / audio:F3} CPU-s per audio second; " +
                          $"encoder {timings.FlowEncoderMs / 1000 / audio:F3} s, estimator {timings.EstimatorMs / 1000 / audio:F3} s per audio second (wall)");
        Console.WriteLine($"HiFT: wall {hiftWall:F3} s, CPU {hiftCpu:F3} s → {hiftCpu / audio:F3} CPU-s per audio second");
        Console.WriteLine($"RESULT lm_s_per_audio_s {lmWall / lmAudio:F4}");
        Console.WriteLine($"RESULT lm_cpu_s_per_audio_s {lmCpu / lmAudio:F4}");
        Console.WriteLine($"RESULT flow_s_per_audio_s {flowWall / audio:F4}");
        Console.WriteLine($"RESULT flow_cpu_s_per_audio_s {flowCpu / audio:F4}");
        Console.WriteLine($"RESULT flow_encoder_s_per_audio_s {timings.FlowEncoderMs / 1000 / audio:F4}");
        Console.WriteLine($"RESULT flow_estimator_s_per_audio_s {timings.EstimatorMs / 1000 / audio:F4}");
        Console.WriteLine($"RESULT hift_s_per_audio_s {hiftWall / audio:F4}");
        Console.WriteLine($"RESULT hift_cpu_s_per_audio_s {hiftCpu / audio:F4}");
        return 0;
    }

    /// <summary>One window of the evaluation's loop: tokens [First, First + Count), the last with Final.</summary>
    public readonly record struct Window(int First, int Count, bool Final);

    /// <summary>
    /// The windows of evaluate_speech.py's loop (03-speech-out.md §2.1): [0, step), then step + 3
    /// tokens from num, advancing by step − 3 then step, and the rest as the final window; step 0
    /// (or one longer than the tokens) is one offline window.
    /// </summary>
    public static List<Window> Windows(int tokens, int step)
    {
        var windows = new List<Window>();
        int num = 0;
        while (step > 0 && num + step + Lookahead < tokens)
        {
            if (num == 0)
            {
                windows.Add(new Window(0, step, false));
                num += step - Lookahead;
            }
            else
            {
                windows.Add(new Window(num, step + Lookahead, false));
                num += step;
            }
        }
        windows.Add(new Window(num, tokens - num, true));
        return windows;
    }

    /// <summary>Segments of at most the driver's calls, each fed its rows and finished (greedy); returns the tokens.</summary>
    internal static int Lm(SpeechSpeaker model, ReadOnlySpan<float> hidden, int seconds, SpeechOutTimings? timings)
    {
        int rowsPerSecond = model.Lm.Config.TextChunk, width = model.Projection.Config.InputSize;
        int perSegment = SpeechLmDriver.MaxCalls(rowsPerSecond), produced = 0;
        using var stream = model.Lm.CreateStream(model.Projection, new SpeechLmOptions { Greedy = true });
        stream.Timings = timings;
        for (int first = 0; first < seconds; first += perSegment)
        {
            int rows = Math.Min(perSegment, seconds - first) * rowsPerSecond;
            produced += stream.Feed(hidden.Slice(first * rowsPerSecond * width, rows * width), rows).Length;
            produced += stream.Finish().Length;
            stream.Reset();
        }
        return produced;
    }

    /// <summary>HiFT over each window's mel with the previous window's cached mel frames and source in front, as token2wav does; returns the samples.</summary>
    internal static long Hift(SpeechSpeaker model, List<FlowOutput> mels, List<Window> windows)
    {
        int channels = FlowOutput.Channels;
        float[]? cachedMel = null, cachedSource = null;
        long samples = 0;
        for (int i = 0; i < mels.Count; i++)
        {
            var mel = mels[i];
            int cached = cachedMel is null ? 0 : cachedMel.Length / channels, frames = cached + mel.Frames;
            var input = new float[channels * frames];
            for (int c = 0; c < channels; c++)
            {
                if (cachedMel is not null)
                    Array.Copy(cachedMel, c * cached, input, c * frames, cached);
                Array.Copy(mel.Mel, c * mel.Frames, input, c * frames + cached, mel.Frames);
            }
            var output = model.Hift.Run(input, frames, HiftOptions.Deterministic, cachedSource);
            samples += output.Samples.Length - (windows[i].Final ? 0 : model.Config.Streaming.SourceCacheLen);
            if (windows[i].Final)
                break;
            int keep = Math.Min(model.Config.Streaming.MelCacheLen, frames);
            cachedMel = new float[channels * keep];
            for (int c = 0; c < channels; c++)
                Array.Copy(input, c * frames + frames - keep, cachedMel, c * keep, keep);
            cachedSource = output.Source[^Math.Min(model.Config.Streaming.SourceCacheLen, output.Source.Length)..];
        }
        return samples;
    }
}
