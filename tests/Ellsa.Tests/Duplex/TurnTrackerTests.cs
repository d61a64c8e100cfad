using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Duplex;

namespace Ellsa.Tests.Duplex;

public sealed class TurnTrackerTests
{
    private static readonly SpecialTokens Tokens = new() { Eot = 6, Silence = 7 };

    private static List<BlockEventKind> Text(TurnTracker tracker, string text, params int[] ids)
    {
        var events = new List<BlockEvent>();
        tracker.Text(ids, text, events);
        return events.Select(e => e.Kind).ToList();
    }

    [Fact]
    public void TurnsOpenWithWordsAndCloseWithSilence()
    {
        var tracker = new TurnTracker(Tokens);
        Assert.Equal([BlockEventKind.Silent], Text(tracker, "", 7, 6));
        Assert.Equal([BlockEventKind.Speaking], Text(tracker, "hello", 1, 2, 3, 6));
        Assert.Equal([BlockEventKind.Speaking, BlockEventKind.EndOfTurn], Text(tracker, " there", 4, 7, 6));
        Assert.Equal([BlockEventKind.Silent], Text(tracker, "", 7, 6));
        // A turn that ends exactly on a full chunk closes at the next silent block.
        Assert.Equal([BlockEventKind.Speaking], Text(tracker, "one", 1, 6));
        Assert.Equal([BlockEventKind.Silent, BlockEventKind.EndOfTurn], Text(tracker, "", 7, 6));
    }

    [Fact]
    public void RefusalsAreReportedOncePerTurn()
    {
        var tracker = new TurnTracker(Tokens);
        Assert.Contains(BlockEventKind.Refusal, Text(tracker, "Action cancelled.", 1, 2, 6));
        Assert.DoesNotContain(BlockEventKind.Refusal, Text(tracker, " I will stop.", 3, 7, 6));
        Assert.DoesNotContain(BlockEventKind.Refusal, Text(tracker, "Sure, moving.", 4, 6));
    }

    [Fact]
    public void ActingStartsAndStopsOnTransitionsOnly()
    {
        var tracker = new TurnTracker(Tokens);
        var events = new List<BlockEvent>();
        tracker.Actions(false, events);
        tracker.Actions(true, events);
        tracker.Actions(true, events);
        tracker.Actions(null, events);
        tracker.Actions(false, events);
        Assert.Equal([BlockEventKind.ActingStarted, BlockEventKind.ActingStopped], events.Select(e => e.Kind));
    }
}
