using System.Diagnostics;

namespace Ellsa.Tests.Support;

/// <summary>Runs the ellsa CLI, in process (fast) or as a real child process (exact stderr and exit code).</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed);

    private static readonly object ConsoleGate = new();

    public static Result InProcess(params string[] args)
    {
        lock (ConsoleGate)
        {
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            var oldOut = Console.Out;
            var oldError = Console.Error;
            Console.SetOut(stdout);
            Console.SetError(stderr);
            var clock = Stopwatch.StartNew();
            try
            {
                int code = Ellsa.Cli.Program.Main(args);
                return new Result(code, stdout.ToString(), stderr.ToString(), clock.Elapsed);
            }
            finally
            {
                Console.SetOut(oldOut);
                Console.SetError(oldError);
            }
        }
    }

    public static Result Process(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ellsa.dll"));
        foreach (string arg in args)
            start.ArgumentList.Add(arg);
        var clock = Stopwatch.StartNew();
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return new Result(process.ExitCode, stdout.Result, stderr.Result, clock.Elapsed);
    }
}
