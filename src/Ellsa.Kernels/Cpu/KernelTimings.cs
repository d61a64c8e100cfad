using System.Diagnostics;

namespace Ellsa.Kernels.Cpu;

/// <summary>
/// Where a CPU step's time goes: wall time per kind of kernel (each projection by its matrix's
/// role, attention, norms, RoPE, …) and the time the calling thread waited for the workers to
/// finish their chunks (the synchronisation at the end of every parallel kernel). Collected only
/// while attached to <see cref="CpuBackend.Timings"/>; detached, the backend pays one null test
/// per kernel. Not thread-safe: the backend serialises its operations.
/// </summary>
public sealed class KernelTimings
{
    private readonly Dictionary<string, Entry> _entries = new();

    public sealed class Entry(string name)
    {
        public string Name { get; } = name;
        public long Ticks { get; internal set; }
        public long Calls { get; internal set; }
        public double Milliseconds => Ticks * 1e3 / Stopwatch.Frequency;
    }

    /// <summary>Parallel dispatches (runs of more than one chunk on the pool).</summary>
    public long Dispatches { get; internal set; }
    /// <summary>Ticks the caller spent waiting, after its own chunks, for chunks other threads still ran.</summary>
    public long WaitTicks { get; internal set; }
    public double WaitMilliseconds => WaitTicks * 1e3 / Stopwatch.Frequency;

    public IEnumerable<Entry> Entries => _entries.Values.OrderByDescending(e => e.Ticks);

    public void Reset()
    {
        _entries.Clear();
        Dispatches = 0;
        WaitTicks = 0;
    }

    /// <summary>Charges the time since <paramref name="startTimestamp"/> (a <see cref="Stopwatch.GetTimestamp"/>) to <paramref name="kind"/>.</summary>
    public void Add(string kind, long startTimestamp)
    {
        long elapsed = Stopwatch.GetTimestamp() - startTimestamp;
        if (!_entries.TryGetValue(kind, out var entry))
            _entries[kind] = entry = new Entry(kind);
        entry.Ticks += elapsed;
        entry.Calls++;
    }
}
