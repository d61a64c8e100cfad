using System.Runtime.InteropServices;

namespace Ellsa.Cli.Infrastructure;

/// <summary>
/// SIGINT and SIGTERM for a command with an output under way. Before <see cref="StopAtBoundaries"/>
/// (loading, setting up) a signal discards the unfinished output and the process ends as usual;
/// after it, the signal is only recorded, so the loop can finish its current block, keep every
/// finished one and stop (SIGKILL still ends the process at once).
/// </summary>
public sealed class Interruption : IDisposable
{
    private readonly PosixSignalRegistration[] _registrations;
    private readonly Action _discard;
    private volatile bool _stopAtBoundaries;
    private int _signal;

    public Interruption(Action discard)
    {
        _discard = discard;
        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle)];
    }

    /// <summary>The first signal received while stopping at boundaries, if any.</summary>
    public PosixSignal? Requested => Volatile.Read(ref _signal) switch
    {
        0 => null,
        var s => (PosixSignal)s,
    };

    /// <summary>The conventional exit status of a process ended by <see cref="Requested"/>: 128 + its number.</summary>
    public int ExitCode => Requested == PosixSignal.SIGINT ? 130 : 143;

    public void StopAtBoundaries() => _stopAtBoundaries = true;

    private void Handle(PosixSignalContext context)
    {
        if (!_stopAtBoundaries)
        {
            _discard();
            return;
        }
        context.Cancel = true;
        Interlocked.CompareExchange(ref _signal, (int)context.Signal, 0);
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
            registration.Dispose();
    }
}
