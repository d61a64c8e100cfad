using System.Diagnostics;
using System.Text.Json;
using Ellsa.Cli.Infrastructure;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Cli;

/// <summary>
/// Issue 8 through the real `ellsa` process: where the output goes (item 3), bounded input (4),
/// bounded flags (5), signals during a duplex session (6) and the parse-error contract (10).
/// Cases that ran for hours or wrote 2 GB before the fix are killed after a timeout and fail.
/// </summary>
public sealed class CliHardeningTests
{
    private static readonly string Prompt = Path.Combine(TestPaths.TinyGoldens, "prompt_only.seq.json");
    private static readonly TimeSpan Quick = TimeSpan.FromSeconds(20);

    // ---- item 3: --output ----

    [Fact]
    public void ASymlinkedOutputKeepsTheLinkAndFillsItsTarget()
    {
        using var temp = TestPaths.CreateTemp();
        File.WriteAllText(temp.File("real.json"), "old");
        File.CreateSymbolicLink(temp.File("out.json"), temp.File("real.json"));
        var result = CliRunner.Process(Quick, "forward", "--model", TestPaths.Tiny, "--input", Prompt, "--output", temp.File("out.json"), "--device", "cpu");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.NotNull(new FileInfo(temp.File("out.json")).LinkTarget);
        using var json = JsonDocument.Parse(File.ReadAllText(temp.File("real.json")));
        Assert.Equal(12, json.RootElement.GetProperty("logits").GetArrayLength());
        AssertNoTemporaries(temp.Path);
    }

    [Fact]
    public void AFifoOutputIsWrittenThroughNotReplaced()
    {
        using var temp = TestPaths.CreateTemp();
        string fifo = temp.File("out.fifo");
        Assert.Equal(0, Run("mkfifo", fifo));
        string? received = null;
        var reader = new Thread(() => received = File.ReadAllText(fifo)) { IsBackground = true };
        reader.Start();
        var result = CliRunner.Process(Quick, "generate", "--model", TestPaths.Tiny, "--input", Prompt, "--output", fifo, "--device", "cpu");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.True(reader.Join(TimeSpan.FromSeconds(5)), "nothing was written into the FIFO");
        Assert.Equal(FileKind.Special, FileKinds.Of(fifo));
        using var json = JsonDocument.Parse(received!);
        Assert.True(json.RootElement.GetProperty("text_ids").GetArrayLength() > 0);
        AssertNoTemporaries(temp.Path);
    }

    [Fact]
    public void AnOutputUnderProcGoesToTheStreamItNames()
    {
        // /proc/self/fd/1 is this process's stdout, as /dev/stdout is: it cannot be renamed over.
        var result = CliRunner.Process(Quick, "generate", "--model", TestPaths.Tiny, "--input", Prompt, "--output", "/proc/self/fd/1", "--device", "cpu");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("\"action_ids\":[", result.Stdout);
    }

    [Fact]
    public void OutputEqualToInputIsRefusedAndTheInputKept()
    {
        using var temp = TestPaths.CreateTemp();
        File.Copy(Prompt, temp.File("seq.json"));
        Directory.CreateDirectory(temp.File("alias"));
        File.CreateSymbolicLink(temp.File("alias/seq.json"), temp.File("seq.json"));
        byte[] before = File.ReadAllBytes(temp.File("seq.json"));
        var result = CliRunner.Process(Quick, "forward", "--model", TestPaths.Tiny, "--input", temp.File("seq.json"), "--output", temp.File("alias/seq.json"));
        AssertOneLineError(result, 2, "--output", "same file as --input");
        Assert.Equal(before, File.ReadAllBytes(temp.File("seq.json")));
        AssertNoTemporaries(temp.Path);
    }

    [Fact]
    public void ADirectoryAsOutputIsRefusedBeforeTheRun()
    {
        using var temp = TestPaths.CreateTemp();
        var result = CliRunner.Process(Quick, "forward", "--model", TestPaths.Tiny, "--input", Prompt, "--output", temp.Path);
        AssertOneLineError(result, 2, "--output", "is a directory");
        Assert.DoesNotContain("device:", result.Stderr); // refused before the backend and the model
        AssertNoTemporaries(temp.Path);
    }

