namespace Ellsa.Runtime.Duplex;

/// <summary>
/// Keeps a session's sequence within its context limit. When the next block (its prompt
/// sequence plus the decode budget) would not fit, the oldest history blocks are dropped until it
/// fits in three quarters of the limit, so trimming — which forces a re-prefill of everything after
/// the prompt — happens rarely. The prompt is never dropped; when acting, neither is the window
/// block. The same rule runs in parity and incremental mode, so both see the same history.
/// </summary>
internal sealed class ContextPolicy(int limit, int decodeBudget)
{
    public int Limit => limit;

    /// <returns>A description of the trim, or null when nothing was dropped.</returns>
    public string? Apply(List<BlockRecord> history, BlockRecord current, ReferenceLayout layout)
    {
        int needed = layout.Build(history, current).Count + decodeBudget;
        if (needed <= limit)
            return null;
        int before = needed;
        int lowWater = limit * 3 / 4;
        int keep = layout.Mode == SessionMode.Act ? 1 : 0;
        int dropped = 0;
        while (needed > lowWater && history.Count > keep)
        {
            history.RemoveAt(0);
            dropped++;
            needed = layout.Build(history, current).Count + decodeBudget;
        }
        if (needed > limit)
            throw new InvalidOperationException(
                $"block {current.Index} needs {needed} positions (prompt, the blocks that must stay, and {decodeBudget} for decoding) but the context limit is {limit}");
        return dropped == 0 ? null : $"dropped the {dropped} oldest block{(dropped == 1 ? "" : "s")}: {before} → {needed} positions (limit {limit})";
    }
}
