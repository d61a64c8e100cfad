using System.Text.Json;
using Ellsa.Runtime.Checkpoints;
using Ellsa.Runtime.Codecs.SpeechOut;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Networks;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.SpeechOut;

/// <summary>
/// ellsa.json's speech_decoder.llm and speech_decoder.generator_proj: the release's values by default,
/// every bad value refused as one line naming ellsa.json and the dotted key, a config the tensors
/// contradict refused naming the file and the tensor, and misuse of the stream refused.
/// </summary>
public sealed class SpeechLmConfigTests
{
    /// <summary>Reads <c>speech_decoder.<paramref name="key"/></c> = <paramref name="sectionJson"/> of an ellsa.json.</summary>
    private static T Read<T>(string key, string sectionJson, Func<JsonSection?, string, T> read)
    {
        using var document = JsonDocument.Parse($"{{\"speech_decoder\": {{\"{key}\": {sectionJson}}}}}");
        return read(new JsonSection("ellsa.json", "", document.RootElement).Section("speech_decoder")!.Value.Section(key), "ellsa.json");
    }

    private static LlmConfig ReadLlm(string sectionJson) => Read("llm", sectionJson, LlmConfig.Read);

    private static GeneratorProjConfig ReadProjection(string sectionJson) => Read("generator_proj", sectionJson, GeneratorProjConfig.Read);

    [Fact]
    public void NoSectionIsTheRelease()
    {
        foreach (var llm in new[] { LlmConfig.Read(null, "ellsa.json"), ReadLlm("{}") })
        {
            Assert.Equal((896, 896, 6561, 8, 25, 3.75), (llm.LlmInputSize, llm.LlmOutputSize, llm.SpeechTokenSize, llm.TextChunk, llm.AudioChunk, llm.Ratio));
            Assert.Equal((6561, 6564), (llm.Eos, llm.DecoderRows));
            Assert.Equal((0.8, 25, 10, 0.1), (llm.Sampling.TopP, llm.Sampling.TopK, llm.Sampling.WinSize, llm.Sampling.TauR));
            var q = llm.Qwen2;
            Assert.Equal((896, 4864, 24, 14, 2, 64), (q.HiddenSize, q.IntermediateSize, q.Layers, q.Heads, q.KvHeads, q.HeadDim));
            Assert.Equal((1e-6, 1e6, 151936, 32768, true), (q.RmsNormEps, q.RopeTheta, q.VocabSize, q.MaxPositionEmbeddings, q.TieWordEmbeddings));
        }
        var projection = GeneratorProjConfig.Read(null, "ellsa.json");
        Assert.Equal((4096, 2048, 896, 1e-5), (projection.InputSize, projection.HiddenSize, projection.OutputSize, projection.LayerNormEps));
        Assert.Equal(projection, ReadProjection("{}"));
    }

    [Fact]
    public void TheGoldenConfigsReadAsWritten()
    {
        var (small, smallProjection) = SpeechLmGoldens.Configuration("small");
        Assert.Equal((64, 300, 8, 25, 3.75, 2, 4, 2), (small.LlmInputSize, small.SpeechTokenSize, small.TextChunk, small.AudioChunk, small.Ratio,
            small.Qwen2.Layers, small.Qwen2.Heads, small.Qwen2.KvHeads));
        Assert.Equal((96, 128, 64), (smallProjection.InputSize, smallProjection.HiddenSize, smallProjection.OutputSize));
        var (wide, _) = SpeechLmGoldens.Configuration("wide");
        Assert.Equal((96, 512, 6, 16, 2.5, 6, 2, 1e4, 1e-5), (wide.LlmInputSize, wide.SpeechTokenSize, wide.TextChunk, wide.AudioChunk, wide.Ratio,
            wide.Qwen2.Heads, wide.Qwen2.KvHeads, wide.Qwen2.RopeTheta, wide.Qwen2.RmsNormEps));
        // Restating the values the authors' code fixes is accepted.
        Assert.Equal(2, ReadLlm("""{"min_token_text_ratio": 2.0, "max_token_text_ratio": 15, "stream_text_limit": 100, "sampling": {"max_trials": 50}}""").Qwen2.KvHeads);
    }

