using Ellsa.Runtime.Configuration;

namespace Ellsa.Runtime.Duplex;

/// <summary>
/// Labels blocks with turn-taking events from what the model emitted (02-protocol.md §2): the model
/// has no turn controller, so silence, speech, end of turn and acting are read off its outputs.
/// </summary>
internal sealed class TurnTracker(SpecialTokens tokens)
{
    private const string RefusalPrefix = "Action cancelled.";
    private bool _turnOpen;
    private bool _refusalReported;
    private string _turnText = "";
    private bool _acting;

    public void Text(int[] ids, string text, List<BlockEvent> events)
    {
        bool silentStart = ids.Length > 0 && ids[0] == tokens.Silence;
        int words = ids.Count(id => id != tokens.Silence && id != tokens.Eot);
        int lastWord = Array.FindLastIndex(ids, id => id != tokens.Silence && id != tokens.Eot);
        bool silenceAfterWords = lastWord >= 0 && Array.IndexOf(ids, tokens.Silence, lastWord) > lastWord;

        if (silentStart)
            events.Add(new BlockEvent(BlockEventKind.Silent, ""));
        if (words > 0)
        {
            if (!_turnOpen)
            {
                _turnText = "";
                _refusalReported = false;
            }
            _turnOpen = true;
            _turnText += text;
            events.Add(new BlockEvent(BlockEventKind.Speaking, $"{words} token{(words == 1 ? "" : "s")}"));
            if (!_refusalReported && _turnText.TrimStart().StartsWith(RefusalPrefix, StringComparison.Ordinal))
            {
                _refusalReported = true;
                events.Add(new BlockEvent(BlockEventKind.Refusal, RefusalPrefix));
            }
        }
        if (_turnOpen && (silenceAfterWords || (silentStart && words == 0)))
        {
            _turnOpen = false;
            events.Add(new BlockEvent(BlockEventKind.EndOfTurn, _turnText.Trim()));
        }
    }

    /// <param name="motion">Whether the block's chunk differs from the no-op; null when that cannot be told.</param>
    public void Actions(bool? motion, List<BlockEvent> events)
    {
        if (motion is not { } moving || moving == _acting)
            return;
        _acting = moving;
        events.Add(new BlockEvent(moving ? BlockEventKind.ActingStarted : BlockEventKind.ActingStopped, ""));
    }
}
