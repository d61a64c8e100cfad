namespace Ellsa.Runtime.Codecs.Text;

/// <summary>
/// One step of HF pre-tokenisation: it turns the pieces produced so far into finer pieces (and
/// ByteLevel rewrites them into byte symbols). Empty pieces are dropped, as HF drops empty splits.
/// </summary>
internal abstract class PreTokenizer
{
    public abstract List<string> Apply(List<string> pieces);
}

internal sealed class SequencePreTokenizer(PreTokenizer[] steps) : PreTokenizer
{
    public override List<string> Apply(List<string> pieces)
    {
        foreach (var step in steps)
        {
            pieces = step.Apply(pieces);
        }
        return pieces;
    }
}
