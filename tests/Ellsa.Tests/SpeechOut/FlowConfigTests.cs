using System.Text.Json;
using Ellsa.Runtime.Checkpoints;
using Ellsa.Runtime.Codecs.SpeechOut;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Networks;
using Ellsa.Tests.Support;
using Xunit;

namespace Ellsa.Tests.SpeechOut;

/// <summary>
/// ellsa.json's speech_decoder.flow section: the release's values by default, the goldens' configs
/// as written, every bad value refused as one line naming ellsa.json and the dotted key; a config
/// the tensors contradict refused naming the file and the tensor; every flow tensor bound.
/// </summary>
public sealed class FlowConfigTests
{
    private static FlowConfig Read(string flowJson)
    {
        using var document = JsonDocument.Parse("{\"speech_decoder\": {\"flow\": " + flowJson + "}}");
        var root = new JsonSection("ellsa.json", "", document.RootElement);
        return FlowConfig.Read(root.Section("speech_decoder")!.Value.Section("flow"), "ellsa.json");
    }

    [Fact]
    public void NoSectionIsTheRelease()
    {
        foreach (var config in new[] { FlowConfig.Read(null, "ellsa.json"), Read("{}") })
        {
            Assert.Equal((512, 192, 6561, 25), (config.InputSize, config.SpkEmbedDim, config.VocabSize, config.InputFrameRate));
            var e = config.Encoder;
            Assert.Equal((512, 8, 2048, 6, true, 50, 64), (e.OutputSize, e.AttentionHeads, e.LinearUnits, e.NumBlocks, e.KeyBias, e.StaticChunkSize, e.HeadDim));
            var s = config.Estimator;
            Assert.Equal((256, 64, 8, 4, 12, 100, 1024, 512), (s.Channels, s.AttentionHeadDim, s.NumHeads, s.NBlocks, s.NumMidBlocks, s.StaticChunkSize,
                s.TimeEmbedDim, s.AttentionWidth));
            Assert.True(config.Cfm.CosineSchedule);
            Assert.Equal(0.7, config.Cfm.InferenceCfgRate);
        }
    }

    [Fact]
    public void TheGoldensConfigsAreReadAsWritten()
    {
        var small = SpeechOutGoldens.FlowConfig("small");
        Assert.Equal((64, 192, 300, 25, 64, 4, 128, 2, 50), (small.InputSize, small.SpkEmbedDim, small.VocabSize, small.InputFrameRate,
            small.Encoder.OutputSize, small.Encoder.AttentionHeads, small.Encoder.LinearUnits, small.Encoder.NumBlocks, small.Encoder.StaticChunkSize));
        Assert.Equal((64, 32, 2, 1, 2, 100), (small.Estimator.Channels, small.Estimator.AttentionHeadDim, small.Estimator.NumHeads,
            small.Estimator.NBlocks, small.Estimator.NumMidBlocks, small.Estimator.StaticChunkSize));
        var wide = SpeechOutGoldens.FlowConfig("wide");
        Assert.Equal((80, 96, 512, 20, 40, 80, 48, 24, 4, 96), (wide.InputSize, wide.SpkEmbedDim, wide.VocabSize, wide.InputFrameRate,
            wide.Encoder.StaticChunkSize, wide.Estimator.StaticChunkSize, wide.Estimator.Channels, wide.Estimator.AttentionHeadDim,
            wide.Estimator.NumHeads, wide.Estimator.AttentionWidth));
        // Only the frame rate given: both chunk sizes follow it, as CosyVoice2Model sets them.
        var rate = Read("""{"input_frame_rate": 20}""");
        Assert.Equal((40, 80), (rate.Encoder.StaticChunkSize, rate.Estimator.StaticChunkSize));
        Assert.False(Read("""{"decoder": {"cfm_params": {"t_scheduler": "linear"}}}""").Cfm.CosineSchedule);
        Assert.False(Read("""{"encoder": {"key_bias": false}}""").Encoder.KeyBias);
    }

