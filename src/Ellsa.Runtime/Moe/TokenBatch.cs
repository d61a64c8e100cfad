namespace Ellsa.Runtime.Moe;

/// <summary>
/// Positions to append to a sequence, in order: token ids and spliced embedding rows (the
/// speech encoder's output) interleaved. Routing is not decided here; the sequence state
/// applies the marker rule as it appends.
/// </summary>
public sealed class TokenBatch
{
    /// <summary>Marks an embedding row in <see cref="_ids"/>.</summary>
    private const int EmbeddingMarker = -1;

    private readonly List<int> _ids = [];
    private readonly List<float[]> _embeddings = [];
    private readonly List<int> _embeddingOf = [];

    public int Count => _ids.Count;

    public bool IsEmbedding(int position) => _ids[position] == EmbeddingMarker;

    /// <summary>The token id at a position (only for non-embedding positions).</summary>
    public int Id(int position) => _ids[position];

    public ReadOnlySpan<float> Embedding(int position) => _embeddings[_embeddingOf[position]];

    public TokenBatch AddId(int id)
    {
        if (id < 0)
            throw new ArgumentException($"position {Count}: token id {id} is negative; token ids are 0 or more");
        _ids.Add(id);
        _embeddingOf.Add(-1);
        return this;
    }

    public TokenBatch AddIds(IEnumerable<int> ids)
    {
        foreach (int id in ids)
            AddId(id);
        return this;
    }

    public TokenBatch AddEmbedding(float[] row)
    {
        _ids.Add(EmbeddingMarker);
        _embeddingOf.Add(_embeddings.Count);
        _embeddings.Add(row);
        return this;
    }

    public TokenBatch AddEmbeddings(IEnumerable<float[]> rows)
    {
        foreach (var row in rows)
            AddEmbedding(row);
        return this;
    }

    public TokenBatch Append(TokenBatch other)
    {
        for (int i = 0; i < other.Count; i++)
        {
            if (other.IsEmbedding(i))
                AddEmbedding(other._embeddings[other._embeddingOf[i]]);
            else
                AddId(other.Id(i));
        }
        return this;
    }

    /// <summary>Describes a position for error messages: "position 12 (id 151852)".</summary>
    public string Describe(int position) =>
        IsEmbedding(position) ? $"position {position} (embedding row)" : $"position {position} (id {Id(position)})";
}
