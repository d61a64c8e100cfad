using System.Text.Json;
using System.Text.Json.Nodes;
using Ellsa.Runtime.Codecs.Speech;
using Ellsa.Tests.Support;
using Ellsa.Tests.Vision;
using Xunit;

namespace Ellsa.Tests.SpeechOut;

/// <summary>
/// <c>ellsa speak</c> through the real process on the goldens' small model: tokens offline and through
/// the windowed loop, and hidden rows through generator_proj and the greedy LM, against the authors'
/// float64 run (tokens identical, first logits 1e-4, mel 1e-4, waveform 1e-3); the WAV holds the samples
/// as 16-bit PCM; and every kind of bad input is one error line naming the file or field.
/// </summary>
public sealed class SpeakCommandTests
{
    private static string Small => SpeechOutGoldens.ModelDirectory("small");

    private static string Json(TempDirectory temp, string name, object value)
    {
        File.WriteAllText(temp.File(name), JsonSerializer.Serialize(value));
        return temp.File(name);
    }

    private static float[] Floats(JsonElement array) => array.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    private static float[] Mel(JsonElement frames)
    {
        var rows = frames.EnumerateArray().Select(Floats).ToArray();
        return Enumerable.Range(0, 80).SelectMany(c => rows.Select(r => r[c])).ToArray();
    }

