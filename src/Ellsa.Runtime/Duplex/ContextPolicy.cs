namespace Ellsa.Runtime.Duplex;

/// <summary>
/// Keeps a session's sequence within its context limit. When the next block (its prompt
/// sequence plus the decode budget) would pass <c>trimAt</c> × the limit, the oldest history
/// blocks are dropped until it fits in <c>trimTo</c> × the limit. A trim forces a re-prefill of
/// everything after the prompt, so by default (1 and 3/4) it happens rarely and drops much; a
/// controller that cannot afford one long block sets the two close together and below 1, and
/// trims often and little. The prompt is never dropped; when acting, neither is the window block.
/// The same rule runs in parity and incremental mode, so both see the same history, and what is
/// kept is always laid out exactly as the reference lays it out.
/// </summary>
internal sealed class ContextPolicy
{
    public const double DefaultTrimAt = 1.0;
    public const double DefaultTrimTo = 0.75;

    private readonly int _decodeBudget;
    private readonly int _highWater;
    private readonly int _lowWater;

    public ContextPolicy(int limit, int decodeBudget, double trimAt = DefaultTrimAt, double trimTo = DefaultTrimTo)
    {
        Limit = limit;
        _decodeBudget = decodeBudget;
        // Floors keep the defaults' integer arithmetic (limit, limit * 3 / 4) exactly.
        _highWater = (int)Math.Floor(limit * trimAt);
        _lowWater = (int)Math.Floor(limit * trimTo);
    }

    public int Limit { get; }

    /// <returns>A description of the trim, or null when nothing was dropped.</returns>
    public string? Apply(List<BlockRecord> history, BlockRecord current, ReferenceLayout layout)
    {
        int needed = layout.Build(history, current).Count + _decodeBudget;
        if (needed <= _highWater)
            return null;
        int before = needed;
        int keep = layout.Mode == SessionMode.Act ? 1 : 0;
        int dropped = 0;
        while (needed > _lowWater && history.Count > keep)
        {
            history.RemoveAt(0);
            dropped++;
            needed = layout.Build(history, current).Count + _decodeBudget;
        }
        if (needed > Limit)
            throw new InvalidOperationException(
                $"block {current.Index} needs {needed} positions (prompt, the blocks that must stay, and {_decodeBudget} for decoding) but the context limit is {Limit}");
        return dropped == 0 ? null : $"dropped the {dropped} oldest block{(dropped == 1 ? "" : "s")}: {before} → {needed} positions (limit {Limit})";
    }
}
