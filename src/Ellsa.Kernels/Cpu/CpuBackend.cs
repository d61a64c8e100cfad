using System.Diagnostics;
using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu.Jobs;

namespace Ellsa.Kernels.Cpu;

/// <summary>
/// The CPU backend: hand-vectorised kernels (AVX-512, AVX2 or scalar, chosen at run time) on a
/// persistent worker pool. Weights are used in place; activations and the KV cache are fp32.
/// Every operation reuses preallocated job objects and scratch, so a warmed-up decode step
/// allocates nothing. Operations are serialised, which makes one backend safe to share.
/// </summary>
public sealed unsafe partial class CpuBackend : IComputeBackend
{
    private readonly object _gate = new();
    private readonly WorkerPool _pool;
    private readonly MatMulJob _matMul = new();
    private readonly AttentionJob _attention = new();
    private readonly RmsNormJob _rmsNorm = new();
    private readonly RopeJob _rope = new();
    private readonly SwiGluJob _swiGlu = new();
    private readonly GateUpSwiGluJob _gateUp = new();
    private readonly ProjectArgMaxJob _projectArgMax = new();
    private readonly ContiguousBlocks _blocks = new();
    private readonly EmbedJob _embed = new();
    private NativeArray<float> _split = new(0);
    private readonly Q8Activations _quantized = new();
    private NativeArray<float>[] _scores;

    public CpuBackend(int threads = 0, CpuIsa? isa = null)
    {
        Isa = CpuIsaDetector.Clamp(isa ?? CpuIsaDetector.Default);
        int count = threads > 0 ? threads : Environment.ProcessorCount;
        _pool = new WorkerPool(count);
        _scores = new NativeArray<float>[count];
        for (int i = 0; i < count; i++)
            _scores[i] = new NativeArray<float>(0);
    }

    public CpuIsa Isa { get; }

    /// <summary>The instructions the Q8 products use at this backend's ISA (AVX-VNNI below AVX-512 where present).</summary>
    internal Q8Path Q8Path => Q8Paths.For(Isa);
    public int Threads => _pool.ThreadCount;

    /// <summary>
    /// When huge pages are offered (<see cref="HugePages"/>), which a file mapping does not get,
    /// and the copy fits in the memory the machine has available (<see cref="HostMemory.Fits"/>);
    /// otherwise the mapping is kept.
    /// </summary>
    public bool PrefersOwnedWeights(long bytes) =>
        HugePages.Offered && HostMemory.Available() is long available && HostMemory.Fits(bytes, available);

    private KernelTimings? _timings;

    /// <summary>Attach to time every kernel by kind (a benchmark's per-kernel breakdown); null (the default) turns it off.</summary>
    public KernelTimings? Timings
    {
        get => _timings;
        set
        {
            lock (_gate)
            {
                _timings = value;
                _pool.Timings = value;
            }
        }
    }

    private long StartTiming() => _timings is null ? 0 : Stopwatch.GetTimestamp();
    /// <summary>Bytes allocated so far on the backend's worker threads (see <see cref="WorkerPool.WorkerAllocatedBytes"/>).</summary>
    public long WorkerAllocatedBytes => _pool.WorkerAllocatedBytes;
    public string Name => "cpu";
    public bool UsesHostWeightsInPlace => true;
    public int PreferredPrefillRows => 256;
    public string Description => $"CPU, {CpuIsaDetector.Name(Isa)}, {Threads} thread{(Threads == 1 ? "" : "s")}";

    /// <summary>Runs arbitrary parallel work on the backend's threads (used by the loader and benchmarks).</summary>
    public void Run(IParallelWork work, int chunks)
    {
        lock (_gate)
            _pool.Run(work, chunks);
    }

    public DeviceMatrix UploadMatrix(HostMatrix matrix) => new CpuMatrix(matrix);

    public DeviceVector UploadVector(ReadOnlySpan<float> values) => new CpuVector(values);

    public DeviceTensor AllocateTensor(int rows, int cols) => new CpuTensor(rows, cols);

    public DeviceIndices AllocateIndices(int length) => new CpuIndices(length);

    public DeviceKvCache AllocateKvCache(int layers, int kvHeads, int headDim, int capacity) =>
        new CpuKvCache(layers, kvHeads, headDim, capacity);

    public DeviceRopeTable CreateRopeTable(ReadOnlySpan<double> inverseFrequencies, int capacity) =>
        new CpuRopeTable(inverseFrequencies, capacity);

