using System.Text.Json;
using Ellsa.Runtime.Codecs.SpeechOut;
using Ellsa.Runtime.Configuration;
using Ellsa.Tests.Support;
using Xunit;

namespace Ellsa.Tests.SpeechOut;

/// <summary>
/// ellsa.json's top-level "speech_decoder" section as one config: the release's values when absent,
/// the goldens' and weights/tiny's sections read through the parts' readers, ellsa.json with the
/// section accepted by the settings' known sections, and every bad key refused as one line naming
/// ellsa.json and its dotted path.
/// </summary>
public sealed class SpeechDecoderConfigTests
{
    private static SpeechDecoderConfig Read(string sectionJson)
    {
        using var document = JsonDocument.Parse($$$"""{"speech_decoder": {{{sectionJson}}}}""");
        var root = new JsonSection("ellsa.json", "", document.RootElement);
        return SpeechDecoderConfig.Read(root.Section(SpeechDecoderConfig.SectionName), "ellsa.json");
    }

    [Fact]
    public void NoSectionIsTheRelease()
    {
        foreach (var config in new[] { SpeechDecoderConfig.Read(null, "ellsa.json"), Read("{}") })
        {
            Assert.Equal(("speech_decoder.safetensors", "speech_prompt.safetensors"), (config.WeightsFile, config.PromptFile));
            Assert.Equal((4096, 2048, 896), (config.GeneratorProj.InputSize, config.GeneratorProj.HiddenSize, config.GeneratorProj.OutputSize));
            Assert.Equal((896, 6561, 24), (config.Llm.LlmInputSize, config.Llm.SpeechTokenSize, config.Llm.Qwen2.Layers));
            Assert.Equal((512, 6561), (config.Flow.InputSize, config.Flow.VocabSize));
            Assert.Equal((512, 480), (config.Hift.BaseChannels, config.Hift.SamplesPerFrame));
            Assert.Equal((8, 3840, 5000, 3), (config.Streaming.MelCacheLen, config.Streaming.SourceCacheLen, config.Streaming.WindowStep,
                config.Streaming.WindowLookahead));
        }
    }

    [Theory]
    [InlineData("small", 96, 300, 48, 8, 3840)]
    [InlineData("wide", 128, 512, 96, 6, 1920)]
    public void TheGoldensSectionsAreReadAsWritten(string name, int projectionInput, int vocab, int hiftChannels, int melCache, int sourceCache)
    {
        var config = SpeechDecoderConfig.ReadDirectory(SpeechOutGoldens.ModelDirectory(name));
        Assert.Equal((melCache, sourceCache), (config.Streaming.MelCacheLen, config.Streaming.SourceCacheLen));
        Assert.Equal(SpeechOutGoldens.FlowConfig(name).Encoder, config.Flow.Encoder);
        Assert.Equal(SpeechOutGoldens.HiftConfig(name).SamplesPerFrame, config.Hift.SamplesPerFrame);
        Assert.Equal((projectionInput, vocab, hiftChannels), (config.GeneratorProj.InputSize, config.Flow.VocabSize, config.Hift.BaseChannels));
    }

    [Fact]
    public void TheTinyModelsSectionIsAKnownSectionOfEllsaJson()
    {
        string tiny = Path.Combine(TestPaths.Root, "weights", "tiny");
        Assert.True(EllsaSettings.Load(tiny).FromFile);
        var config = SpeechDecoderConfig.ReadDirectory(tiny);
        Assert.Equal((64, 32, 96), (config.GeneratorProj.InputSize, config.Llm.LlmInputSize, config.Flow.VocabSize));
    }

    [Fact]
    public void AMissingFileIsTheRelease() =>
        Assert.Equal(6561, SpeechDecoderConfig.ReadDirectory(Path.Combine(TestPaths.Root, "tests")).Flow.VocabSize);

    [Theory]
    [InlineData("""{"weight": "a.safetensors"}""", "speech_decoder.weight is not a known key of speech_decoder")]
    [InlineData("""{"weights": "../other.safetensors"}""", "speech_decoder.weights is \"../other.safetensors\"; give a file name in the model directory")]
    [InlineData("""{"prompt": 3}""", "speech_decoder.prompt must be a string")]
    [InlineData("""{"prompt": ""}""", "speech_decoder.prompt is \"\"")]
    [InlineData("""{"streaming": {"window_lookahead": 4}}""", "speech_decoder.streaming.window_lookahead is 4, but the authors' code fixes it at 3")]
    [InlineData("""{"streaming": {"mel_cache": 8}}""", "speech_decoder.streaming.mel_cache is not a known key")]
    [InlineData("""{"streaming": {"window_step": 0}}""", "speech_decoder.streaming.window_step must be at least 1, got 0")]
    [InlineData("""{"streaming": {"source_cache_len": "3840"}}""", "speech_decoder.streaming.source_cache_len must be an integer")]
    [InlineData("""{"streaming": []}""", "speech_decoder.streaming must be an object")]
    [InlineData("""{"llm": {"qwen2": {"hidden_size": 0}}}""", "speech_decoder.llm.qwen2.hidden_size")]
    [InlineData("""{"flow": {"encoder": {"output_size": "x"}}}""", "speech_decoder.flow.encoder.output_size must be an integer")]
    [InlineData("""{"hift": {"upsample_rate": [8]}}""", "speech_decoder.hift.upsample_rate is not a known key")]
    [InlineData("""{"generator_proj": {"output_size": 64}}""", "speech_decoder.generator_proj.output_size (64) must equal speech_decoder.llm.llm_input_size (896)")]
    [InlineData("""{"llm": {"speech_token_size": 300}}""", "speech_decoder.llm.speech_token_size (300) must equal speech_decoder.flow.vocab_size (6561)")]
    [InlineData("""{"hift": {"in_channels": 64, "f0_predictor": {"in_channels": 64}}}""", "speech_decoder.hift.in_channels is 64, but the flow gives 80 mel channels")]
    public void BadKeysAreNamedByTheirPath(string section, string message)
    {
        var error = Assert.Throws<ConfigException>(() => Read(section));
        Assert.StartsWith("ellsa.json: ", error.Message);
        Assert.Contains(message, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }
}