    [Fact]
    public void TwoRunsOnOneOutputBothSucceed()
    {
        using var temp = TestPaths.CreateTemp();
        for (int round = 0; round < 3; round++)
        {
            string[] args = ["forward", "--model", TestPaths.Tiny, "--input", Prompt, "--output", temp.File("out.json"), "--device", "cpu", "--threads", "1"];
            using var first = CliRunner.Start(args);
            using var second = CliRunner.Start(args);
            var results = new[] { first.Wait(Quick), second.Wait(Quick) };
            Assert.All(results, r => Assert.True(r.ExitCode == 0, $"round {round}: {r.Stderr}"));
            using var json = JsonDocument.Parse(File.ReadAllText(temp.File("out.json")));
            Assert.Equal(12, json.RootElement.GetProperty("logits").GetArrayLength());
            AssertNoTemporaries(temp.Path);
        }
    }

    // ---- item 4: bounded input ----

    [Fact]
    public void ASequenceLongerThanThePositionsIsRefusedQuickly()
    {
        using var temp = TestPaths.CreateTemp();
        File.WriteAllText(temp.File("seq.json"), "{\"segments\": [{\"ids\": [" + string.Join(",", Enumerable.Repeat("1", 2_000_000)) + "]}]}");
        var result = CliRunner.Process(Quick, "forward", "--model", TestPaths.Tiny, "--input", temp.File("seq.json"), "--output", temp.File("out.json"));
        AssertOneLineError(result, 1, "seq.json", "2000000 positions; max_position_embeddings is 8192");
        Assert.False(File.Exists(temp.File("out.json")));
        AssertNoTemporaries(temp.Path);
    }

    [Fact]
    public void AnOversizedOrEndlessInputStopsAtItsBound()
    {
        using var temp = TestPaths.CreateTemp();
        using (var file = File.Create(temp.File("seq.json")))
        {
            file.Write("{\"segments\": [{\"ids\": [1]}]"u8);
            var spaces = new byte[30 << 20];
            Array.Fill(spaces, (byte)' ');
            file.Write(spaces);
            file.Write("}"u8);
        }
        var result = CliRunner.Process(Quick, "forward", "--model", TestPaths.Tiny, "--input", temp.File("seq.json"), "--output", temp.File("out.json"));
        AssertOneLineError(result, 1, "seq.json", "over the 21 MB bound");

        result = CliRunner.Process(Quick, "forward", "--model", TestPaths.Tiny, "--input", "/dev/zero", "--output", temp.File("out.json"));
        AssertOneLineError(result, 1, "zero", "not valid JSON");
        AssertNoTemporaries(temp.Path);
    }

    [Fact]
    public void ABadRowFailsWhileTheInputIsStillStreaming()
    {
        // The rest of the file never arrives: a reader that parses only after the end would wait forever.
        using var temp = TestPaths.CreateTemp();
        string fifo = temp.File("seq.fifo");
        Assert.Equal(0, Run("mkfifo", fifo));
        using var stop = new CancellationTokenSource();
        var writer = new Thread(() =>
        {
            try
            {
                using var pipe = new FileStream(fifo, FileMode.Open, FileAccess.Write);
                pipe.Write("{\"segments\": [{\"ids\": [300]}, {\"embeddings\": [[0.5, 1.0], "u8);
                pipe.Flush();
                stop.Token.WaitHandle.WaitOne(Quick);
            }
            catch (IOException)
            {
                // the reader closed its end first
            }
        }) { IsBackground = true };
        writer.Start();
        var result = CliRunner.Process(Quick, "forward", "--model", TestPaths.Tiny, "--input", fifo, "--output", temp.File("out.json"));
        stop.Cancel();
        writer.Join(TimeSpan.FromSeconds(5));
        AssertOneLineError(result, 1, "seq.fifo", "segments[1].embeddings[0] has 2 values; hidden_size is 64");
    }

