using Ellsa.Runtime.Weights;
using Spectre.Console;

namespace Ellsa.Cli.Infrastructure;

/// <summary>
/// Shows loading progress (bytes, tensors, time left) on a terminal, on stderr so stdout stays
/// clean; stays silent when stderr is redirected (scripts, CI).
/// </summary>
public sealed class LoadProgressDisplay(string verb = "loading") : IProgress<LoadProgress>
{
    private readonly bool _interactive = !Console.IsErrorRedirected;
    private readonly IAnsiConsole _console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
    private int _lastWidth;

    public void Report(LoadProgress value)
    {
        if (!_interactive)
            return;
        string remaining = value.Remaining is { } left ? $", {left.TotalSeconds:F0} s left" : "";
        string line = $"{verb} {Size(value.BytesDone)} of {Size(value.BytesTotal)}, {value.TensorsDone}/{value.TensorsTotal} tensors, {value.Elapsed.TotalSeconds:F1} s{remaining}";
        _console.Write(new Text("\r" + line.PadRight(_lastWidth)));
        _lastWidth = line.Length;
        if (value.BytesDone >= value.BytesTotal)
            _console.WriteLine();
    }

    private static string Size(long bytes) => bytes >= 1e9 ? $"{bytes / 1e9:F2} GB" : $"{bytes / 1e6:F1} MB";
}