    [Theory]
    [InlineData("""{"text_chunks": 8}""", "speech_decoder.llm.text_chunks is not a known key of speech_decoder.llm")]
    [InlineData("""{"qwen2": {"sliding_window": 4096}}""", "speech_decoder.llm.qwen2.sliding_window is not a known key")]
    [InlineData("""{"sampling": {"top_q": 1}}""", "speech_decoder.llm.sampling.top_q is not a known key")]
    [InlineData("""{"qwen2": {"hidden_size": 900}}""", "speech_decoder.llm.qwen2.hidden_size (900) is not a multiple of num_attention_heads (14)")]
    [InlineData("""{"qwen2": {"hidden_size": 896, "num_attention_heads": 28, "num_key_value_heads": 3}}""",
        "speech_decoder.llm.qwen2.num_attention_heads (28) is not a multiple of num_key_value_heads (3)")]
    [InlineData("""{"qwen2": {"hidden_size": 21, "num_attention_heads": 7}}""", "speech_decoder.llm.qwen2.num_attention_heads gives head dimension 3")]
    [InlineData("""{"qwen2": {"hidden_act": "gelu"}}""", "speech_decoder.llm.qwen2.hidden_act is \"gelu\"; the engine runs Qwen2's \"silu\" MLP")]
    [InlineData("""{"qwen2": {"num_hidden_layers": 0}}""", "speech_decoder.llm.qwen2.num_hidden_layers must be at least 1, got 0")]
    [InlineData("""{"qwen2": {"rope_theta": -1}}""", "speech_decoder.llm.qwen2.rope_theta must be positive, got -1")]
    [InlineData("""{"qwen2": {"tie_word_embeddings": 1}}""", "speech_decoder.llm.qwen2.tie_word_embeddings must be true or false")]
    [InlineData("""{"qwen2": {"max_position_embeddings": 1e9}}""", "speech_decoder.llm.qwen2.max_position_embeddings must be at most 262144")]
    [InlineData("""{"llm_input_size": 512}""", "speech_decoder.llm.llm_input_size is 512, but qwen2.hidden_size is 896")]
    [InlineData("""{"llm_output_size": 512}""", "speech_decoder.llm.llm_output_size is 512, but qwen2.hidden_size is 896")]
    [InlineData("""{"speech_token_size": 0}""", "speech_decoder.llm.speech_token_size must be at least 1, got 0")]
    [InlineData("""{"text_chunk": 0}""", "speech_decoder.llm.text_chunk must be at least 1, got 0")]
    [InlineData("""{"text_chunk": 101}""", "speech_decoder.llm.text_chunk must be at most 100, got 101")]
    [InlineData("""{"audio_chunk": "25"}""", "speech_decoder.llm.audio_chunk must be an integer")]
    [InlineData("""{"ratio": 0}""", "speech_decoder.llm.ratio must be positive, got 0")]
    [InlineData("""{"ratio": 5000}""", "speech_decoder.llm.ratio is 5000, more than 4096")]
    [InlineData("""{"min_token_text_ratio": 3}""", "speech_decoder.llm.min_token_text_ratio is 3, but the authors' code fixes it at 2")]
    [InlineData("""{"max_token_text_ratio": 20}""", "speech_decoder.llm.max_token_text_ratio is 20, but the authors' code fixes it at 15")]
    [InlineData("""{"stream_text_limit": 50}""", "speech_decoder.llm.stream_text_limit is 50, but the authors' code fixes it at 100")]
    [InlineData("""{"sampling": {"name": "top_k_sampling"}}""", "speech_decoder.llm.sampling.name is \"top_k_sampling\"; the engine implements \"ras_sampling\"")]
    [InlineData("""{"sampling": {"max_trials": 100}}""", "speech_decoder.llm.sampling.max_trials is 100, but the authors' code fixes it at 50")]
    [InlineData("""{"sampling": {"top_p": 1.5}}""", "speech_decoder.llm.sampling.top_p is 1.5, more than 1")]
    [InlineData("""{"sampling": {"top_p": 0}}""", "speech_decoder.llm.sampling.top_p must be positive, got 0")]
    [InlineData("""{"sampling": {"top_k": 0}}""", "speech_decoder.llm.sampling.top_k must be at least 1, got 0")]
    [InlineData("""{"speech_token_size": 10, "sampling": {"top_k": 25}}""", "speech_decoder.llm.sampling.top_k is 25, more than the 13 ids llm_decoder scores")]
    [InlineData("""{"sampling": {"tau_r": -0.1}}""", "speech_decoder.llm.sampling.tau_r is -0.1, negative")]
    [InlineData("""{"sampling": {"win_size": -1}}""", "speech_decoder.llm.sampling.win_size must be at least 0, got -1")]
    [InlineData("""{"sampling": []}""", "speech_decoder.llm.sampling must be an object")]
    public void BadLlmValuesAreNamed(string section, string message)
    {
        var error = Assert.Throws<ConfigException>(() => ReadLlm(section));
        Assert.StartsWith("ellsa.json: " + message, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("""{"input": 4096}""", "speech_decoder.generator_proj.input is not a known key")]
    [InlineData("""{"input_size": 0}""", "speech_decoder.generator_proj.input_size must be at least 1, got 0")]
    [InlineData("""{"hidden_size": 1e7}""", "speech_decoder.generator_proj.hidden_size must be at most 262144")]
    [InlineData("""{"output_size": true}""", "speech_decoder.generator_proj.output_size must be an integer")]
    [InlineData("""{"layer_norm_eps": 0}""", "speech_decoder.generator_proj.layer_norm_eps must be positive, got 0")]
    public void BadProjectionValuesAreNamed(string section, string message)
    {
        var error = Assert.Throws<ConfigException>(() => ReadProjection(section));
        Assert.StartsWith("ellsa.json: " + message, error.Message);
    }

    [Fact]
    public void AProjectionThatDoesNotFeedTheLmIsRefused()
    {
        var error = Assert.Throws<ConfigException>(() => LlmConfig.Read(null, "ellsa.json").CheckProjection(ReadProjection("""{"output_size": 512}"""), "ellsa.json"));
        Assert.Equal("ellsa.json: speech_decoder.generator_proj.output_size (512) must equal speech_decoder.llm.llm_input_size (896): the projection's rows are the LM's text features",
            error.Message);
    }

    [Fact]
    public void AConfigTheTensorsContradictNamesTheFileAndTensor()
    {
        var (llm, projection) = SpeechLmGoldens.Configuration("small");
        using var tensors = SpeechOutGoldens.Weights("small");
        var backend = SharedBackends.Cpu;

        var error = Assert.Throws<CheckpointException>(() => SpeechLm.Load(tensors, llm with { Qwen2 = llm.Qwen2 with { IntermediateSize = 128 } }, backend, new WeightBindings()));
        Assert.Equal("speech_decoder.safetensors: tensor 'speech_expert.generator.llm.llm.model.model.layers.0.mlp.gate_proj.weight': has shape [160, 64], but the config implies [128, 64]",
            error.Message);
        error = Assert.Throws<CheckpointException>(() => SpeechLm.Load(tensors, llm with { SpeechTokenSize = 301 }, backend, new WeightBindings()));
        Assert.Equal("speech_decoder.safetensors: tensor 'speech_expert.generator.llm.speech_embedding.weight': has shape [303, 64], but the config implies [304, 64]",
            error.Message);
        error = Assert.Throws<CheckpointException>(() => SpeechLm.Load(tensors, llm with { Qwen2 = llm.Qwen2 with { Layers = 3 } }, backend, new WeightBindings()));
        Assert.StartsWith("speech_decoder.safetensors: tensor 'speech_expert.generator.llm.llm.model.model.layers.2.input_layernorm.weight': is missing", error.Message);
        error = Assert.Throws<CheckpointException>(() => GeneratorProjection.Load(tensors, projection with { InputSize = 4096 }, backend, new WeightBindings()));
        Assert.Equal("speech_decoder.safetensors: tensor 'speech_expert.generator_proj.0.weight': has shape [128, 96], but the config implies [128, 4096]",
            error.Message);
        error = Assert.Throws<CheckpointException>(() => SpeechLm.Load(tensors, llm, backend, new WeightBindings(), prefix: "speech_expert.generator.lm."));
        Assert.StartsWith("speech_decoder.safetensors: tensor 'speech_expert.generator.lm.llm_embedding.weight': is missing", error.Message);
    }

    [Fact]
    public void EveryTensorOfTheLmAndProjectionIsBoundOrDeclaredUnused()
    {
        foreach (string config in SpeechOutGoldens.Configs)
        {
            using var loaded = new SpeechLmGoldens.Loaded(config, SharedBackends.Cpu);
            var unused = loaded.Bindings.Unused(loaded.Tensors).Where(n => n.StartsWith("speech_expert.generator.llm.", StringComparison.Ordinal)
                                                                            || n.StartsWith("speech_expert.generator_proj.", StringComparison.Ordinal));
            Assert.Empty(unused);
            Assert.Contains(loaded.Bindings.All, b => b.Name == "speech_expert.generator.llm.llm.model.model.embed_tokens.weight" && b.Use == "unused by inference");
        }
    }

    [Fact]
    public void MisuseOfTheStreamIsRefused()
    {
        using var loaded = new SpeechLmGoldens.Loaded("small", SharedBackends.Cpu);
        using var stream = loaded.Stream();
        int width = loaded.Projection.Config.InputSize;
        Assert.Equal("95 hidden values are not 1 rows of generator_proj.input_size 96",
            Assert.Throws<ArgumentException>(() => stream.Feed(new float[95], 1)).Message);
        var rows = new float[3 * width];
        rows[width + 7] = float.PositiveInfinity;
        Assert.Equal("hidden row 1 holds Infinity at column 7; hidden rows must be finite",
            Assert.Throws<ArgumentException>(() => stream.Feed(rows, 3)).Message);
        Assert.Empty(stream.Features);
        rows[width + 7] = 0;
        stream.Feed(rows, 3);
        stream.Finish();
        Assert.Equal(SpeechLmState.Finished, stream.State);
        Assert.Throws<InvalidOperationException>(() => stream.Feed(rows, 3));
        Assert.Empty(stream.Finish());
        stream.Reset();
        Assert.Equal((SpeechLmState.Running, 0, 0), (stream.State, stream.Tokens.Count, stream.Features.Count));

        using var other = new SpeechLmGoldens.Loaded("wide", SharedBackends.Cpu);
        Assert.Contains("generator_proj gives 96 features per row, the speech LM takes llm_input_size 64",
            Assert.Throws<ArgumentException>(() => loaded.Lm.CreateStream(other.Projection, new SpeechLmOptions())).Message);
        stream.Feed(rows, 3);
        loaded.Lm.Dispose();
        Assert.Throws<ObjectDisposedException>(() => stream.Finish());
    }
}
