using Ellsa.Kernels.Gpu;
using Ellsa.Runtime.Codecs.Speech;
using Ellsa.Tests.Gpu;
using Ellsa.Tests.Support;
using Ellsa.Tests.Vision;
using Xunit;

namespace Ellsa.Tests.Speech;

/// <summary>
/// The encoder against the authors' MultiKDModel.forward_encoder and encode_speech run in float64
/// on the same weights and the same (golden) fbank: for both configs and every clip, the frame
/// and row counts equal and the encoder output and the embeddings within 1e-3 relative L2, offline
/// and streamed in 1-second pieces.
/// </summary>
public sealed class SpeechEncoderGoldenTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string config in SpeechGoldens.Configs)
            foreach (string clip in SpeechGoldens.ClipNames())
                data.Add(config, clip);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EncodesAsTheAuthorsModelDoes(string config, string clip)
    {
        var (encoder, tensors) = SpeechGoldens.Load(config, SharedBackends.Cpu);
        using var _ = tensors;
        using var __ = encoder;
        using var clips = SpeechGoldens.Clips();
        using var outputs = SpeechGoldens.Outputs(config);
        var fbank = clips.Floats(clip + ".fbank");
        int frames = (int)clips.Shape(clip + ".fbank")[0];
        var encoding = encoder.EncodeOffline(fbank, frames);
        AssertMatches(encoder.Config, outputs, clip, encoding);

        // The same rows streamed a second (100 fbank frames) at a time.
        using var stream = encoder.CreateStream();
        var rows = new List<float[]>();
        for (int first = 0; first < frames; first += 100)
        {
            int count = Math.Min(100, frames - first);
            stream.Push(fbank.AsSpan(first * encoder.Config.NumMelBins, count * encoder.Config.NumMelBins), count, rows);
        }
        stream.Finish(rows);
        VisionGoldens.AssertClose($"{config}/{clip} streamed embeddings", outputs.Floats(clip + ".embeddings"), rows.SelectMany(r => r).ToArray(), 1e-3);
    }

    internal static void AssertMatches(SpeechEncoderConfig config, VisionGoldens.Tensors outputs, string clip, SpeechEncoding encoding)
    {
        var shape = outputs.Shape(clip + ".encoder");
        Assert.Equal((int)shape[0], encoding.EncoderFrames);
        Assert.Equal(config.ModelDim, (int)shape[1]);
        Assert.Equal((int)outputs.Shape(clip + ".embeddings")[0], encoding.Rows);
        VisionGoldens.AssertClose($"{clip} encoder", outputs.Floats(clip + ".encoder"), encoding.Encoder, 1e-3);
        VisionGoldens.AssertClose($"{clip} embeddings", outputs.Floats(clip + ".embeddings"), encoding.Embeddings, 1e-3);
    }
}

/// <summary>
/// The encoder on the GPU kernels (ILGPU's CPU simulator) against the authors' goldens, on the wide
/// config's BF16 weights: a clip shorter than a chunk at every stack (the shrunk conv chunk) and one
/// a frame past a chunk (whole chunks and the short tail). The simulator is slow, so two clips.
/// </summary>
[Collection(GpuTestCollection.Name)]
public sealed class SimulatorSpeechEncoderTests
{
    [Theory]
    [InlineData("odd_1800")]
    [InlineData("odd_6500")]
    public void EncodesAsTheAuthorsModelDoesThroughTheGpuKernels(string clip)
    {
        using var backend = IlgpuBackend.CreateCpuSimulator();
        var (encoder, tensors) = SpeechGoldens.Load("wide", backend);
        using var _ = tensors;
        using var __ = encoder;
        using var clips = SpeechGoldens.Clips();
        using var outputs = SpeechGoldens.Outputs("wide");
        var encoding = encoder.EncodeOffline(clips.Floats(clip + ".fbank"), (int)clips.Shape(clip + ".fbank")[0]);
        SpeechEncoderGoldenTests.AssertMatches(encoder.Config, outputs, clip, encoding);
    }
}