    [Fact]
    public void SessionRowsAreCheckedAgainstTheModelWhileParsing()
    {
        using var temp = TestPaths.CreateTemp();
        File.WriteAllText(temp.File("session.json"), """{"mode": "speech", "blocks": [{"audio_embeddings": [[0.1, 0.2, 0.3]]}]}""");
        var result = CliRunner.Process(Quick, "duplex", "--model", TestPaths.Tiny, "--input", temp.File("session.json"), "--output", temp.File("t.jsonl"));
        AssertOneLineError(result, 1, "session.json", "blocks[0].audio_embeddings[0] has 3 values; hidden_size is 64");
        Assert.DoesNotContain("device:", result.Stderr); // before the model is loaded
        Assert.False(File.Exists(temp.File("t.jsonl")));
        AssertNoTemporaries(temp.Path);
    }

    // ---- item 5: flags ----

    [Theory]
    [InlineData("--max-text", "1000000000", "--max-text 1000000000: must be 1…4096")]
    [InlineData("--max-action", "1000000000", "--max-action 1000000000: must be 1…4096")]
    [InlineData("--max-action", "0", "--max-action 0: must be 1…4096")]
    public void DecodeBudgetsAreBounded(string flag, string value, string message)
    {
        using var temp = TestPaths.CreateTemp();
        var result = CliRunner.Process(Quick, "generate", "--model", TestPaths.Tiny, "--input", Prompt, "--output", temp.File("out.json"), flag, value);
        AssertOneLineError(result, 2, flag, message);
    }

    [Fact]
    public void ADecodeBudgetPastThePositionsIsRefused()
    {
        using var temp = TestPaths.CreateTemp();
        File.WriteAllText(temp.File("seq.json"), "{\"segments\": [{\"ids\": [300, " + string.Join(",", Enumerable.Repeat("5", 8100)) + "]}]}");
        var result = CliRunner.Process(Quick, "generate", "--model", TestPaths.Tiny, "--input", temp.File("seq.json"), "--output", temp.File("out.json"), "--max-text", "100");
        AssertOneLineError(result, 2, "--max-text 100", "8101 positions and up to 140 decoded ones exceed max_position_embeddings 8192");
    }

    [Fact]
    public void AContextLimitPastThePositionsIsRefused()
    {
        using var temp = TestPaths.CreateTemp();
        var result = CliRunner.Process(Quick, "duplex", "--model", TestPaths.Tiny, "--input", Path.Combine(TestPaths.Root, "tests", "goldens", "sessions", "speech_14.session.json"),
            "--output", temp.File("t.jsonl"), "--context-limit", "3000000");
        AssertOneLineError(result, 2, "--context-limit 3000000", "16…8192 (max_position_embeddings)");
        Assert.False(File.Exists(temp.File("t.jsonl")));
    }

    [Fact]
    public void ThreadsBeyondTheProcessorsAreCappedWithANote()
    {
        using var temp = TestPaths.CreateTemp();
        var result = CliRunner.Process(Quick, "generate", "--model", TestPaths.Tiny, "--input", Prompt, "--output", temp.File("out.json"), "--device", "cpu", "--threads", "2147483647");
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains($"note: --threads 2147483647 capped at {Environment.ProcessorCount}, the processor count", result.Stderr);
        Assert.Contains($"{Environment.ProcessorCount} threads", result.Stderr);
    }

    // ---- item 6: signals ----

