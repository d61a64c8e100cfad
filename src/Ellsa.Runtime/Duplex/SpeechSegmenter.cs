using Ellsa.Runtime.Codecs.Text;
using Ellsa.Runtime.Configuration;

namespace Ellsa.Runtime.Duplex;

/// <summary>Where one block's speech rows go: the first <see cref="ToOpen"/> close out the open segment; when <see cref="Closes"/>, the rest start the next.</summary>
public readonly record struct SegmentCut(int ToOpen, bool Closes);

/// <summary>
/// Groups the blocks' speech rows into the segments the authors synthesise one by one, by the
/// evaluation wrapper's rule (ev/model_wrapper_emu.py:L874-907; acting blocks at L689-717): the first rows
/// open the first segment; afterwards a block whose rows would take the open segment past 20 and whose
/// text holds sentence punctuation closes the segment after the row at the last such token's index,
/// and the rest open the next one. Two quirks are kept as the wrapper has them: the index is counted in
/// the block's text after its last id is forced to eot and its silence and eot ids are dropped, yet it
/// cuts the rows (they drift apart when a silence id sits among the words); a block with no rows
/// changes nothing.
/// <para>
/// One is not kept: in acting blocks the wrapper searches the action ids for the punctuation (it
/// reuses the variable), so an acting session never splits and every row past the speech LM's
/// 100-row limit of its one segment is silently lost. Here acting blocks split on their text like
/// dialogue blocks.
/// </para>
/// </summary>
public sealed class SpeechSegmenter
{
    /// <summary>The wrapper's sentence ends, encoded without special tokens (ev/model_wrapper_emu.py:L880-882).</summary>
    public static readonly string[] SentenceEnds = ["。", "！", "？", ".", "!", "?", "\n", "*\n", "**\n", "\n\n", ".\n"];
    /// <summary>The open segment's row count a block must take past for its punctuation to split (ev/model_wrapper_emu.py:L899).</summary>
    public const int SplitAbove = 20;

    private readonly HashSet<int> _sentenceEndIds;
    private readonly int _eot;
    private readonly int _silence;
    private bool _open;
    private int _openRows;

    public SpeechSegmenter(IEnumerable<int> sentenceEndIds, SpecialTokens tokens)
    {
        _sentenceEndIds = [.. sentenceEndIds];
        _eot = tokens.Eot;
        _silence = tokens.Silence;
    }

    /// <summary>
    /// The ids of the sentence ends that encode to one id. The wrapper tokenises the eleven strings as
    /// one batch without padding, which only works when each is one id (as in Llama 3's vocabulary); a
    /// string the tokenizer splits is left out. No tokenizer: no sentence ends, so nothing ever splits.
    /// </summary>
    public static int[] SentenceEndIds(TextTokenizer? tokenizer) =>
        tokenizer is null ? [] : SentenceEnds.Select(tokenizer.Encode).Where(ids => ids.Length == 1).Select(ids => ids[0]).Distinct().ToArray();

    /// <summary>Rows of the open segment (0 before the first).</summary>
    public int OpenRows => _openRows;

    /// <summary>Places a block's <paramref name="rows"/> speech rows, given the block's generated text ids.</summary>
    public SegmentCut Add(ReadOnlySpan<int> text, int rows)
    {
        if (rows == 0)
            return new SegmentCut(0, false);
        if (!_open)
        {
            _open = true;
            _openRows = rows;
            return new SegmentCut(rows, false);
        }
        int split = LastSentenceEnd(text);
        if (_openRows + rows > SplitAbove && split >= 0)
        {
            int toOpen = Math.Min(split + 1, rows);
            _openRows = rows - toOpen;
            return new SegmentCut(toOpen, true);
        }
        _openRows += rows;
        return new SegmentCut(rows, false);
    }

    /// <summary>Forgets the open segment (it was finished elsewhere, e.g. at the end of a turn's speech).</summary>
    public void Reset()
    {
        _open = false;
        _openRows = 0;
    }

    /// <summary>The wrapper's split_idx: the last index of a sentence end in the text as it filters it; -1 when none.</summary>
    private int LastSentenceEnd(ReadOnlySpan<int> text)
    {
        int split = -1, index = 0;
        for (int i = 0; i < text.Length; i++)
        {
            // The wrapper forces the last id to eot before filtering (L874-875), so it never counts.
            int id = i == text.Length - 1 ? _eot : text[i];
            if (id == _eot || id == _silence)
                continue;
            if (_sentenceEndIds.Contains(id))
                split = index;
            index++;
        }
        return split;
    }
}
