using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;
using Ellsa.Kernels.Gpu;
using Ellsa.Runtime.Codecs.Speech;
using Ellsa.Runtime.Networks;
using Ellsa.Tests.Speech;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Gpu.Checks;

/// <summary>
/// The speech encoder streaming on the backend under test against the CPU backend, on the same
/// fresh random weights (some matrices bf16) and fbank: the rows streamed in 1-second pushes agree
/// within 1e-3, and equal the same backend's whole-utterance encoding within 1e-5. The GPU
/// package's speech benchmark runs the same comparison at the size it times.
/// </summary>
public static class SpeechEncoderChecks
{
    public const double CpuTolerance = 1e-3;
    public const double StreamingTolerance = 1e-5;
    /// <summary>Fbank frames per 1-second push.</summary>
    public const int FramesPerSecond = 100;

    public static IReadOnlyList<GpuCheck> All { get; } = [new("speech.encoder-stream", Stream)];

    /// <summary>The release's structure (seven stacks, 1,2,3,4,1,1,1 layers, kernels 31/15, chunk 8, left context 256) at a small width.</summary>
    public static SpeechEncoderConfig ReleaseStructure(int width, int heads, int layer3Channels)
    {
        var release = new SpeechEncoderConfig();
        int[] Each(int value) => Enumerable.Repeat(value, release.Stacks).ToArray();
        return release with
        {
            Layer1Channels = 4, Layer2Channels = 8, Layer3Channels = layer3Channels,
            EncoderDim = Each(width), EncoderUnmaskedDim = Each(width * 3 / 4), NumHeads = Each(heads), FeedforwardDim = Each(3 * width),
            Hidden = 2 * width, OutputDim = width,
        };
    }

    private static void Stream(BackendFactory create, int seed)
    {
        var random = new Random(seed);
        var config = ReleaseStructure(width: 32, heads: 4, layer3Channels: 8) with { ChunkSize = random.Next(2) == 0 ? 8 : 16 };
        var directory = Directory.CreateTempSubdirectory("ellsa-speech-check-");
        try
        {
            string path = RandomSpeechCheckpoint.Write(directory.FullName, RandomSpeechCheckpoint.Tensors(config, random, someBf16: true));
            using var tensors = TensorSet.OpenFile(path, SpeechEncoder.ComponentFileName);
            using var backend = create(IlgpuOptions.Default);
            using var cpu = new CpuBackend(threads: 1);
            using var device = SpeechEncoder.Load(tensors, config, backend, new WeightBindings());
            using var reference = SpeechEncoder.Load(tensors, config, cpu, new WeightBindings());
            int frames = random.Next(120, 330);
            var result = Compare(device, reference, RandomSpeechCheckpoint.Fbank(random, frames, config.NumMelBins), frames);
            result.Require($"chunk {config.ChunkSize}, {frames} fbank frames (seed {seed})");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>The two comparisons' relative L2 errors and the rows compared.</summary>
    public sealed record Comparison(double VersusCpu, double VersusOffline, int Rows)
    {
        public void Require(string what)
        {
            if (!(VersusCpu <= CpuTolerance))
                throw new CheckFailedException($"speech encoder, {what}: streamed rows differ from the CPU backend's by {VersusCpu:E2} (limit {CpuTolerance:E0})");
            if (!(VersusOffline <= StreamingTolerance))
                throw new CheckFailedException($"speech encoder, {what}: streamed rows differ from the whole utterance by {VersusOffline:E2} (limit {StreamingTolerance:E0})");
        }
    }

    /// <summary>Streams <paramref name="frames"/> fbank rows in 1-second pushes on both encoders and encodes them whole on the device.</summary>
    public static Comparison Compare(SpeechEncoder device, SpeechEncoder cpu, float[] fbank, int frames)
    {
        var streamed = Streamed(device, fbank, frames);
        var expected = Streamed(cpu, fbank, frames);
        var offline = device.EncodeOffline(fbank, frames).Embeddings;
        if (streamed.Length != expected.Length || streamed.Length != offline.Length)
            throw new CheckFailedException($"speech encoder: {streamed.Length} streamed values, {expected.Length} on the CPU, {offline.Length} offline");
        return new Comparison(Numeric.RelativeL2<float>(streamed, expected), Numeric.RelativeL2<float>(streamed, offline), streamed.Length / device.Config.OutputDim);
    }

    /// <summary>Every row of a stream fed <see cref="FramesPerSecond"/> fbank frames at a time, then finished.</summary>
    public static float[] Streamed(SpeechEncoder encoder, float[] fbank, int frames)
    {
        int mel = encoder.Config.NumMelBins;
        using var stream = encoder.CreateStream();
        var rows = new List<float[]>();
        for (int first = 0; first < frames; first += FramesPerSecond)
        {
            int count = Math.Min(FramesPerSecond, frames - first);
            stream.Push(fbank.AsSpan(first * mel, count * mel), count, rows);
        }
        stream.Finish(rows);
        return rows.SelectMany(r => r).ToArray();
    }
}
