namespace Ellsa.Runtime.Moe;

/// <summary>Receives the logits of every appended position, in position order.</summary>
public interface ILogitsSink
{
    /// <param name="position">The absolute position in the sequence.</param>
    /// <param name="expert">The index of the expert the position was routed to (SA-MoE: <see cref="Expert"/>); its head produced the logits.</param>
    void Accept(int position, int expert, ReadOnlySpan<float> logits);
}