    [Theory]
    [InlineData("""{"vocab_sizes": 1}""", "speech_decoder.flow.vocab_sizes is not a known key")]
    [InlineData("""{"decoder": {"n_spkrs": 1}}""", "speech_decoder.flow.decoder.n_spkrs is not a known key")]
    [InlineData("""{"encoder": {"cnn_module_kernel": 15}}""", "speech_decoder.flow.encoder.cnn_module_kernel is not a known key")]
    [InlineData("""{"decoder": {"estimator": {"channel": [256]}}}""", "speech_decoder.flow.decoder.estimator.channel is not a known key")]
    [InlineData("""{"decoder": {"cfm_params": {"steps": 10}}}""", "speech_decoder.flow.decoder.cfm_params.steps is not a known key")]
    [InlineData("""{"output_size": 100}""", "speech_decoder.flow.output_size is 100, but the authors' code fixes it at 80")]
    [InlineData("""{"n_timesteps": 20}""", "speech_decoder.flow.n_timesteps is 20, but the authors' code fixes it at 10")]
    [InlineData("""{"token_mel_ratio": 3}""", "speech_decoder.flow.token_mel_ratio is 3, but the authors' code fixes it at 2")]
    [InlineData("""{"pre_lookahead_len": 1}""", "speech_decoder.flow.pre_lookahead_len is 1, but the authors' code fixes it at 3")]
    [InlineData("""{"input_size": 256}""", "speech_decoder.flow.input_size is 256, but the authors' code fixes it at 512")]
    [InlineData("""{"output_type": "linear"}""", "speech_decoder.flow.output_type is \"linear\"; the engine implements \"mel\"")]
    [InlineData("""{"input_frame_rate": 0}""", "speech_decoder.flow.input_frame_rate must be at least 1, got 0")]
    [InlineData("""{"spk_embed_dim": 0}""", "speech_decoder.flow.spk_embed_dim must be at least 1, got 0")]
    [InlineData("""{"vocab_size": 99999999}""", "speech_decoder.flow.vocab_size must be at most 4194304, got 99999999")]
    [InlineData("""{"encoder": "big"}""", "speech_decoder.flow.encoder must be an object")]
    [InlineData("""{"encoder": {"num_up_blocks": 3}}""", "speech_decoder.flow.encoder.num_up_blocks is 3, but the authors' code fixes it at 4")]
    [InlineData("""{"encoder": {"up_stride": 4}}""", "speech_decoder.flow.encoder.up_stride is 4, but the authors' code fixes it at 2")]
    [InlineData("""{"encoder": {"static_chunk_size": 25}}""", "speech_decoder.flow.encoder.static_chunk_size is 25, but the authors' code fixes it at 50")]
    [InlineData("""{"encoder": {"use_dynamic_chunk": true}}""", "speech_decoder.flow.encoder.use_dynamic_chunk is true, but the engine runs the release's false")]
    [InlineData("""{"encoder": {"normalize_before": false}}""", "speech_decoder.flow.encoder.normalize_before is false, but the engine runs the release's true")]
    [InlineData("""{"encoder": {"macaron_style": true}}""", "speech_decoder.flow.encoder.macaron_style is true")]
    [InlineData("""{"encoder": {"use_cnn_module": true}}""", "speech_decoder.flow.encoder.use_cnn_module is true")]
    [InlineData("""{"encoder": {"input_layer": "conv2d"}}""", "speech_decoder.flow.encoder.input_layer is \"conv2d\"; the engine implements \"linear\"")]
    [InlineData("""{"encoder": {"pos_enc_layer_type": "rel_pos"}}""", "speech_decoder.flow.encoder.pos_enc_layer_type is \"rel_pos\"")]
    [InlineData("""{"encoder": {"selfattention_layer_type": "selfattn"}}""", "speech_decoder.flow.encoder.selfattention_layer_type is \"selfattn\"")]
    [InlineData("""{"encoder": {"activation_type": "relu"}}""", "speech_decoder.flow.encoder.activation_type is \"relu\"")]
    [InlineData("""{"encoder": {"attention_heads": 7}}""", "speech_decoder.flow.encoder.attention_heads is 7, which does not divide output_size 512")]
    [InlineData("""{"encoder": {"output_size": 511, "attention_heads": 1}}""", "speech_decoder.flow.encoder.output_size is 511, not even")]
    [InlineData("""{"encoder": {"num_blocks": 5000}}""", "speech_decoder.flow.encoder.num_blocks must be at most 1024, got 5000")]
    [InlineData("""{"encoder": {"linear_units": 0}}""", "speech_decoder.flow.encoder.linear_units must be at least 1, got 0")]
    [InlineData("""{"encoder": {"key_bias": 1}}""", "speech_decoder.flow.encoder.key_bias must be true or false")]
    [InlineData("""{"decoder": {"in_channels": -1}}""", "speech_decoder.flow.decoder.in_channels must be at least 1, got -1")]
    [InlineData("""{"decoder": {"cfm_params": {"t_scheduler": "cosin"}}}""", "speech_decoder.flow.decoder.cfm_params.t_scheduler is \"cosin\"; the engine implements \"cosine\" or \"linear\"")]
    [InlineData("""{"decoder": {"cfm_params": {"solver": "rk4"}}}""", "speech_decoder.flow.decoder.cfm_params.solver is \"rk4\"")]
    [InlineData("""{"decoder": {"cfm_params": {"inference_cfg_rate": "high"}}}""", "speech_decoder.flow.decoder.cfm_params.inference_cfg_rate must be a number")]
    [InlineData("""{"decoder": {"cfm_params": {"inference_cfg_rate": -1}}}""", "speech_decoder.flow.decoder.cfm_params.inference_cfg_rate is -1, outside 0…100")]
    [InlineData("""{"decoder": {"cfm_params": {"sigma_min": 2}}}""", "speech_decoder.flow.decoder.cfm_params.sigma_min is 2, outside 0…1")]
    [InlineData("""{"decoder": {"estimator": {"channels": [256, 256]}}}""", "speech_decoder.flow.decoder.estimator.channels lists 2 levels; the engine runs the release's single-level U-Net")]
    [InlineData("""{"decoder": {"estimator": {"channels": [0]}}}""", "speech_decoder.flow.decoder.estimator.channels[0] is 0, outside 1…65536")]
    [InlineData("""{"decoder": {"estimator": {"channels": 256}}}""", "speech_decoder.flow.decoder.estimator.channels must be an array of integers")]
    [InlineData("""{"decoder": {"estimator": {"causal": false}}}""", "speech_decoder.flow.decoder.estimator.causal is false, but the engine runs the release's true")]
    [InlineData("""{"decoder": {"estimator": {"act_fn": "snakebeta"}}}""", "speech_decoder.flow.decoder.estimator.act_fn is \"snakebeta\"; the engine implements \"gelu\"")]
    [InlineData("""{"decoder": {"estimator": {"in_channels": 240}}}""", "speech_decoder.flow.decoder.estimator.in_channels is 240, but the authors' code fixes it at 320")]
    [InlineData("""{"decoder": {"estimator": {"out_channels": 100}}}""", "speech_decoder.flow.decoder.estimator.out_channels is 100, but the authors' code fixes it at 80")]
    [InlineData("""{"decoder": {"estimator": {"static_chunk_size": 50}}}""", "speech_decoder.flow.decoder.estimator.static_chunk_size is 50, but the authors' code fixes it at 100")]
    [InlineData("""{"decoder": {"estimator": {"num_heads": 0}}}""", "speech_decoder.flow.decoder.estimator.num_heads must be at least 1, got 0")]
    [InlineData("""{"decoder": {"estimator": {"attention_head_dim": 4096}}}""", "speech_decoder.flow.decoder.estimator.attention_head_dim must be at most 1024, got 4096")]
    [InlineData("""{"decoder": {"estimator": {"n_blocks": -1}}}""", "speech_decoder.flow.decoder.estimator.n_blocks must be at least 0, got -1")]
    [InlineData("""{"decoder": {"estimator": {"dropout": 1.5}}}""", "speech_decoder.flow.decoder.estimator.dropout is 1.5, outside 0…1")]
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
        using var tensors = SpeechOutGoldens.Weights("small");
        var narrower = SpeechOutGoldens.FlowConfig("small") with { Encoder = SpeechOutGoldens.FlowConfig("small").Encoder with { LinearUnits = 100 } };
        var error = Assert.Throws<CheckpointException>(() => Flow.Load(tensors, narrower, SharedBackends.Cpu, new WeightBindings()));
        Assert.Equal("speech_decoder.safetensors: tensor 'speech_expert.generator.flow.encoder.encoders.0.feed_forward.w_1.weight': " +
                     "has shape [128, 64], but the config implies [100, 64]", error.Message);

