using Ellsa.Kernels.Backend;

namespace Ellsa.Runtime.Moe;

/// <summary>
/// One sequence on a model of N experts (<see cref="IExpertModel"/>: SA-MoE's two, the speech-token
/// LM's one): the shared KV cache, its position counter and the routing state. Prefill
/// (<see cref="Append"/>) and single-token decode (<see cref="Step(int, int)"/>) write the same
/// cache, so prefilling a prefix and decoding the rest equals prefilling everything.
///
/// Within a forward pass the rows are grouped by expert (expert 0's ids, its embeddings, expert
/// 1's ids, …) so each expert runs its projections once over a contiguous block; every row
/// carries its own position, which is all RoPE, the cache and the causal mask need.
/// <see cref="Step(int, int)"/> allocates nothing. Experts are named by index; for SA-MoE the
/// index is <see cref="Expert"/>, and <see cref="SaMoeSequence"/> takes that enum.
/// </summary>
public sealed class SequenceState : IDisposable
{
    private readonly IExpertModel _model;
    private readonly ExpertWeights[] _experts;
    private readonly IComputeBackend _backend;
    private readonly ForwardWorkspace _ws;
    private readonly DeviceRopeTable[] _rope;
    private readonly IdRange[][] _fullVocabulary;
    private readonly int[] _expertAt;
    private readonly int[] _routingAfter;
    private readonly int[] _groupStart;
    private readonly int[] _groupIds;
    private readonly int[] _groupRows;
    private float[] _logitStaging = [];
    private readonly int[] _expertOfChunk;
    private int _routing;
    private int _lastRow = -1;
    private int _disposed;

