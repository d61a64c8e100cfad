using System.Text.Json;
using Ellsa.Runtime.Checkpoints;
using Ellsa.Runtime.Codecs.Speech;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Networks;
using Ellsa.Tests.Support;
using Xunit;

namespace Ellsa.Tests.Speech;

/// <summary>
/// ellsa.json's "speech_encoder" section: the release's values by default, per-stack lists of one
/// or one per stack, and every bad value refused as one line naming ellsa.json and the key; a config
/// the tensors contradict refused naming the file and the tensor; misuse of the stream refused.
/// </summary>
public sealed class SpeechEncoderConfigTests
{
    private static SpeechEncoderConfig Read(string sectionJson)
    {
        using var document = JsonDocument.Parse($$"""{"speech_encoder": {{sectionJson}}}""");
        var root = new JsonSection("ellsa.json", "", document.RootElement);
        return SpeechEncoderConfig.Read(root.Section("speech_encoder"), "ellsa.json");
    }

    [Fact]
    public void NoSectionIsTheRelease()
    {
        var config = SpeechEncoderConfig.Read(null, "ellsa.json");
        Assert.Equal(7, config.Stacks);
        Assert.Equal([1, 2, 4, 8, 4, 2, 1], config.DownsamplingFactor);
        Assert.Equal([1, 2, 3, 4, 1, 1, 1], config.NumEncoderLayers);
        Assert.Equal([31, 31, 15, 15, 15, 31, 31], config.CnnModuleKernel);
        Assert.All(config.EncoderDim, d => Assert.Equal(1280, d));
        Assert.All(config.FeedforwardDim, d => Assert.Equal(3840, d));
        Assert.Equal((128, 8, 32, 128, 48, 8, 256, 32), (config.NumMelBins, config.Layer1Channels, config.Layer2Channels, config.Layer3Channels,
            config.PosDim, config.ChunkSize, config.LeftContextFrames, config.LeftContextChunks));
        Assert.Equal((31, 12800, 6400, 4096), (config.EmbedFrequencies, config.ProjectorInput, config.Hidden, config.OutputDim));
        var empty = Read("{}");
        Assert.Equal((config.ChunkSize, config.LeftContextFrames, config.SegSize, config.Hidden, config.OutputDim, config.Causal),
            (empty.ChunkSize, empty.LeftContextFrames, empty.SegSize, empty.Hidden, empty.OutputDim, empty.Causal));
        Assert.Equal(config.NumEncoderLayers, empty.NumEncoderLayers);
        Assert.Equal(config.CnnModuleKernel, empty.CnnModuleKernel);
        Assert.Equal(config.NumHeads, empty.NumHeads);
        Assert.Equal(config.EncoderDim, Read("{}").EncoderDim);
    }

    [Fact]
    public void PerStackListsTakeOneValueOrOnePerStack()
    {
        var config = Read("""{"downsampling_factor": [1, 2, 1], "num_encoder_layers": [1, 2, 1], "encoder_dim": [16, 24, 20], "encoder_unmasked_dim": [8], "num_heads": [3], """ +
            "\"cnn_module_kernel\": [5], \"chunk_size\": 4, \"left_context_frames\": 9}");
        Assert.Equal([16, 24, 20], config.EncoderDim);
        Assert.Equal([3, 3, 3], config.NumHeads);
        Assert.Equal([5, 5, 5], config.CnnModuleKernel);
        Assert.Equal((24, 2), (config.ModelDim, config.LeftContextChunks));
        // left_context_frames 0 is one chunk, as the authors round it.
        Assert.Equal(1, Read("""{"left_context_frames": 0, "cnn_module_kernel": [1], "chunk_size": 8}""").LeftContextChunks);
    }

