using Ellsa.Runtime.Configuration;

namespace Ellsa.Runtime.Duplex;

/// <summary>
/// Builds a block's sequence exactly as the reference wrapper does (02-protocol.md §1.3, §1.4;
/// W:493-626 and W:735-831):
/// <code>
/// speech: prompt · for each past block: bos A eos (boi eoi | VQA frame) bot TEXT boa NOOP eoa · bos A eos (boi eoi) bot
/// act:    prompt · for each block before the window: bos A eos bot TEXT
///                · the window block: bos A eos IMG IMG bot TEXT ACT · bos A eos IMG IMG bot
/// </code>
/// where A are the block's 5 audio rows, TEXT its answer with the last id forced to eot, ACT its
/// action ids verbatim and IMG a frame: boi, header, img, codes, eof, eoi.
/// </summary>
internal sealed class ReferenceLayout(SessionMode mode, SpecialTokens tokens, ImageSettings image, IReadOnlyList<int> prompt, IReadOnlyList<int> noOpActionIds)
{
    public SessionMode Mode => mode;
    public IReadOnlyList<int> Prompt => prompt;

    /// <summary>The sequence that block <paramref name="current"/> prefills, after <paramref name="history"/> (oldest first).</summary>
    public ReferenceSequence Build(IReadOnlyList<BlockRecord> history, BlockRecord current)
    {
        var sequence = new ReferenceSequence();
        sequence.Ids(prompt);
        if (mode == SessionMode.Speech)
        {
            foreach (var block in history)
            {
                Listen(sequence, block);
                SpeechImageSlot(sequence, block);
                sequence.Id(tokens.Bot);
                sequence.Ids(block.Text);
                sequence.Ids(noOpActionIds);
            }
            sequence.MarkCurrentStart();
            Listen(sequence, current);
            SpeechImageSlot(sequence, current);
        }
        else
        {
            for (int i = 0; i < history.Count; i++)
            {
                var block = history[i];
                Listen(sequence, block);
                bool window = i == history.Count - 1;
                if (window)
                    Frames(sequence, block);
                sequence.Id(tokens.Bot);
                sequence.Ids(block.Text);
                if (window)
                    sequence.Ids(block.Actions);
            }
            sequence.MarkCurrentStart();
            Listen(sequence, current);
            Frames(sequence, current);
        }
        sequence.Id(tokens.Bot);
        return sequence;
    }

    /// <summary>bos, the block's audio rows, speech eos: the audio slot (the k-th bos carries block k's rows).</summary>
    private void Listen(ReferenceSequence sequence, BlockRecord block)
    {
        sequence.Id(tokens.Bos);
        sequence.Audio(block.Index, block.Audio);
        sequence.Id(tokens.SpeechEos);
    }

    /// <summary>Speech dialogue has no camera: an empty pair, except a VQA image in its block.</summary>
    private void SpeechImageSlot(ReferenceSequence sequence, BlockRecord block)
    {
        if (block.Images.Length == 0)
        {
            sequence.Id(tokens.Boi);
            sequence.Id(tokens.Eoi);
        }
        else
        {
            Frames(sequence, block);
        }
    }

    private void Frames(ReferenceSequence sequence, BlockRecord block)
    {
        foreach (var codes in block.Images)
        {
            sequence.Id(tokens.Boi);
            sequence.Ids(image.HeaderIds);
            sequence.Id(tokens.Img);
            foreach (int code in codes)
                sequence.Id(tokens.VisualBase + code);
            sequence.Id(tokens.Eof);
            sequence.Id(tokens.Eoi);
        }
    }
}
