using System.Diagnostics;
using Ellsa.Kernels.Cpu;
using Ellsa.Runtime.Codecs.Speech;

namespace Ellsa.Perf;

/// <summary>
/// <c>speech-cpu</c>: a model directory's speech input (fbank, encoder, projector) streaming N
/// seconds of 16 kHz audio in 1-second pushes on the CPU backend, after a warm-up stream (which
/// packs the weights): wall and CPU seconds per audio second, the median push once the left
/// context is full, the stages' share and the layers' parts. perf/speech/side_by_side.py runs it
/// interleaved with the authors' encoder in PyTorch on the same weights.
/// </summary>
public static class SpeechBenchmark
{
    private const int SampleRate = 16000;

    public static int Run(string modelDirectory, int seconds, int warmupSeconds, int threads)
    {
        seconds = Math.Max(1, seconds);
        using var backend = new CpuBackend(threads);
        using var listener = SpeechListener.Load(modelDirectory, backend);
        var config = listener.Config;
        var audio = Audio(Math.Max(seconds, warmupSeconds));

        if (warmupSeconds > 0)
            Stream(listener, audio, warmupSeconds, null, null);

        var timings = new SpeechTimings(backend, config.Stacks);
        var pushMs = new List<double>();
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var (wall, cpu, (fbankMs, rows)) = Timed.Measure(() => Stream(listener, audio, seconds, timings, pushMs));
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        // Pushes after the left context has filled at every stack: what a long conversation costs per second.
        double contextSeconds = (double)config.LeftContextChunks * config.ChunkSize / 50;
        var steady = pushMs.Skip((int)Math.Ceiling(contextSeconds) + 1).Order().ToList();
        double steadyMedian = steady.Count > 0 ? steady[steady.Count / 2] : double.NaN;

        Console.WriteLine($"speech-cpu: {backend.Description}; encoder {string.Join(",", config.EncoderDim.Distinct())}-d, " +
                          $"{config.NumEncoderLayers.Sum()} layers, ff {string.Join(",", config.FeedforwardDim.Distinct())}, " +
                          $"projector {config.ProjectorInput}→{config.Hidden}→{config.OutputDim}; {listener.Bindings.All.Count} tensors");
        Console.WriteLine($"{seconds} s of audio in 1-s pushes (after a {warmupSeconds}-s warm-up stream): {rows} rows, " +
                          $"wall {wall:F3} s, CPU {cpu:F3} s, {allocated / 1e6 / seconds:F2} MB allocated per audio second");
        Console.WriteLine($"median 1-s push with the left context full ({steady.Count} pushes): {steadyMedian:F1} ms; " +
                          $"GEMM work {SpeechEncoderCost.LinearFlopsPerSecond(config) / 1e9:F1} GFLOP per audio second → {SpeechEncoderCost.LinearFlopsPerSecond(config) / 1e9 / (wall / seconds):F0} GFLOP/s");
        Console.WriteLine($"stages, ms per audio second: fbank {fbankMs / seconds:F1}, subsampling {timings.SubsamplingMs / seconds:F1}, " +
                          string.Join(", ", timings.StackMs.Select((ms, i) => $"stack {i} (÷{config.DownsamplingFactor[i]}, {config.NumEncoderLayers[i]} layers) {ms / seconds:F1}")) +
                          $", projector {timings.ProjectorMs / seconds:F1}");
        double layers = timings.LayerPartMs.Sum();
        Console.WriteLine("layer parts: " + string.Join(", ", Enum.GetValues<LayerPart>()
            .Select(p => $"{p} {timings.LayerPartMs[(int)p] / seconds:F1} ms/s ({100 * timings.LayerPartMs[(int)p] / layers:F0} %)")));
        Console.WriteLine($"RESULT engine_s_per_audio_s {wall / seconds:F4}");
        Console.WriteLine($"RESULT engine_cpu_s_per_audio_s {cpu / seconds:F4}");
        Console.WriteLine($"RESULT engine_steady_push_s {steadyMedian / 1000:F4}");
        return 0;
    }

    /// <summary>Pushes the first <paramref name="seconds"/> of the audio one second at a time, then finishes; returns fbank ms and rows.</summary>
    private static (double FbankMs, int Rows) Stream(SpeechListener listener, float[] audio, int seconds, SpeechTimings? timings, List<double>? pushMs)
    {
        using var stream = listener.CreateStream();
        stream.Timings = timings;
        var rows = new List<float[]>();
        for (int s = 0; s < seconds; s++)
        {
            var clock = Stopwatch.StartNew();
            stream.Push(audio.AsSpan(s * SampleRate, SampleRate), rows);
            pushMs?.Add(clock.Elapsed.TotalMilliseconds);
        }
        stream.Finish(rows);
        return (stream.FbankMs, rows.Count);
    }

    /// <summary>Speech-like audio: a voiced tone with a wandering pitch and its harmonics, syllable envelopes and some noise.</summary>
    private static float[] Audio(int seconds)
    {
        var random = new Random(20251202);
        var samples = new float[seconds * SampleRate];
        double phase = 0;
        for (int i = 0; i < samples.Length; i++)
        {
            double t = (double)i / SampleRate;
            double pitch = 140 + 40 * Math.Sin(2 * Math.PI * 0.7 * t);
            phase += 2 * Math.PI * pitch / SampleRate;
            double voiced = Math.Sin(phase) + 0.5 * Math.Sin(2 * phase) + 0.25 * Math.Sin(3 * phase);
            double envelope = Math.Max(0, Math.Sin(2 * Math.PI * 3 * t));
            samples[i] = (float)(0.3 * envelope * voiced + 0.01 * (random.NextDouble() * 2 - 1));
        }
        return samples;
    }
}