    public void Upload(ReadOnlySpan<float> source, TensorSlice destination)
    {
        BackendChecks.Upload(source.Length, destination);
        var tensor = (CpuTensor)destination.Tensor;
        for (int r = 0; r < destination.Rows; r++)
            source.Slice(r * destination.Cols, destination.Cols).CopyTo(new Span<float>(tensor.At(destination.RowRange(r, 1)), destination.Cols));
    }

    public void Upload(ReadOnlySpan<int> source, DeviceIndices destination, int offset)
    {
        var indices = (CpuIndices)destination;
        BackendChecks.Upload(source.Length, offset, indices);
        source.CopyTo(indices.Values.AsSpan(offset));
    }

    public void Download(TensorSlice source, Span<float> destination)
    {
        BackendChecks.Download(source, destination.Length);
        var tensor = (CpuTensor)source.Tensor;
        for (int r = 0; r < source.Rows; r++)
            new ReadOnlySpan<float>(tensor.At(source.RowRange(r, 1)), source.Cols).CopyTo(destination.Slice(r * source.Cols));
    }

    public void Embed(DeviceMatrix table, DeviceIndices ids, int idOffset, TensorSlice destination)
    {
        var values = ((CpuIndices)ids).Values;
        BackendChecks.Embed(table, values, idOffset, destination);
        long started = StartTiming();
        lock (_gate)
        {
            _embed.Table = (CpuMatrix)table;
            _embed.Ids = values;
            _embed.IdOffset = idOffset;
            _embed.Destination = At(destination);
            _embed.DestinationStride = destination.Tensor.Cols;
            _embed.Plan(destination.Rows, destination.Cols);
            _pool.Run(_embed, _embed.ChunkCount);
            _timings?.Add("embed", started);
        }
    }

    public void RmsNorm(TensorSlice source, DeviceVector weight, float eps, TensorSlice destination)
    {
        BackendChecks.RmsNorm(source, weight, destination);
        long started = StartTiming();
        lock (_gate)
        {
            _rmsNorm.Source = At(source);
            _rmsNorm.SourceStride = source.Tensor.Cols;
            _rmsNorm.Destination = At(destination);
            _rmsNorm.DestinationStride = destination.Tensor.Cols;
            _rmsNorm.Weight = ((CpuVector)weight).Storage.Pointer;
            _rmsNorm.Width = weight.Length;
            _rmsNorm.Eps = eps;
            _rmsNorm.Plan(source.Rows, source.Cols);
            _pool.Run(_rmsNorm, _rmsNorm.ChunkCount);
            _timings?.Add("rms norm", started);
        }
    }

    public void MatMul(DeviceMatrix weight, TensorSlice input, TensorSlice output, DeviceVector? bias, bool accumulate)
    {
        BackendChecks.MatMul(weight, input, output, bias);
        if (input.Rows == 0)
            return;
        long started = StartTiming();
        lock (_gate)
        {
            var matrix = (CpuMatrix)weight;
            Configure(_matMul, matrix, input, output, bias, accumulate);
            _pool.Run(_matMul, _matMul.ChunkCount);
            _timings?.Add(matrix.TimingName, started);
        }
    }

    /// <summary>
    /// The head's projection of one row and its greedy choice in one dispatch (see
    /// <see cref="ProjectArgMaxJob"/>): the logits are written as <see cref="MatMul"/> writes them
    /// and the id is the one <see cref="ArgMax"/> would choose from them.
    /// </summary>
    public int MatMulArgMax(DeviceMatrix weight, TensorSlice input, TensorSlice output, DeviceVector? bias, ReadOnlySpan<IdRange> allowed)
    {
        BackendChecks.MatMul(weight, input, output, bias);
        BackendChecks.ArgMax(output, allowed);
        long started = StartTiming();
        int best;
        lock (_gate)
        {
            var matrix = (CpuMatrix)weight;
            Configure(_projectArgMax.Product, matrix, input, output, bias, accumulate: false);
            _projectArgMax.Prepare(allowed);
            _pool.Run(_projectArgMax, _projectArgMax.ChunkCount);
            best = _projectArgMax.Merge();
            _timings?.Add(matrix.TimingName + " + argmax", started);
        }
        // A NaN logit: the serial scan's rule decides, so both paths agree on every row.
        return best >= 0 ? best : ArgMax(output, allowed);
    }

    /// <summary>Points a product job at its operands; prepares the activations for the matrix's row kernels.</summary>
    private void Configure(MatMulJob job, CpuMatrix matrix, TensorSlice input, TensorSlice output, DeviceVector? bias, bool accumulate)
    {
        job.Bias = bias is null ? null : ((CpuVector)bias).Storage.Pointer;
        job.Accumulate = accumulate;
        ConfigureRows(job, matrix, input, output);
        job.Blocks = SingleTokenBlocks(input.Rows, job.ChunkCount);
    }