    [Theory]
    [InlineData("""{"chunk_sizes": 8}""", "speech_encoder.chunk_sizes is not a known key")]
    [InlineData("""{"encoder_embed": {"layer4_channels": 2}}""", "speech_encoder.encoder_embed.layer4_channels is not a known key")]
    [InlineData("""{"chunk_size": 6}""", "speech_encoder.chunk_size is 6, not a multiple of stack 2's downsampling_factor 4")]
    [InlineData("""{"chunk_size": [8]}""", "speech_encoder.chunk_size must be an integer")]
    [InlineData("""{"cnn_module_kernel": [30]}""", "speech_encoder.cnn_module_kernel is 30 for stack 0, not odd")]
    [InlineData("""{"encoder_dim": [1280, 1280]}""", "speech_encoder.encoder_dim has 2 values; give one for every stack or one per stack (7)")]
    [InlineData("""{"downsampling_factor": [1, 2]}""", "speech_encoder.downsampling_factor has 2 stacks but the default num_encoder_layers lists 7")]
    [InlineData("""{"encoder_unmasked_dim": [2000]}""", "speech_encoder.encoder_unmasked_dim is 2000 for stack 0, above its encoder_dim 1280")]
    [InlineData("""{"causal": false}""", "speech_encoder.causal is false")]
    [InlineData("""{"pos_dim": 47}""", "speech_encoder.pos_dim is 47, not even")]
    [InlineData("""{"output_downsampling_factor": 4}""", "speech_encoder.output_downsampling_factor must be at most 2, got 4")]
    [InlineData("""{"left_context_frames": 32}""", "speech_encoder.left_context_frames gives 4 chunks of 8 frames, less than stack 3's conv history (7 frames × downsampling 8)")]
    [InlineData("""{"left_context_frames": -1}""", "speech_encoder.left_context_frames must be at least 0, got -1")]
    [InlineData("""{"num_mel_bins": 6}""", "speech_encoder.num_mel_bins must be at least 7, got 6")]
    [InlineData("""{"num_heads": [0]}""", "speech_encoder.num_heads[0] is 0, outside 1…1024")]
    [InlineData("""{"seg_size": 100000}""", "speech_encoder.seg_size must be at most 4096, got 100000")]
    [InlineData("""{"hidden": "big"}""", "speech_encoder.hidden must be an integer")]
    public void BadValuesAreNamed(string section, string message)
    {
        var error = Assert.Throws<ConfigException>(() => Read(section));
        Assert.StartsWith("ellsa.json: ", error.Message);
        Assert.Contains(message, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void AConfigTheTensorsContradictNamesTheFileAndTensor()
    {
        var config = SpeechGoldens.Config("small") with { Layer3Channels = 16 };
        using var tensors = TensorSet.OpenFile(Path.Combine(SpeechGoldens.ModelDirectory("small"), SpeechEncoder.ComponentFileName), SpeechEncoder.ComponentFileName);
        var error = Assert.Throws<CheckpointException>(() => SpeechEncoder.Load(tensors, config, SharedBackends.Cpu, new WeightBindings()));
        Assert.Equal("speech_encoder.safetensors: tensor 'speech_expert.speechencoder.encoder_embed.conv.7.weight': has shape [32, 16, 3, 3], but the config implies [16, 16, 3, 3]",
            error.Message);

        var deeper = SpeechGoldens.Config("small") with { NumEncoderLayers = [1, 2, 3, 5, 1, 1, 1] };
        error = Assert.Throws<CheckpointException>(() => SpeechEncoder.Load(tensors, deeper, SharedBackends.Cpu, new WeightBindings()));
        Assert.StartsWith("speech_encoder.safetensors: tensor 'speech_expert.speechencoder.encoder.encoders.3.encoder.layers.4.", error.Message);
        Assert.Contains("is missing", error.Message);
    }

    [Fact]
    public void EveryTensorOfTheGoldenCheckpointsIsBoundOrDeclaredUnused()
    {
        foreach (string name in SpeechGoldens.Configs)
        {
            using var tensors = TensorSet.OpenFile(Path.Combine(SpeechGoldens.ModelDirectory(name), SpeechEncoder.ComponentFileName), SpeechEncoder.ComponentFileName);
            var log = new WeightBindings();
            using var encoder = SpeechEncoder.Load(tensors, SpeechGoldens.Config(name), SharedBackends.Cpu, log);
            Assert.Empty(log.Unused(tensors));
            var unused = log.All.Where(b => b.Use == "unused by inference").Select(b => b.Name).ToList();
            Assert.Contains("speech_expert.ln_speech.weight", unused);
            Assert.Contains("speech_expert.speechencoder.mask_emb", unused);
            Assert.Contains("speech_expert.speechencoder.audio_tagging_proj.1.bias", unused);
            Assert.Contains("speech_expert.speechencoder.encoder.encoders.0.layers.0.bypass_scale", unused);
        }
    }

    [Fact]
    public void MisuseOfTheStreamIsRefused()
    {
        var (encoder, tensors) = SpeechGoldens.Load("small", SharedBackends.Cpu);
        using var _ = tensors;
        using var __ = encoder;
        int mel = encoder.Config.NumMelBins;
        var rows = new List<float[]>();
        using var stream = encoder.CreateStream();
        Assert.Contains("fbank values for 3 frames", Assert.Throws<ArgumentException>(() => stream.Push(new float[2 * mel], 3, rows)).Message);
        var fbank = new float[20 * mel];
        stream.Push(fbank.AsSpan(0, 10 * mel), 10, rows);
        fbank[12 * mel + 5] = float.NaN;
        Assert.Equal("fbank row 12 (bin 5) is NaN; fbank values must be finite",
            Assert.Throws<ArgumentException>(() => stream.Push(fbank.AsSpan(10 * mel), 10, rows)).Message);
        stream.Finish(rows);
        Assert.Single(rows);
        Assert.Equal(0, stream.Finish(rows));
        Assert.Throws<InvalidOperationException>(() => stream.Push(fbank.AsSpan(0, mel), 1, rows));
        Assert.Contains("at least 9", Assert.Throws<ArgumentException>(() => encoder.EncodeOffline(new float[8 * mel], 8)).Message);
    }
}