    [Fact]
    public void TokensGiveTheAuthorsMelAndWaveformAndTheWavHoldsThem()
    {
        using var temp = TestPaths.CreateTemp();
        using var goldens = SpeechOutGoldens.Goldens("small", "offline");
        var tokens = goldens.Ints("n16.tokens");
        var result = CliRunner.Process("speak", "--model", Small, "--tokens", Json(temp, "t.json", new { tokens }), "--output", temp.File("o.json"),
            "--wav", temp.File("o.wav"), "--deterministic", "--device", "cpu");
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = JsonDocument.Parse(File.ReadAllBytes(temp.File("o.json")));
        var root = json.RootElement;
        Assert.Equal(tokens, root.GetProperty("tokens").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Equal(24000, root.GetProperty("sample_rate").GetInt32());
        Assert.False(root.TryGetProperty("first_logits", out _));
        VisionGoldens.AssertClose("n16 mel", goldens.Floats("n16.mel"), Mel(root.GetProperty("mel")), 1e-4);
        var samples = Floats(root.GetProperty("samples"));
        VisionGoldens.AssertClose("n16 waveform", goldens.Floats("n16.wave"), samples, 1e-3);
        var wav = WavFile.Read(temp.File("o.wav"));
        Assert.Equal((24000, 1, samples.Length), (wav.SampleRate, wav.Channels, wav.Samples.Length));
        for (int i = 0; i < samples.Length; i++)
            Assert.InRange(wav.Samples[i] - samples[i], -1.6e-4f, 1.6e-4f);
    }

    [Fact]
    public void AStreamStepRunsTheAuthorsWindowedLoop()
    {
        using var temp = TestPaths.CreateTemp();
        using var goldens = SpeechOutGoldens.Goldens("small", "stream");
        var tokens = goldens.Ints("n53_step10.tokens");
        var result = CliRunner.Process("speak", "--model", Small, "--tokens", Json(temp, "t.json", new { tokens }), "--output", temp.File("o.json"),
            "--stream-step", "10", "--deterministic", "--device", "cpu");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("6 windows", result.Stderr);
        using var json = JsonDocument.Parse(File.ReadAllBytes(temp.File("o.json")));
        VisionGoldens.AssertClose("n53 step 10 waveform", goldens.Floats("n53_step10.wave"), Floats(json.RootElement.GetProperty("samples")), 1e-3);
    }

    [Fact]
    public void HiddenRowsGoThroughTheGreedySpeechLm()
    {
        using var temp = TestPaths.CreateTemp();
        using var lm = SpeechLmGoldens.Lm("small");
        int width = (int)lm.Shape("n3.hidden")[2];
        var values = lm.Floats("n3.hidden");
        var hidden = Enumerable.Range(0, values.Length / width).Select(r => values.AsSpan(r * width, width).ToArray()).ToArray();
        var result = CliRunner.Process("speak", "--model", Small, "--hidden", Json(temp, "h.json", new { hidden }), "--output", temp.File("o.json"),
            "--greedy", "--deterministic", "--device", "cpu");
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var json = JsonDocument.Parse(File.ReadAllBytes(temp.File("o.json")));
        var root = json.RootElement;
        Assert.Equal(lm.Ints("n3.tokens"), root.GetProperty("tokens").EnumerateArray().Select(v => v.GetInt32()));
        VisionGoldens.AssertClose("n3 first logits", lm.Floats("n3.first_logits"), Floats(root.GetProperty("first_logits")), 1e-4);
        VisionGoldens.AssertClose("e3 mel", lm.Floats("e3.mel"), Mel(root.GetProperty("mel")), 1e-4);
        VisionGoldens.AssertClose("e3 waveform", lm.Floats("e3.wave"), Floats(root.GetProperty("samples")), 1e-3);
    }

    public static TheoryData<string, string, string, string> BadInputs() => new()
    {
        { "malformed JSON", "t.json", """{"tokens": [1, 2,""", "not valid JSON" },
        { "token out of range", "t.json", """{"tokens": [1, 300, 2]}""", "tokens[1] is 300, outside the speech tokens 0…299" },
        { "negative token", "t.json", """{"tokens": [-1]}""", "tokens[0] is -1" },
        { "fractional token", "t.json", """{"tokens": [1.5]}""", "tokens[0] must be an integer" },
        { "no tokens", "t.json", """{"tokens": []}""", "tokens is empty" },
        { "unknown key", "t.json", """{"tokens": [1], "speed": 2}""", "speed is not a known key" },
        { "hidden row of the wrong width", "h.json", """{"hidden": [[0.5, 0.25]]}""", "hidden[0] has 2 values; generator_proj.input_size is 96" },
        { "hidden not finite", "h.json", """{"hidden": "none"}""", "hidden must be an array of rows" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadInputIsOneLineNamingTheFileAndField(string label, string file, string content, string problem)
    {
        using var temp = TestPaths.CreateTemp();
        File.WriteAllText(temp.File(file), content);
        var result = CliRunner.Process("speak", "--model", Small, file == "t.json" ? "--tokens" : "--hidden", temp.File(file),
            "--output", temp.File("o.json"), "--device", "cpu");
        CliAssert.OneErrorLine(result, label, file, problem);
        Assert.False(File.Exists(temp.File("o.json")));
    }

    [Fact]
    public void AModelThatDisagreesWithItsTensorsOrLacksItsPromptIsNamed()
    {
        using var temp = TestPaths.CreateTemp();
        string tokens = Json(temp, "t.json", new { tokens = new[] { 1, 2, 3, 4, 5 } });
        using (var model = SpeechSpeakerTests.Directory("small", section => section["flow"]!["encoder"]!["linear_units"] = 96))
        {
            var result = CliRunner.Process("speak", "--model", model.Path, "--tokens", tokens, "--output", temp.File("o.json"), "--device", "cpu");
            CliAssert.OneErrorLine(result, "config against tensors", "speech_decoder.safetensors", "speech_expert.generator.flow.encoder.");
        }
        using (var model = SpeechSpeakerTests.Directory("small", _ => { }))
        {
            File.Delete(Path.Combine(model.Path, "speech_prompt.safetensors"));
            var result = CliRunner.Process("speak", "--model", model.Path, "--tokens", tokens, "--output", temp.File("o.json"), "--device", "cpu");
            CliAssert.OneErrorLine(result, "no prompt", "speech_prompt.safetensors", "is missing");
        }
        using (var model = SpeechSpeakerTests.Directory("small", section => section["hift"]!["istft_params"]!["n_fft"] = 15))
        {
            var result = CliRunner.Process("speak", "--model", model.Path, "--tokens", tokens, "--output", temp.File("o.json"), "--device", "cpu");
            CliAssert.OneErrorLine(result, "bad config", "ellsa.json", "speech_decoder.hift.istft_params.n_fft is 15");
        }
    }

    [Fact]
    public void BadCommandLinesAreOneLine()
    {
        using var temp = TestPaths.CreateTemp();
        string tokens = Json(temp, "t.json", new { tokens = new[] { 1, 2, 3, 4, 5 } });
        var neither = CliRunner.Process("speak", "--model", Small, "--output", temp.File("o.json"));
        CliAssert.OneErrorLine(neither, "neither input", "--tokens", "--hidden");
        Assert.Equal(2, neither.ExitCode);
        var both = CliRunner.Process("speak", "--model", Small, "--tokens", tokens, "--hidden", tokens, "--output", temp.File("o.json"));
        CliAssert.OneErrorLine(both, "both inputs", "--tokens", "exactly one");
        var small = CliRunner.Process("speak", "--model", Small, "--tokens", tokens, "--output", temp.File("o.json"), "--stream-step", "3", "--device", "cpu");
        CliAssert.OneErrorLine(small, "step too small", "--stream-step 3", "fewer than");
        var help = CliRunner.Process("speak", "--help");
        Assert.Equal(0, help.ExitCode);
        foreach (string option in new[] { "--tokens", "--hidden", "--wav", "--stream-step", "--greedy", "--deterministic", "--seed", "Examples:" })
            Assert.Contains(option, help.Stdout);
    }
}

/// <summary><c>ellsa inspect</c> on weights/tiny lists the speech decoder's config, prompt and bindings.</summary>
public sealed class InspectSpeechDecoderTests
{
    [Fact]
    public void InspectShowsTheSpeechDecodersBindings()
    {
        var result = CliRunner.Process("inspect", "--model", TestPaths.Tiny);
        Assert.True(result.ExitCode == 0, result.Stderr);
        string text = result.Stdout[result.Stdout.IndexOf("speech decoder", StringComparison.Ordinal)..];
        Assert.StartsWith("speech decoder (speech_decoder.safetensors): generator_proj 64→64→32", text);
        Assert.Contains("prompt (speech_prompt.safetensors): 20 tokens, 39 mel frames", text);
        Assert.Contains("437 tensors bound", text);
        foreach (string module in new[] { "speech_expert.generator_proj.0.*", "speech_expert.generator.llm.llm_decoder.*",
                     "speech_expert.generator.flow.decoder.*", "speech_expert.generator.hift.conv_post.*" })
            Assert.Contains(module, text);
        Assert.Contains("unused: none", text);
    }
}
