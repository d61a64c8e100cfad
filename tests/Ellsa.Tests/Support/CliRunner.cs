using System.Diagnostics;
using System.Text;

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

    public static Result Process(params string[] args) => Process(TimeSpan.FromMinutes(5), args);

    /// <summary>
    /// Runs the CLI as a child process; one still running after <paramref name="timeout"/> is killed and
    /// reported with exit code -1, so a case that would run for hours fails instead of hanging the suite.
    /// </summary>
    public static Result Process(TimeSpan timeout, params string[] args)
    {
        using var running = Start(args);
        return running.Wait(timeout);
    }

    /// <summary>Starts the CLI as a child process and collects its output as it comes (for signals, pipes).</summary>
    public static Running Start(params string[] args)
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
        return new Running(System.Diagnostics.Process.Start(start)!);
    }

    public sealed class Running : IDisposable
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly StringBuilder _stdout = new();
        private readonly StringBuilder _stderr = new();

        public Running(Process process)
        {
            Process = process;
            process.OutputDataReceived += (_, e) => Append(_stdout, e.Data);
            process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Process Process { get; }

        public string Stdout
        {
            get { lock (_stdout) return _stdout.ToString(); }
        }

        /// <summary>Waits until <paramref name="ready"/> holds for the stdout so far; false on timeout or exit.</summary>
        public bool WaitForStdout(Func<string, bool> ready, TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < timeout)
            {
                if (ready(Stdout))
                    return true;
                if (Process.HasExited)
                    return ready(Stdout);
                Thread.Sleep(20);
            }
            return false;
        }

        public Result Wait(TimeSpan timeout)
        {
            bool exited = Process.WaitForExit(timeout);
            if (!exited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit();
            }
            Process.WaitForExit(); // drains the asynchronous readers
            string stderr;
            lock (_stderr)
                stderr = _stderr.ToString();
            return new Result(exited ? Process.ExitCode : -1, Stdout, stderr, _clock.Elapsed);
        }

        private static void Append(StringBuilder builder, string? line)
        {
            if (line is null)
                return;
            lock (builder)
                builder.Append(line).Append('\n');
        }

        public void Dispose()
        {
            if (!Process.HasExited)
                Process.Kill(entireProcessTree: true);
            Process.Dispose();
        }
    }
}
