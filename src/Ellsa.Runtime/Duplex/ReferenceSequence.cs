using Ellsa.Runtime.Moe;

namespace Ellsa.Runtime.Duplex;

/// <summary>
/// A block's prompt sequence as positions, each with a key that identifies its content: the
/// token id, or (negative) the block and row of a spliced audio embedding. Equal keys at equal
/// positions mean equal cached K/V, which is what incremental decoding reuses.
/// </summary>
internal sealed class ReferenceSequence
{
    private readonly List<long> _keys = [];
    private readonly List<float[]?> _embeddings = [];

    public int Count => _keys.Count;
    public IReadOnlyList<long> Keys => _keys;
    /// <summary>Where the current block's own positions begin: everything before is prompt and history.</summary>
    public int CurrentStart { get; private set; }

    public void MarkCurrentStart() => CurrentStart = Count;

    public static long AudioKey(int block, int row) => -1 - (block * 64L + row);

    public void Id(int id)
    {
        _keys.Add(id);
        _embeddings.Add(null);
    }

    public void Ids(IEnumerable<int> ids)
    {
        foreach (int id in ids)
            Id(id);
    }

    public void Audio(int block, float[][] rows)
    {
        for (int r = 0; r < rows.Length; r++)
        {
            _keys.Add(AudioKey(block, r));
            _embeddings.Add(rows[r]);
        }
    }

    /// <summary>Positions [start, Count) as a batch to append.</summary>
    public TokenBatch Batch(int start) => Batch(start, Count);

    /// <summary>Positions [start, end) as a batch to append.</summary>
    public TokenBatch Batch(int start, int end)
    {
        var batch = new TokenBatch();
        for (int i = start; i < end; i++)
        {
            if (_embeddings[i] is { } row)
                batch.AddEmbedding(row);
            else
                batch.AddId((int)_keys[i]);
        }
        return batch;
    }
}
