using System.Text.Json.Nodes;
using Ellsa.Runtime.Checkpoints;
using Ellsa.Runtime.Codecs.SpeechOut;
using Ellsa.Runtime.Configuration;
using Ellsa.Tests.Support;
using Xunit;

namespace Ellsa.Tests.SpeechOut;

/// <summary>
/// Loading the speech decoder from a model directory: the goldens' directories and weights/tiny load
/// with every decoder tensor bound, IsPresent says which directories can speak, and a missing prompt
/// file, missing tensors, or a config that disagrees with the tensors or the prompt is one error
/// naming the file and the tensor or field.
/// </summary>
public sealed class SpeechSpeakerTests
{
    [Theory]
    [InlineData("small", 24000)]
    [InlineData("wide", 16000)]
    public void TheGoldensDirectoriesLoadWithEveryDecoderTensorBound(string config, int rate)
    {
        string directory = SpeechOutGoldens.ModelDirectory(config);
        Assert.True(SpeechSpeaker.IsPresent(directory));
        using var speaker = SpeechSpeaker.Load(directory, SharedBackends.Cpu);
        Assert.Equal(rate, speaker.SampleRate);
        Assert.Empty(speaker.UnusedTensors);
        Assert.Equal("speech_decoder.safetensors", speaker.Source);
        Assert.Contains(speaker.Bindings.All, b => b.Name.StartsWith("speech_expert.generator_proj.", StringComparison.Ordinal));
        foreach (string part in new[] { "llm", "flow", "hift" })
            Assert.Contains(speaker.Bindings.All, b => b.Name.StartsWith($"speech_expert.generator.{part}.", StringComparison.Ordinal));
        Assert.True(speaker.MinimumWindowStep > speaker.Config.Streaming.WindowLookahead);
    }

    [Fact]
    public void TheTinyModelSpeaksOneSecondPerTwentyFiveTokens()
    {
        Assert.True(SpeechSpeaker.IsPresent(TestPaths.Tiny));
        using var speaker = SpeechSpeaker.Load(TestPaths.Tiny, SharedBackends.Cpu);
        Assert.Empty(speaker.UnusedTensors);
        var tokens = Enumerable.Range(0, 25).Select(i => i * 7 % speaker.Config.Flow.VocabSize).ToArray();
        var result = speaker.Synthesize(tokens, HiftOptions.Deterministic);
        // Offline M = 2(Np + n) − Nf frames of 480 samples.
        int frames = 2 * (speaker.Prompt.Tokens.Length + tokens.Length) - speaker.Prompt.FeatFrames;
        Assert.Equal((frames, frames * 480), (result.MelFrames, result.Samples.Length));
        Assert.All(result.Samples, s => Assert.InRange(s, -0.99f, 0.99f));
        Assert.Contains(result.Samples, s => s != 0);
    }

    [Fact]
    public void DirectoriesWithoutTheDecoderOrItsPromptCannotSpeak()
    {
        using var temp = TestPaths.CreateTemp();
        Assert.False(SpeechSpeaker.IsPresent(temp.Path));
        File.CreateSymbolicLink(temp.File("speech_decoder.safetensors"), Path.Combine(SpeechOutGoldens.ModelDirectory("small"), "speech_decoder.safetensors"));
        Assert.False(SpeechSpeaker.IsPresent(temp.Path));
        File.CreateSymbolicLink(temp.File("speech_prompt.safetensors"), Path.Combine(SpeechOutGoldens.ModelDirectory("small"), "speech_prompt.safetensors"));
        Assert.True(SpeechSpeaker.IsPresent(temp.Path));
        // A model directory of another part (the speech encoder's goldens) holds no decoder.
        Assert.False(SpeechSpeaker.IsPresent(Path.Combine(TestPaths.Root, "tests", "goldens", "speech")));
    }

    [Fact]
    public void AMissingPromptFileIsNamed()
    {
        using var temp = Directory("small", section => section["prompt"] = "voice.safetensors");
        var error = Assert.Throws<CheckpointException>(() => SpeechSpeaker.Load(temp.Path, SharedBackends.Cpu));
        Assert.StartsWith("voice.safetensors: is missing from", error.Message);
        Assert.Contains("make_speech_prompt.py", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void MissingTensorsAreNamed()
    {
        // The prompt file as the component file: it holds none of the decoder's tensors.
        using var temp = Directory("small", section => section["weights"] = "speech_prompt.safetensors");
        var error = Assert.Throws<CheckpointException>(() => SpeechSpeaker.Load(temp.Path, SharedBackends.Cpu));
        Assert.Equal("speech_prompt.safetensors", error.File);
        Assert.Equal("speech_expert.generator_proj.0.weight", error.Tensor);
    }

    [Theory]
    [InlineData("hift", "base_channels", 64, "speech_decoder.safetensors", "speech_expert.generator.hift.")]
    [InlineData("flow", "spk_embed_dim", 96, "speech_prompt.safetensors", "embedding")]
    public void AConfigThatDisagreesWithTheTensorsIsNamed(string part, string key, int value, string file, string tensor)
    {
        using var temp = Directory("small", section => section[part]![key] = value);
        var error = Assert.Throws<CheckpointException>(() => SpeechSpeaker.Load(temp.Path, SharedBackends.Cpu));
        Assert.Equal(file, error.File);
        Assert.StartsWith(tensor, error.Tensor);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void ABadSectionIsNamedByItsPath()
    {
        using var temp = Directory("small", section => section["streaming"]!["window_lookahead"] = 2);
        var error = Assert.Throws<ConfigException>(() => SpeechSpeaker.Load(temp.Path, SharedBackends.Cpu));
        Assert.StartsWith("ellsa.json: speech_decoder.streaming.window_lookahead is 2", error.Message);
    }

    /// <summary>A directory with a config's two files (linked) and its ellsa.json changed by <paramref name="edit"/>.</summary>
    internal static TempDirectory Directory(string config, Action<JsonNode> edit)
    {
        var temp = TestPaths.CreateTemp();
        foreach (string file in new[] { "speech_decoder.safetensors", "speech_prompt.safetensors" })
            File.CreateSymbolicLink(temp.File(file), Path.Combine(SpeechOutGoldens.ModelDirectory(config), file));
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(SpeechOutGoldens.ModelDirectory(config), EllsaSettings.FileName)))!;
        edit(json["speech_decoder"]!);
        File.WriteAllText(temp.File(EllsaSettings.FileName), json.ToJsonString());
        return temp;
    }
}