    /// <summary>The operands every row product shares; its chunk count may depend on fields set after this.</summary>
    private void ConfigureRows(RowProductJob job, CpuMatrix matrix, TensorSlice input, TensorSlice output)
    {
        float* x = At(input);
        int xStride = input.Tensor.Cols;
        PrepareInput(matrix, x, xStride, input.Rows);
        job.Isa = Isa;
        job.Weight = matrix;
        job.Input = x;
        job.InputStride = xStride;
        job.Split = _split.Pointer;
        job.SplitStride = matrix.Cols;
        job.Quantized = matrix.HasQ8 ? _quantized : null;
        job.Output = At(output);
        job.OutputStride = output.Tensor.Cols;
        job.Tokens = input.Rows;
    }

    /// <summary>For one token (decode), contiguous row runs per worker; prefill keeps the plain chunk order.</summary>
    private ContiguousBlocks? SingleTokenBlocks(int tokens, int chunks)
    {
        if (tokens != 1)
            return null;
        _blocks.Reset(chunks, _pool.ThreadCount);
        return _blocks;
    }

    /// <summary>
    /// The activation rows in the forms the matrix's parts read: in the bf16 kernels' even/odd
    /// order for bf16 rows, quantised for Q8 rows (once per product: every row kernel, on every
    /// thread, reads the same quantised rows).
    /// </summary>
    private void PrepareInput(CpuMatrix matrix, float* x, int xStride, int rows)
    {
        if (matrix.HasQ8)
            _quantized.Quantize(x, rows, matrix.Cols, xStride);
        SplitRows(matrix, x, xStride, rows, matrix.Cols);
    }

    private void SplitRows(CpuMatrix matrix, float* x, int xStride, int rows, int k)
    {
        if (!matrix.HasBf16 || DotKernels.BlockWidth(Isa) == 0)
            return;
        long need = (long)rows * k;
        if (_split.Length < need)
        {
            _split.Dispose();
            _split = new NativeArray<float>(need, zero: false);
        }
        for (int t = 0; t < rows; t++)
            DotKernels.SplitEvenOdd(Isa, x + (long)t * xStride, _split.Pointer + (long)t * k, k);
    }

    public void Rope(TensorSlice heads, int headDim, DeviceIndices positions, int positionOffset, DeviceRopeTable table)
    {
        var pos = ((CpuIndices)positions).Values;
        BackendChecks.Rope(heads, headDim, pos, positionOffset, table);
        long started = StartTiming();
        lock (_gate)
        {
            _rope.Heads = At(heads);
            _rope.Stride = heads.Tensor.Cols;
            _rope.HeadCount = heads.Cols / headDim;
            _rope.HeadDim = headDim;
            _rope.Positions = pos;
            _rope.PositionOffset = positionOffset;
            _rope.Table = (CpuRopeTable)table;
            _rope.Plan(heads.Rows, heads.Cols * 4);
            _pool.Run(_rope, _rope.ChunkCount);
            _timings?.Add("rope", started);
        }
    }

    public void WriteKv(DeviceKvCache cache, int layer, TensorSlice keys, TensorSlice values, DeviceIndices positions, int positionOffset)
    {
        var kv = (CpuKvCache)cache;
        int headDim = kv.HeadDim;
        var pos = ((CpuIndices)positions).Values;
        BackendChecks.WriteKv(kv, layer, keys, values, pos, positionOffset);
        long started = StartTiming();
        lock (_gate)
        {
            float* k = At(keys);
            float* v = At(values);
            for (int r = 0; r < keys.Rows; r++)
            {
                int p = pos[positionOffset + r];
                for (int h = 0; h < kv.KvHeads; h++)
                {
                    long slot = kv.HeadOffset(layer, h) + (long)p * headDim;
                    new ReadOnlySpan<float>(k + (long)r * keys.Tensor.Cols + h * headDim, headDim)
                        .CopyTo(new Span<float>(kv.Keys.Pointer + slot, headDim));
                    new ReadOnlySpan<float>(v + (long)r * values.Tensor.Cols + h * headDim, headDim)
                        .CopyTo(new Span<float>(kv.Values.Pointer + slot, headDim));
                }
            }
            _timings?.Add("write kv", started);
        }
    }

