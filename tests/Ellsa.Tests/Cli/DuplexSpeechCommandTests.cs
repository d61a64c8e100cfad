using System.Text.Json;
using Ellsa.Runtime.Codecs.Speech;
using Ellsa.Runtime.Duplex;
using Ellsa.Tests.Duplex;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Cli;

/// <summary><c>ellsa duplex --speech-out</c>: the WAV holds the library session's speech, the timeline its speech counters.</summary>
public sealed class DuplexSpeechCommandTests : IClassFixture<SessionGoldenTests.TinySpeakingModel>
{
    private readonly Model _model;

    public DuplexSpeechCommandTests(SessionGoldenTests.TinySpeakingModel fixture) => _model = fixture.Model;

    private static string Session => Path.Combine(TestPaths.Root, "tests", "goldens", "sessions", "speech_14.session.json");

    [Fact]
    public void SpeechOutHoldsTheSessionsSpeech()
    {
        var script = SessionFile.Read(Session);
        float[] expected;
        List<BlockResult> results;
        using (var session = _model.CreateSession(new SessionOptions { Mode = script.Mode, Speak = new SpeakOptions { Greedy = true, Deterministic = true } }))
        {
            results = script.Blocks.Select(session.Step).ToList();
            expected = results.SelectMany(r => r.Speech).Concat(session.FinishSpeech()).ToArray();
        }
        Assert.NotEmpty(expected);

        using var temp = TestPaths.CreateTemp();
        var run = CliRunner.InProcess("duplex", "--model", TestPaths.Tiny, "--input", Session, "--output", temp.File("timeline.jsonl"),
            "--speech-out", temp.File("speech.wav"), "--greedy", "--deterministic");
        Assert.True(run.ExitCode == 0, run.Stderr);
        var wav = WavFile.Read(temp.File("speech.wav"));
        Assert.Equal(_model.Speaker!.SampleRate, wav.SampleRate);
        Assert.Equal(expected.Length, wav.Samples.Length);
        // 16-bit quantisation: written ×32767 and rounded, read ÷32768.
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(wav.Samples[i] - Math.Clamp(expected[i], -1f, 1f)) <= 1.5 / 32767, $"sample {i}: {wav.Samples[i]} vs {expected[i]}");
        Assert.Contains("speech:", run.Stdout);

        var lines = File.ReadAllLines(temp.File("timeline.jsonl"));
        for (int b = 0; b < lines.Length; b++)
        {
            using var line = JsonDocument.Parse(lines[b]);
            var counters = line.RootElement.GetProperty("counters");
            Assert.Equal(results[b].Counters.SpeechRows, counters.GetProperty("speech_rows").GetInt32());
            Assert.Equal(results[b].Speech.Length, counters.GetProperty("speech_samples").GetInt32());
            Assert.Equal(results[b].Speech.Length > 0, line.RootElement.GetProperty("stages").TryGetProperty("speech_first_packet_ms", out _));
        }
    }

    [Fact]
    public void SpeechOptionsAreCheckedWithOneErrorLine()
    {
        using var temp = TestPaths.CreateTemp();
        CliAssert.OneErrorLine(CliRunner.InProcess("duplex", "--model", TestPaths.Tiny, "--input", Session, "--output", temp.File("t.jsonl"),
            "--speech-out", temp.File("s.wav"), "--no-speech"), "both", "--speech-out", "--no-speech");
        CliAssert.OneErrorLine(CliRunner.InProcess("duplex", "--model", TestPaths.Tiny, "--input", Session, "--output", temp.File("t.jsonl"),
            "--speech-step", "1"), "step", "--speech-step 1", $"at least {_model.Speaker!.MinimumWindowStep} tokens");
        Assert.False(File.Exists(temp.File("s.wav")));
    }
}
