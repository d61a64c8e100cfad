namespace Ellsa.Runtime.Codecs.Text;

/// <summary>What HF's Split pre-tokenizer does with the text its pattern matches.</summary>
internal enum SplitBehavior
{
    Removed,
    Isolated,
    MergedWithPrevious,
    MergedWithNext,
    Contiguous,
}
