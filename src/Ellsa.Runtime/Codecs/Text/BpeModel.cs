using System.Text;

namespace Ellsa.Runtime.Codecs.Text;

/// <summary>
/// HF's BPE model on one pre-tokenised piece. Merging follows HF's <c>Word::merge_all</c>
/// exactly: a priority queue of (merge rank, left position), stale entries skipped when the pair
/// at that position no longer yields the same token, new neighbour pairs queued after each merge.
/// (The textbook "merge every occurrence of the best pair" loop agrees on trained merge lists but
/// not on every hand-made one, so the queue is kept.)
/// </summary>
internal sealed class BpeModel
{
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> vocabBySpan;
    private readonly Dictionary<int, int> codePointIds;
    private readonly Dictionary<long, (int Rank, int NewId)> merges;
    private readonly bool ignoreMerges;
    private readonly int unknownId;
    private readonly bool fuseUnknown;

    [ThreadStatic] private static MergeScratch? scratch;

    public BpeModel(Dictionary<string, int> vocab, Dictionary<long, (int Rank, int NewId)> merges,
        bool ignoreMerges, int unknownId, bool fuseUnknown)
    {
        vocabBySpan = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        this.merges = merges;
        this.ignoreMerges = ignoreMerges;
        this.unknownId = unknownId;
        this.fuseUnknown = fuseUnknown;
        codePointIds = new Dictionary<int, int>();
        foreach (var (token, id) in vocab)
        {
            if (Rune.TryGetRuneAt(token, 0, out var rune) && rune.Utf16SequenceLength == token.Length)
            {
                codePointIds[rune.Value] = id;
            }
        }
    }

    public bool TryGetId(string token, out int id) => vocabBySpan.TryGetValue(token.AsSpan(), out id);

    public static long PairKey(int left, int right) => ((long)left << 32) | (uint)right;

    public void Tokenize(string piece, List<int> output)
    {
        // ignore_merges (Llama-3): a piece that is itself a vocabulary entry is that one token,
        // even when the merge list would split it differently.
        if (ignoreMerges && vocabBySpan.TryGetValue(piece.AsSpan(), out int whole))
        {
            output.Add(whole);
            return;
        }
        var s = scratch ??= new MergeScratch();
        s.Reset(piece.Length);
        BuildSymbols(piece, s);
        MergeAll(s);
        for (int i = 0; i < s.Count; i++)
        {
            if (s.Length[i] != 0)
            {
                output.Add(s.Id[i]);
            }
        }
    }

    private void BuildSymbols(string piece, MergeScratch s)
    {
        bool previousUnknown = false;
        for (int i = 0; i < piece.Length;)
        {
            Rune.DecodeFromUtf16(piece.AsSpan(i), out var rune, out int used);
            i += used;
            if (codePointIds.TryGetValue(rune.Value, out int id))
            {
                s.Add(id);
                previousUnknown = false;
            }
            else if (unknownId >= 0)
            {
                // HF: an unknown character becomes unk_token; with fuse_unk a run of them is one.
                if (!(fuseUnknown && previousUnknown))
                {
                    s.Add(unknownId);
                }
                previousUnknown = true;
            }
            // HF drops a character it cannot represent when there is no unk_token and no
            // byte fallback; with a complete 256-symbol byte alphabet this cannot happen.
        }
    }

    private void MergeAll(MergeScratch s)
    {
        var queue = s.Queue;
        for (int i = 0; i + 1 < s.Count; i++)
        {
            if (merges.TryGetValue(PairKey(s.Id[i], s.Id[i + 1]), out var m))
            {
                queue.Enqueue((i, m.NewId), Priority(m.Rank, i));
            }
        }
        while (queue.TryDequeue(out var top, out _))
        {
            int pos = top.Pos;
            if (s.Length[pos] == 0 || s.Next[pos] == -1)
            {
                continue;
            }
            int right = s.Next[pos];
            if (!merges.TryGetValue(PairKey(s.Id[pos], s.Id[right]), out var current)
                || current.NewId != top.NewId)
            {
                continue;
            }
            s.Id[pos] = top.NewId;
            s.Length[pos] += s.Length[right];
            s.Next[pos] = s.Next[right];
            s.Length[right] = 0;
            if (s.Next[pos] >= 0)
            {
                s.Prev[s.Next[pos]] = pos;
            }
            int prev = s.Prev[pos];
            if (prev >= 0 && merges.TryGetValue(PairKey(s.Id[prev], s.Id[pos]), out var left))
            {
                queue.Enqueue((prev, left.NewId), Priority(left.Rank, prev));
            }
            int next = s.Next[pos];
            if (next >= 0 && merges.TryGetValue(PairKey(s.Id[pos], s.Id[next]), out var after))
            {
                queue.Enqueue((pos, after.NewId), Priority(after.Rank, pos));
            }
        }
    }

    private static long Priority(int rank, int pos) => ((long)rank << 32) | (uint)pos;

    /// <summary>Per-thread symbol list of the piece being merged (doubly linked by index).</summary>
    private sealed class MergeScratch
    {
        public int[] Id = new int[64];
        public int[] Prev = new int[64];
        public int[] Next = new int[64];
        public int[] Length = new int[64];
        public int Count;
        public readonly PriorityQueue<(int Pos, int NewId), long> Queue = new();

        public void Reset(int capacity)
        {
            if (Id.Length < capacity)
            {
                int size = Math.Max(capacity, Id.Length * 2);
                Id = new int[size];
                Prev = new int[size];
                Next = new int[size];
                Length = new int[size];
            }
            Count = 0;
            Queue.Clear();
        }

        public void Add(int id)
        {
            Id[Count] = id;
            Prev[Count] = Count - 1;
            Next[Count] = -1;
            Length[Count] = 1;
            if (Count > 0)
            {
                Next[Count - 1] = Count;
            }
            Count++;
        }
    }
}
