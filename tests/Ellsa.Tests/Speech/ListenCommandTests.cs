using System.Text.Json;
using Ellsa.Tests.Support;
using Xunit;

namespace Ellsa.Tests.Speech;

/// <summary>
/// <c>ellsa listen</c> and <c>ellsa duplex --audio</c> through the real process: embeddings as the
/// authors' encoder gives them (the speech goldens) from a directory holding only
/// speech_encoder.safetensors and ellsa.json, streaming equal to offline, and one error line for
/// every kind of bad input.
/// </summary>
public sealed class ListenCommandTests
{
    private static string FloatWav(string directory, string name, float[] samples, int rate = 16000)
    {
        string path = Path.Combine(directory, name);
        File.WriteAllBytes(path, TestWav.Riff(("fmt ", TestWav.Fmt(TestWav.Float, 1, rate, 32)),
            ("data", TestWav.Samples(true, 32, samples.Select(v => (double)v).ToArray()))));
        return path;
    }

    private static float[][] Rows(JsonElement matrix) =>
        matrix.EnumerateArray().Select(row => row.EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray();

    [Theory]
    [InlineData("small", "speech_prompt")]
    [InlineData("wide", "clipping_1p5s")]
    public void EmbeddingsAndFbankAreTheAuthorsAndStreamingEqualsOffline(string config, string clip)
    {
        using var temp = TestPaths.CreateTemp();
        using var clips = SpeechGoldens.Clips();
        using var outputs = SpeechGoldens.Outputs(config);
        string wav = FloatWav(temp.Path, "clip.wav", clips.Floats(clip + ".pcm"));
        var offline = CliRunner.Process("listen", "--model", SpeechGoldens.ModelDirectory(config), "--audio", wav, "--output", temp.File("offline.json"),
            "--fbank", "--device", "cpu");
        Assert.True(offline.ExitCode == 0, offline.Stderr);
        using var json = JsonDocument.Parse(File.ReadAllBytes(temp.File("offline.json")));
        var root = json.RootElement;
        Assert.Equal(clips.Shape(clip + ".pcm")[0], root.GetProperty("samples").GetInt64());
        Assert.Equal(clips.Shape(clip + ".fbank")[0], root.GetProperty("fbank_frames").GetInt64());
        Assert.Equal(outputs.Shape(clip + ".encoder")[0], root.GetProperty("encoder_frames").GetInt64());
        var embeddings = Rows(root.GetProperty("embeddings"));
        Assert.Equal(outputs.Shape(clip + ".embeddings")[0], embeddings.Length);
        Vision.VisionGoldens.AssertClose($"{config} {clip} embeddings", outputs.Floats(clip + ".embeddings"), embeddings.SelectMany(r => r).ToArray(), 1e-3);
        Vision.VisionGoldens.AssertClose($"{clip} fbank", clips.Floats(clip + ".fbank"), Rows(root.GetProperty("fbank")).SelectMany(r => r).ToArray(), 1e-4);

        int slice = new Random().Next(7, 700);
        var streamed = CliRunner.Process("listen", "--model", SpeechGoldens.ModelDirectory(config), "--audio", wav, "--output", temp.File("streamed.json"),
            "--streaming", "--slice-ms", slice.ToString(), "--device", "cpu");
        Assert.True(streamed.ExitCode == 0, streamed.Stderr);
        using var streamedJson = JsonDocument.Parse(File.ReadAllBytes(temp.File("streamed.json")));
        Assert.Equal(root.GetProperty("encoder_frames").GetInt32(), streamedJson.RootElement.GetProperty("encoder_frames").GetInt32());
        Vision.VisionGoldens.AssertClose($"streamed in {slice} ms slices", embeddings.SelectMany(r => r).ToArray(),
            Rows(streamedJson.RootElement.GetProperty("embeddings")).SelectMany(r => r).ToArray(), 1e-5);
    }

    [Fact]
    public void OtherRatesAreResampledAndTheGpuKernelsAgree()
    {
        using var temp = TestPaths.CreateTemp();
        using var clips = SpeechGoldens.Clips();
        var pcm = clips.Floats("odd_6500.pcm");
        string wav = FloatWav(temp.Path, "clip.wav", pcm);
        var cpu = CliRunner.Process("listen", "--model", SpeechGoldens.ModelDirectory("small"), "--audio", wav, "--output", temp.File("cpu.json"), "--device", "cpu");
        // The simulator runs every GPU thread on the CPU: minutes on a busy machine, so it gets a generous bound.
        var gpu = CliRunner.Process(TimeSpan.FromMinutes(20), "listen", "--model", SpeechGoldens.ModelDirectory("small"), "--audio", wav, "--output", temp.File("gpu.json"), "--device", "ilgpu-cpu");
        Assert.True(cpu.ExitCode == 0 && gpu.ExitCode == 0, cpu.Stderr + gpu.Stderr);
        using var a = JsonDocument.Parse(File.ReadAllBytes(temp.File("cpu.json")));
        using var b = JsonDocument.Parse(File.ReadAllBytes(temp.File("gpu.json")));
        Vision.VisionGoldens.AssertClose("ilgpu-cpu embeddings", Rows(a.RootElement.GetProperty("embeddings")).SelectMany(r => r).ToArray(),
            Rows(b.RootElement.GetProperty("embeddings")).SelectMany(r => r).ToArray(), 1e-3);

        // 8 kHz is taken to 16 kHz as torchaudio's resample does, with a note.
        string low = FloatWav(temp.Path, "low.wav", pcm.Where((_, i) => i % 2 == 0).ToArray(), 8000);
        var resampled = CliRunner.Process("listen", "--model", SpeechGoldens.ModelDirectory("small"), "--audio", low, "--output", temp.File("low.json"), "--device", "cpu");
        Assert.True(resampled.ExitCode == 0, resampled.Stderr);
        Assert.Contains("resampled to 16000 Hz", resampled.Stderr);
        using var c = JsonDocument.Parse(File.ReadAllBytes(temp.File("low.json")));
        Assert.Equal((pcm.Length + 1) / 2 * 2, c.RootElement.GetProperty("samples").GetInt32());
    }

    public static TheoryData<string, Func<byte[]>, string> BadAudio() => new()
    {
        { "not a WAV", () => "hello, this is text, not audio at all"u8.ToArray(), "audio.wav" },
        { "truncated", () => TestWav.Riff(("fmt ", TestWav.Fmt(TestWav.Pcm, 1, 16000, 16)), ("data", new byte[32000]))[..20000], "truncated" },
        { "A-law", () => TestWav.Riff(("fmt ", TestWav.Fmt(TestWav.ALaw, 1, 16000, 8)), ("data", new byte[16000])), "A-law" },
        { "empty", () => TestWav.Riff(("fmt ", TestWav.Fmt(TestWav.Pcm, 1, 16000, 16)), ("data", [])), "audio.wav" },
        { "too short for one encoder frame", () => TestWav.Riff(("fmt ", TestWav.Fmt(TestWav.Pcm, 1, 16000, 16)), ("data", new byte[2 * 1359])), "at least 1360 samples" },
    };

    [Theory]
    [MemberData(nameof(BadAudio))]
    public void BadAudioEndsWithOneLineNamingTheFile(string label, Func<byte[]> bytes, string problem)
    {
        using var temp = TestPaths.CreateTemp();
        File.WriteAllBytes(temp.File("audio.wav"), bytes());
        var result = CliRunner.Process("listen", "--model", SpeechGoldens.ModelDirectory("small"), "--audio", temp.File("audio.wav"),
            "--output", temp.File("out.json"), "--device", "cpu");
        CliAssert.OneErrorLine(result, label, "audio.wav", problem);
        Assert.False(File.Exists(temp.File("out.json")));
    }

    [Fact]
    public void AModelThatCannotListenOrDisagreesWithItsTensorsIsNamed()
    {
        using var temp = TestPaths.CreateTemp();
        using var clips = SpeechGoldens.Clips();
        string wav = FloatWav(temp.Path, "clip.wav", clips.Floats("odd_6500.pcm"));

        var none = CliRunner.Process("listen", "--model", temp.Path, "--audio", wav, "--output", temp.File("o.json"), "--device", "cpu");
        CliAssert.OneErrorLine(none, "no speech encoder", temp.Path.TrimEnd('/'), "speech_encoder.safetensors");

        string model = Directory.CreateDirectory(temp.File("model")).FullName;
        File.Copy(Path.Combine(SpeechGoldens.ModelDirectory("small"), "speech_encoder.safetensors"), Path.Combine(model, "speech_encoder.safetensors"));
        File.WriteAllText(Path.Combine(model, "ellsa.json"), File.ReadAllText(Path.Combine(SpeechGoldens.ModelDirectory("wide"), "ellsa.json")));
        var disagrees = CliRunner.Process("listen", "--model", model, "--audio", wav, "--output", temp.File("o.json"), "--device", "cpu");
        CliAssert.OneErrorLine(disagrees, "wide config on small tensors", "speech_encoder.safetensors", "speech_expert.speechencoder.");

        File.WriteAllText(Path.Combine(model, "ellsa.json"), """{"speech_encoder": {"chunk_size": 8, "chunk_sise": 4}}""");
        var typo = CliRunner.Process("listen", "--model", model, "--audio", wav, "--output", temp.File("o.json"), "--device", "cpu");
        CliAssert.OneErrorLine(typo, "unknown key", "ellsa.json", "chunk_sise");
    }

    [Fact]
    public void DuplexHearsAWavFileBlockByBlock()
    {
        using var temp = TestPaths.CreateTemp();
        using var clips = SpeechGoldens.Clips();
        var pcm = clips.Floats("speech_prompt.pcm");
        string wav = FloatWav(temp.Path, "question.wav", pcm);
        var result = CliRunner.Process("duplex", "--model", TestPaths.Tiny, "--audio", wav, "--output", temp.File("timeline.jsonl"), "--device", "cpu");
        Assert.True(result.ExitCode == 0, result.Stderr);
        var lines = File.ReadAllLines(temp.File("timeline.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        int blocks = (pcm.Length + 15999) / 16000;
        Assert.Equal(blocks, lines.Length);
        // Each block waited for the encoder's lookahead past its end (257.5, 217.5, … ms), until the file ended.
        Assert.Equal(257.5, lines[0].GetProperty("counters").GetProperty("audio_lookahead_ms").GetDouble(), 6);
        Assert.Equal(16000 + 4120, lines[0].GetProperty("counters").GetProperty("audio_samples").GetInt64());
        Assert.All(lines, l => Assert.True(l.GetProperty("stages").GetProperty("fbank_ms").GetDouble() >= 0));

        // With a session file, its blocks give images only; audio embeddings there are refused, naming the field.
        File.WriteAllText(temp.File("session.json"), """{"mode": "speech", "blocks": [{"audio_embeddings": [[0]], "images": []}]}""");
        var both = CliRunner.Process("duplex", "--model", TestPaths.Tiny, "--input", temp.File("session.json"), "--audio", wav, "--output", temp.File("t2.jsonl"), "--device", "cpu");
        CliAssert.OneErrorLine(both, "audio twice", "blocks[0].audio_embeddings", "comes from the audio file");
    }
}
