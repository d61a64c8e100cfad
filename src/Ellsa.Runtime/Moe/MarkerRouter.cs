using Ellsa.Runtime.Configuration;

namespace Ellsa.Runtime.Moe;

/// <summary>
/// SA-MoE's routing rule (01-model.md §1.2): a position belongs to the expert of the most recent
/// marker at or before it — bos and bot open speech, boi and boa open vision — and positions
/// before any marker are speech. Embedding rows are never markers.
/// </summary>
public sealed class MarkerRouter(SpecialTokens tokens)
{
    public Expert? ExpertOpenedBy(int id)
    {
        if (id == tokens.Bos || id == tokens.Bot)
            return Expert.Speech;
        if (id == tokens.Boi || id == tokens.Boa)
            return Expert.Vision;
        return null;
    }

    /// <summary>The expert of a position whose id is <paramref name="id"/> (or -1 for an embedding row) after <paramref name="current"/>.</summary>
    public Expert Route(int id, Expert current) => id >= 0 && ExpertOpenedBy(id) is { } opened ? opened : current;

    /// <summary>The expert of every position of a batch appended after a position whose routing state is <paramref name="current"/>.</summary>
    public Expert[] RouteAll(TokenBatch batch, Expert current = Expert.Speech)
    {
        var experts = new Expert[batch.Count];
        for (int i = 0; i < batch.Count; i++)
        {
            current = Route(batch.IsEmbedding(i) ? -1 : batch.Id(i), current);
            experts[i] = current;
        }
        return experts;
    }
}