        var deeper = SpeechOutGoldens.FlowConfig("small") with { Estimator = SpeechOutGoldens.FlowConfig("small").Estimator with { NumMidBlocks = 3 } };
        error = Assert.Throws<CheckpointException>(() => Flow.Load(tensors, deeper, SharedBackends.Cpu, new WeightBindings()));
        Assert.StartsWith("speech_decoder.safetensors: tensor 'speech_expert.generator.flow.decoder.estimator.mid_blocks.2.0.", error.Message);
        Assert.Contains("is missing", error.Message);

        var wider = SpeechOutGoldens.FlowConfig("small") with { SpkEmbedDim = 96 };
        error = Assert.Throws<CheckpointException>(() => Flow.Load(tensors, wider, SharedBackends.Cpu, new WeightBindings()));
        Assert.Contains("'speech_expert.generator.flow.spk_embed_affine_layer.weight': has shape [80, 192], but the config implies [80, 96]", error.Message);

        error = Assert.Throws<CheckpointException>(() => Flow.Load(tensors, SpeechOutGoldens.FlowConfig("small"), SharedBackends.Cpu, new WeightBindings(), "flow."));
        Assert.Equal("speech_decoder.safetensors: tensor 'flow.input_embedding.weight': is missing (the config implies shape [300, 64])", error.Message);
    }

    [Fact]
    public void EveryFlowTensorOfTheGoldenCheckpointsIsBound()
    {
        foreach (string config in SpeechOutGoldens.Configs)
        {
            using var tensors = SpeechOutGoldens.Weights(config);
            var log = new WeightBindings();
            using var flow = Flow.Load(tensors, SpeechOutGoldens.FlowConfig(config), SharedBackends.Cpu, log);
            Assert.Empty(log.Unused(tensors, name => !name.StartsWith(Flow.DefaultPrefix, StringComparison.Ordinal)));
            Assert.DoesNotContain(log.All, b => !b.Name.StartsWith(Flow.DefaultPrefix, StringComparison.Ordinal));
        }
    }
}