    internal SequenceState(IExpertModel model, int capacity, int chunkRows)
    {
        if (capacity < 1)
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "a sequence needs room for at least one position");
        _model = model;
        _experts = model.Experts.ToArray();
        _backend = model.Backend;
        var config = _experts[0].Config;
        foreach (var expert in _experts)
        {
            var c = expert.Config;
            if (c.HiddenSize != config.HiddenSize || c.Layers != config.Layers || c.Heads != config.Heads || c.KvHeads != config.KvHeads || c.HeadDim != config.HeadDim)
                throw new ArgumentException($"the {expert.Name} expert's attention geometry differs from the {_experts[0].Name} expert's; experts share one attention and KV cache");
        }
        Cache = _backend.AllocateKvCache(config.Layers, config.KvHeads, config.HeadDim, capacity);
        _ws = new ForwardWorkspace(_backend, _experts, Math.Max(1, Math.Min(chunkRows, capacity)));
        _rope = _experts.Select(e => _backend.CreateRopeTable(e.RopeFrequencies, capacity)).ToArray();
        _fullVocabulary = _experts.Select(e => new[] { new IdRange(0, e.HeadSize - 1) }).ToArray();
        _groupStart = new int[_experts.Length];
        _groupIds = new int[_experts.Length];
        _groupRows = new int[_experts.Length];
        _expertAt = new int[capacity];
        _routingAfter = new int[capacity];
        _expertOfChunk = new int[_ws.Rows];
    }

    public DeviceKvCache Cache { get; }
    public int Capacity => Cache.Capacity;
    /// <summary>Positions held in the cache.</summary>
    public int Length { get; private set; }
    /// <summary>The expert of the last appended position (0 before any).</summary>
    public int LastExpert => Length == 0 ? 0 : _expertAt[Length - 1];
    /// <summary>The expert routing assigns to the next appended non-marker position.</summary>
    public int Routing => _routing;

    /// <summary>Prefills positions Length… with the batch, routing each by the model's rule.</summary>
    public void Append(TokenBatch batch, ILogitsSink? sink = null)
    {
        int count = batch.Count;
        if (count == 0)
            return;
        _model.ThrowIfDisposed();
        EnsureRoom(count);
        var experts = Route(batch);
        int chunk = sink is null ? _ws.Rows : _ws.LogitRows;
        for (int start = 0; start < count; start += chunk)
        {
            int n = Math.Min(chunk, count - start);
            Layout(batch, experts, start, n);
            UploadInputs(batch, n);
            RunLayers(n);
            if (sink is not null)
            {
                experts.AsSpan(start, n).CopyTo(_expertOfChunk);
                EmitLogits(start, n, sink);
            }
            for (int r = 0; r < n; r++)
            {
                if (_ws.RowSource[r] == start + n - 1)
                    _lastRow = r;
            }
            for (int i = start; i < start + n; i++)
            {
                _expertAt[Length] = experts[i];
                _routing = _model.Route(batch.IsEmbedding(i) ? -1 : batch.Id(i), _routing);
                _routingAfter[Length] = _routing;
                Length++;
            }
        }
    }

    /// <summary>Decodes one token routed explicitly to <paramref name="expert"/> (01-model.md §1.2: decode tokens are not marker-routed).</summary>
    public void Step(int id, int expert)
    {
        _model.ThrowIfDisposed();
        EnsureRoom(1);
        var weights = _experts[expert];
        if ((uint)id >= (uint)weights.VocabSize)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"token id {id} is outside the {weights.Name} vocabulary ({weights.VocabSize} ids)");
        _ws.HostIds[0] = id;
        _ws.HostPositions[0] = Length;
        _backend.Upload(_ws.HostIds.AsSpan(0, 1), _ws.Ids, 0);
        _backend.Upload(_ws.HostPositions.AsSpan(0, 1), _ws.Positions, 0);
        _backend.Embed(weights.Embedding, _ws.Ids, 0, _ws.X.RowRange(0, 1));
        for (int e = 0; e < _groupRows.Length; e++)
            _groupRows[e] = e == expert ? 1 : 0;
        _groupStart[expert] = 0;
        RunLayers(1);
        _lastRow = 0;
        _expertAt[Length] = expert;
        _routing = _model.Route(id, _routing);
        _routingAfter[Length] = _routing;
        Length++;
    }

    /// <summary>
    /// Greedy choice from the last position: its routed expert's final norm, then
    /// <paramref name="head"/>'s projection, restricted to <paramref name="allowed"/> (all ids when empty).
    /// </summary>
    /// <exception cref="NonFiniteException">The chosen logit is NaN or infinite: the hidden state overflowed, and any id would be garbage.</exception>
    public int ArgMax(int head, ReadOnlySpan<IdRange> allowed = default)
    {
        // The head's product and the choice in one backend call: the CPU streams the head's rows
        // once and picks the winner per row chunk while the logits are in cache.
        var normed = NormLastRow();
        var weights = _experts[head];
        var logits = new TensorSlice(_ws.Logits, 0, 1, 0, weights.HeadSize);
        int id = _backend.MatMulArgMax(weights.Head, normed, logits, weights.HeadBias, allowed.IsEmpty ? _fullVocabulary[head] : allowed);
        // A non-finite hidden row makes every logit NaN, so the winner's value alone tells: one
        // float back to the host per token, no allocation.
        Span<float> chosen = stackalloc float[1];
        _backend.Download(new TensorSlice(_ws.Logits, 0, 1, id, 1), chosen);
        if (!float.IsFinite(chosen[0]))
            throw new NonFiniteException(
                $"position {Length - 1}: the {_experts[head].Name} head's best logit (id {id}) is {chosen[0]}; the hidden state is not finite (do the checkpoint's weights overflow, e.g. through ellsa.json lora.alpha?)");
        return id;
    }

    /// <summary>The last position's logits under <paramref name="head"/>, copied to the host.</summary>
    public void LastLogits(int head, Span<float> destination)
    {
        var logits = ComputeLastLogits(head);
        _backend.Download(logits, destination);
    }

    /// <summary>
    /// The last position's hidden state after its routed expert's final norm (the row every head
    /// reads; the authors' <c>hidden_states[-1]</c>, which feeds the speech decoder), copied to the host.
    /// </summary>
    public void LastHidden(Span<float> destination)
    {
        _model.ThrowIfDisposed();
        if (_lastRow < 0)
            throw new InvalidOperationException("no position has been computed since the sequence was created or truncated");
        var norm = _experts[LastExpert];
        var normed = _ws.Normed.RowRange(_lastRow, 1);
        _backend.RmsNorm(_ws.X.RowRange(_lastRow, 1), norm.FinalNorm, norm.Eps, normed);
        _backend.Download(normed, destination);
    }

    /// <summary>Forgets positions from <paramref name="length"/> on; their cache slots are overwritten by later appends.</summary>
    public void Truncate(int length)
    {
        if (length < 0 || length > Length)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"cannot truncate a sequence of {Length} positions to {length}");
        if (length == Length)
            return;
        Length = length;
        _routing = length == 0 ? 0 : _routingAfter[length - 1];
        _lastRow = -1;
    }

    private TensorSlice ComputeLastLogits(int head)
    {
        var normed = NormLastRow();
        var weights = _experts[head];
        var logits = new TensorSlice(_ws.Logits, 0, 1, 0, weights.HeadSize);
        _backend.MatMul(weights.Head, normed, logits, weights.HeadBias, false);
        return logits;
    }

    /// <summary>The last position's hidden row through its routed expert's final norm.</summary>
    private TensorSlice NormLastRow()
    {
        _model.ThrowIfDisposed();
        if (_lastRow < 0)
            throw new InvalidOperationException("no position has been computed since the sequence was created or truncated");
        var norm = _experts[LastExpert];
        var row = _ws.X.RowRange(_lastRow, 1);
        var normed = _ws.Normed.RowRange(_lastRow, 1);
        _backend.RmsNorm(row, norm.FinalNorm, norm.Eps, normed);
        return normed;
    }

    private void EnsureRoom(int count)
    {
        if (Length + count > Capacity)
            throw new InvalidOperationException(
                $"the sequence needs {Length + count} positions but its KV cache holds {Capacity}; create the state with a larger capacity");
    }

    private int[] Route(TokenBatch batch)
    {
        var experts = new int[batch.Count];
        int current = _routing;
        int d = _experts[0].Config.HiddenSize;
        for (int i = 0; i < batch.Count; i++)
        {
            current = _model.Route(batch.IsEmbedding(i) ? -1 : batch.Id(i), current);
            experts[i] = current;
            if (batch.IsEmbedding(i))
            {
                if (batch.Embedding(i).Length != d)
                    throw new ArgumentException($"{batch.Describe(i)} has {batch.Embedding(i).Length} values; hidden_size is {d}");
            }
            else if (batch.Id(i) >= _experts[current].VocabSize)
            {
                throw new ArgumentException(
                    $"{batch.Describe(i)} is routed to the {_experts[current].Name} expert, whose vocabulary has {_experts[current].VocabSize} ids");
            }
        }
        return experts;
    }

    /// <summary>Orders a chunk's rows expert by expert, each expert's ids before its embeddings.</summary>
    private void Layout(TokenBatch batch, int[] experts, int start, int n)
    {
        int row = 0;
        for (int e = 0; e < _experts.Length; e++)
        {
            _groupStart[e] = row;
            for (int pass = 0; pass < 2; pass++)
            {
                bool embeddings = pass == 1;
                for (int i = start; i < start + n; i++)
                {
                    if (experts[i] != e || batch.IsEmbedding(i) != embeddings)
                        continue;
                    _ws.RowSource[row] = i;
                    _ws.HostIds[row] = embeddings ? 0 : batch.Id(i);
                    _ws.HostPositions[row] = Length + i - start;
                    row++;
                }
                if (!embeddings)
                    _groupIds[e] = row - _groupStart[e];
            }
            _groupRows[e] = row - _groupStart[e];
        }
    }

    private void UploadInputs(TokenBatch batch, int n)
    {
        _backend.Upload(_ws.HostIds.AsSpan(0, n), _ws.Ids, 0);
        _backend.Upload(_ws.HostPositions.AsSpan(0, n), _ws.Positions, 0);
        int d = _experts[0].Config.HiddenSize;
        for (int e = 0; e < _experts.Length; e++)
        {
            int ids = _groupIds[e];
            int embeddings = _groupRows[e] - ids;
            if (ids > 0)
                _backend.Embed(_experts[e].Embedding, _ws.Ids, _groupStart[e], _ws.X.RowRange(_groupStart[e], ids));
            if (embeddings == 0)
                continue;
            if (_ws.Staging.Length < embeddings * d)
                _ws.Staging = new float[embeddings * d];
            for (int r = 0; r < embeddings; r++)
                batch.Embedding(_ws.RowSource[_groupStart[e] + ids + r]).CopyTo(_ws.Staging.AsSpan(r * d, d));
            _backend.Upload(_ws.Staging.AsSpan(0, embeddings * d), _ws.X.RowRange(_groupStart[e] + ids, embeddings));
        }
    }

    private void RunLayers(int n)
    {
        int qd = _ws.QueryWidth;
        int kvd = _ws.KvWidth;
        int headDim = _experts[0].Config.HeadDim;
        var cache = Cache;
        for (int l = 0; l < _experts[0].Layers.Length; l++)
        {
            for (int e = 0; e < _experts.Length; e++)
            {
                int rows = _groupRows[e];
                if (rows == 0)
                    continue;
                int r0 = _groupStart[e];
                var expert = _experts[e];
                var layer = expert.Layers[l];
                var normed = _ws.Normed.RowRange(r0, rows);
                var qkv = _ws.Qkv.RowRange(r0, rows);
                _backend.RmsNorm(_ws.X.RowRange(r0, rows), layer.InputNorm, expert.Eps, normed);
                _backend.MatMul(layer.Qkv, normed, qkv, layer.QkvBias, accumulate: false);
                _backend.Rope(qkv.Columns(0, qd), headDim, _ws.Positions, r0, _rope[e]);
                _backend.Rope(qkv.Columns(qd, kvd), headDim, _ws.Positions, r0, _rope[e]);
                _backend.WriteKv(cache, l, qkv.Columns(qd, kvd), qkv.Columns(qd + kvd, kvd), _ws.Positions, r0);
            }

            _backend.Attention(cache, l, _ws.Qkv.RowRange(0, n).Columns(0, qd), _ws.Positions, 0, _ws.Attention.RowRange(0, n));

            for (int e = 0; e < _experts.Length; e++)
            {
                int rows = _groupRows[e];
                if (rows == 0)
                    continue;
                int r0 = _groupStart[e];
                var expert = _experts[e];
                var layer = expert.Layers[l];
                int ff = expert.Config.IntermediateSize;
                var x = _ws.X.RowRange(r0, rows);
                var normed = _ws.Normed.RowRange(r0, rows);
                var activation = _ws.Activation.RowRange(r0, rows).Columns(0, ff);
                _backend.MatMul(layer.O, _ws.Attention.RowRange(r0, rows), x, null, accumulate: true);
                _backend.RmsNorm(x, layer.PostNorm, expert.Eps, normed);
                _backend.GateUpSwiGlu(layer.GateUp, normed, activation);
                _backend.MatMul(layer.Down, activation, x, null, accumulate: true);
            }
        }
    }

    /// <summary>Final norm and head of each group, handed to the sink in position order.</summary>
    private void EmitLogits(int start, int n, ILogitsSink sink)
    {
        int width = _ws.Logits.Cols;
        if (_logitStaging.Length < 2 * n * width)
            _logitStaging = new float[2 * n * width];
        var ordered = _logitStaging.AsSpan(0, n * width);
        var downloaded = _logitStaging.AsSpan(n * width, n * width);
        for (int e = 0; e < _experts.Length; e++)
        {
            int rows = _groupRows[e];
            if (rows == 0)
                continue;
            int r0 = _groupStart[e];
            var expert = _experts[e];
            var normed = _ws.Normed.RowRange(r0, rows);
            _backend.RmsNorm(_ws.X.RowRange(r0, rows), expert.FinalNorm, expert.Eps, normed);
            var logits = new TensorSlice(_ws.Logits, 0, rows, 0, expert.HeadSize);
            _backend.MatMul(expert.Head, normed, logits, expert.HeadBias, accumulate: false);
            _backend.Download(logits, downloaded);
            for (int r = 0; r < rows; r++)
            {
                int local = _ws.RowSource[r0 + r] - start;
                downloaded.Slice(r * expert.HeadSize, expert.HeadSize).CopyTo(ordered.Slice(local * width));
            }
        }
        for (int i = 0; i < n; i++)
        {
            int expert = _expertOfChunk[i];
            var row = ordered.Slice(i * width, _experts[expert].HeadSize);
            int bad = FiniteValues.FirstNonFinite(row);
            if (bad >= 0)
                throw new NonFiniteException(
                    $"position {Length + i}: the {_experts[expert].Name} head's logit {bad} is {row[bad]}; the hidden state is not finite (do the checkpoint's weights overflow, e.g. through ellsa.json lora.alpha?)");
            sink.Accept(Length + i, expert, row);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _ws.Dispose();
        foreach (var table in _rope)
            table.Dispose();
        Cache.Dispose();
    }
}