    public void Attention(DeviceKvCache cache, int layer, TensorSlice queries, DeviceIndices positions, int positionOffset, TensorSlice output)
    {
        var kv = (CpuKvCache)cache;
        var pos = ((CpuIndices)positions).Values;
        BackendChecks.Attention(kv, layer, queries, pos, positionOffset, output);
        long started = StartTiming();
        lock (_gate)
        {
            EnsureScores(queries.Cols / kv.HeadDim / kv.KvHeads * (long)kv.Capacity);
            _attention.Cache = kv;
            _attention.Layer = layer;
            _attention.Queries = At(queries);
            _attention.QueryStride = queries.Tensor.Cols;
            _attention.Output = At(output);
            _attention.OutputStride = output.Tensor.Cols;
            _attention.Positions = pos;
            _attention.PositionOffset = positionOffset;
            _attention.Heads = queries.Cols / kv.HeadDim;
            _attention.Scale = 1f / MathF.Sqrt(kv.HeadDim);
            _attention.Scratch = _scores;
            _pool.Run(_attention, _attention.ChunkCount(queries.Rows));
            _timings?.Add("attention", started);
        }
    }

    public void SwiGlu(TensorSlice gateUp, TensorSlice output)
    {
        BackendChecks.SwiGlu(gateUp, output);
        long started = StartTiming();
        lock (_gate)
        {
            _swiGlu.GateUp = At(gateUp);
            _swiGlu.GateUpStride = gateUp.Tensor.Cols;
            _swiGlu.Output = At(output);
            _swiGlu.OutputStride = output.Tensor.Cols;
            _swiGlu.Width = output.Cols;
            _swiGlu.Plan(output.Rows, gateUp.Cols);
            _pool.Run(_swiGlu, _swiGlu.ChunkCount);
            _timings?.Add("swiglu", started);
        }
    }

    public void GateUpSwiGlu(DeviceMatrix gateUp, TensorSlice input, TensorSlice output)
    {
        BackendChecks.GateUpSwiGlu(gateUp, input, output);
        if (input.Rows == 0)
            return;
        long started = StartTiming();
        lock (_gate)
        {
            var matrix = (CpuMatrix)gateUp;
            ConfigureRows(_gateUp, matrix, input, output);
            _gateUp.Ff = output.Cols;
            _gateUp.Plan(matrix);
            _gateUp.Blocks = SingleTokenBlocks(input.Rows, _gateUp.ChunkCount);
            _pool.Run(_gateUp, _gateUp.ChunkCount);
            _timings?.Add(matrix.TimingName + " + swiglu", started);
        }
    }

    public int ArgMax(TensorSlice row, ReadOnlySpan<IdRange> allowed)
    {
        BackendChecks.ArgMax(row, allowed);
        long started = StartTiming();
        var values = new ReadOnlySpan<float>(At(row), row.Cols);
        int best = -1;
        float bestValue = float.NegativeInfinity;
        foreach (var range in allowed)
        {
            int first = Math.Max(0, range.First);
            int last = Math.Min(row.Cols - 1, range.Last);
            for (int i = first; i <= last; i++)
            {
                float v = values[i];
                if (v > bestValue || (v == bestValue && i < best) || best < 0)
                {
                    best = i;
                    bestValue = v;
                }
            }
        }
        // BackendChecks.ArgMax made sure some allowed id lies inside the row, so best is one.
        _timings?.Add("argmax", started);
        return best;
    }

    public void Synchronize() { }

    private void EnsureScores(long floats)
    {
        for (int i = 0; i < _scores.Length; i++)
        {
            if (_scores[i].Length >= floats)
                continue;
            _scores[i].Dispose();
            _scores[i] = new NativeArray<float>(floats, zero: false);
        }
    }

    private static float* At(TensorSlice slice) => ((CpuTensor)slice.Tensor).At(slice);

    /// <summary>The element a view's offsets count from.</summary>
    private static float* Base(in TensorView view) =>
        (view.Tensor as CpuTensor ?? throw new ArgumentException("the tensor was not created by the cpu backend")).Storage.Pointer;

    /// <summary>Every general op runs here (see <see cref="NetworkOp"/>).</summary>
    public bool Supports(NetworkOp op) => Enum.IsDefined(op);

    private readonly Dictionary<Type, IParallelWork> _jobs = new();

    /// <summary>One job object per generic job type, reused (as the fused ops' jobs are), so repeated ops allocate nothing.</summary>
    private T Job<T>() where T : IParallelWork, new()
    {
        if (!_jobs.TryGetValue(typeof(T), out var job))
            _jobs[typeof(T)] = job = new T();
        return (T)job;
    }

    public void Dispose()
    {
        _pool.Dispose();
        foreach (var job in _jobs.Values)
            (job as IDisposable)?.Dispose();
        _split.Dispose();
        _quantized.Dispose();
        foreach (var scratch in _scores)
            scratch.Dispose();
    }
}