    /// <summary>Whether this process ignores signal <paramref name="number"/> (Linux: /proc/self/status SigIgn).</summary>
    private static bool InheritsIgnored(int number)
    {
        if (!File.Exists("/proc/self/status"))
            return false;
        string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & (1UL << (number - 1))) != 0;
    }

    [Theory]
    [InlineData("TERM", 143)]
    [InlineData("INT", 130)]
    public void ASignalStopsDuplexAtABlockBoundaryAndKeepsEveryFinishedBlock(string signal, int exitCode)
    {
        // A test run started from a backgrounded shell (`cmd &`) ignores SIGINT, and an ignored signal
        // stays ignored in every child (POSIX): no process under it can be interrupted by SIGINT.
        if (signal == "INT" && InheritsIgnored(2))
            return;
        using var temp = TestPaths.CreateTemp();
        var session = JsonNodeOf(Path.Combine(TestPaths.Root, "tests", "goldens", "sessions", "speech_14.session.json"));
        var blocks = session["blocks"]!.AsArray();
        var many = new System.Text.Json.Nodes.JsonArray();
        for (int b = 0; b < 400; b++)
            many.Add(blocks[b % blocks.Count]!.DeepClone());
        session["blocks"] = many;
        File.WriteAllText(temp.File("session.json"), session.ToJsonString());

        using var running = CliRunner.Start("duplex", "--model", TestPaths.Tiny, "--input", temp.File("session.json"), "--output", temp.File("timeline.jsonl"), "--device", "cpu");
        Assert.True(running.WaitForStdout(s => s.Contains("block   2 "), TimeSpan.FromSeconds(60)), "no block finished:\n" + running.Stdout);
        Assert.Equal(0, Run("kill", "-s", signal, running.Process.Id.ToString()));
        var result = running.Wait(TimeSpan.FromSeconds(60));

        // The whole output on failure: an exit status alone does not say which path the process took.
        Assert.True(exitCode == result.ExitCode,
            $"exit {result.ExitCode}, not {exitCode}, {result.Elapsed.TotalSeconds:F1} s\nstderr:\n{result.Stderr}\nstdout (tail):\n{result.Stdout[Math.Max(0, result.Stdout.Length - 2000)..]}");
        var errors = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("error:")).ToArray();
        Assert.Single(errors);
        var lines = File.ReadAllLines(temp.File("timeline.jsonl"));
        Assert.InRange(lines.Length, 3, 399);
        Assert.Equal($"error: interrupted by SIG{signal} after {lines.Length} of 400 blocks; timeline.jsonl has {lines.Length} lines", errors[0]);
        for (int b = 0; b < lines.Length; b++)
        {
            using var line = JsonDocument.Parse(lines[b]);
            Assert.Equal(b, line.RootElement.GetProperty("block").GetInt32());
        }
        AssertNoTemporaries(temp.Path);
    }

    // ---- item 10: parse errors and unknown keys ----

    [Theory]
    [InlineData("Option '--input' is required", "forward", "--model", "weights/tiny")]
    [InlineData("Cannot parse argument 'many' for option '--threads'", "forward", "--model", "m", "--input", "i", "--output", "o", "--threads", "many")]
    [InlineData("Unrecognized command or argument 'bogus'", "bogus", "--help")]
    [InlineData("Unrecognized command or argument 'bogus'", "fast", "bogus", "--help")]
    public void ParseErrorsAreOneErrorLineWithExitTwo(string message, params string[] args)
    {
        var result = CliRunner.Process(Quick, args);
        AssertOneLineError(result, 2, message, "--help");
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public void HelpStillWorks()
    {
        var result = CliRunner.Process(Quick, "duplex", "--help");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("--context-limit", result.Stdout);
    }

    [Fact]
    public void UnknownKeysInASequenceFileAreRefused()
    {
        using var temp = TestPaths.CreateTemp();
        File.WriteAllText(temp.File("seq.json"), """{"segments": [{"ids": [300, 5]}], "sesion": {}}""");
        var result = CliRunner.Process(Quick, "forward", "--model", TestPaths.Tiny, "--input", temp.File("seq.json"), "--output", temp.File("out.json"));
        AssertOneLineError(result, 1, "seq.json", "unknown field \"sesion\"");
    }

    private static System.Text.Json.Nodes.JsonObject JsonNodeOf(string path) =>
        System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();

    private static int Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { UseShellExecute = false };
        foreach (string arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        process.WaitForExit();
        return process.ExitCode;
    }

    private static void AssertNoTemporaries(string directory) =>
        Assert.Empty(Directory.GetFiles(directory, "*.partial", SearchOption.AllDirectories));

    private static void AssertOneLineError(CliRunner.Result result, int exitCode, string subject, string problem)
    {
        Assert.True(result.ExitCode == exitCode, $"exit {result.ExitCode}, expected {exitCode}:\n{result.Stderr}");
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("device:")).ToArray();
        Assert.True(lines.Length == 1, $"expected one error line, got:\n{result.Stderr}");
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(subject, lines[0]);
        Assert.Contains(problem, lines[0]);
        Assert.DoesNotContain(" at ", result.Stderr);
        // A child process pays the runtime's start (about 0.2 s, more on a busy machine); the work itself must be quick.
        Assert.True(result.Elapsed < TimeSpan.FromSeconds(5), $"took {result.Elapsed}");
    }
}
