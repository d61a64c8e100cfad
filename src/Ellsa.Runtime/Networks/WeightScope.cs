using Ellsa.Kernels.Backend;
using Ellsa.Runtime.Checkpoints;
using Ellsa.Runtime.Weights;

namespace Ellsa.Runtime.Networks;

/// <summary>One tensor a network took, for <c>inspect</c>: the checkpoint's name, its shape and dtype, and what it became.</summary>
public sealed record WeightBinding(string Name, long[] Shape, SafetensorsDtype Dtype, string File, string Use);

/// <summary>Every binding a network made, and what a tensor set holds that nobody took.</summary>
public sealed class WeightBindings
{
    private readonly List<WeightBinding> _bindings = [];

    public IReadOnlyList<WeightBinding> All => _bindings;

    internal void Add(WeightBinding binding) => _bindings.Add(binding);

    /// <summary>Tensors of the set no binding read, except those whose names the network declared unused on purpose.</summary>
    public IReadOnlyList<string> Unused(TensorSet set, Func<string, bool>? ignored = null)
    {
        var bound = _bindings.Select(b => b.Name).ToHashSet(StringComparer.Ordinal);
        return set.Tensors.Keys.Where(n => !bound.Contains(n) && !(ignored?.Invoke(n) ?? false)).Order(StringComparer.Ordinal).ToList();
    }
}

/// <summary>
/// Binds weights by scope, as candle's <c>VarBuilder.pp</c>: a network walks its modules with
/// <see cref="Pp"/> and asks for each tensor by the name the checkpoint spells, with the shape its
/// config implies. A missing tensor or a shape that disagrees with the config is an error naming
/// the file, the tensor and both shapes. Every binding is recorded; the device objects made here
/// belong to the scope's owner list and are freed with the network.
/// </summary>
public sealed unsafe class WeightScope
{
    private readonly TensorSet _set;
    private readonly IComputeBackend _backend;
    private readonly WeightBindings _log;
    private readonly List<IDisposable> _owned;
    private readonly string _prefix;

    public WeightScope(TensorSet set, IComputeBackend backend, WeightBindings log, List<IDisposable> owned, string prefix = "")
    {
        _set = set;
        _backend = backend;
        _log = log;
        _owned = owned;
        _prefix = prefix;
    }

    public IComputeBackend Backend => _backend;

    /// <summary>The scope of a sub-module: names below it get "<paramref name="name"/>." in front.</summary>
    public WeightScope Pp(string name) => new(_set, _backend, _log, _owned, _prefix + name + ".");

    public WeightScope Pp(int index) => Pp(index.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public string FullName(string name) => _prefix + name;

    /// <summary>A problem with one of this scope's tensors, naming the file and the tensor.</summary>
    public CheckpointException Fail(string name, string problem) => new(_set.DisplayName, FullName(name), problem);

    public bool Has(string name) => _set.Tensors.ContainsKey(FullName(name));

    /// <summary>
    /// A weight matrix [rows, product of the other axes] in its stored dtype (bf16 and f32 in place,
    /// f16 widened to f32): linear weights, and conv weights [out, in, k…] flattened to [out, taps].
    /// </summary>
    public DeviceMatrix Matrix(string name, params long[] shape)
    {
        var tensor = Take(name, shape, "matrix");
        int rows = checked((int)shape[0]);
        long colsLong = 1;
        for (int i = 1; i < shape.Length; i++)
            colsLong *= shape[i];
        int cols = checked((int)colsLong);
        var part = TensorConversion.Matrix(tensor, rows, cols, _owned);
        return Own(_backend.UploadMatrix(new HostMatrix(FullName(name), [part])));
    }

    /// <summary>
    /// Several [rows, <paramref name="cols"/>] tensors stacked by rows into one matrix, each block in its
    /// stored dtype: the fused q|k|v and gate|up projections the transformer's kernels take.
    /// </summary>
    public DeviceMatrix StackedMatrix(long cols, params (string Name, long Rows)[] blocks)
    {
        var parts = blocks.Select(b => TensorConversion.Matrix(Take(b.Name, [b.Rows, cols], "matrix block"), checked((int)b.Rows), checked((int)cols), _owned)).ToArray();
        return Own(_backend.UploadMatrix(new HostMatrix(string.Join("|", blocks.Select(b => FullName(b.Name))), parts)));
    }

    /// <summary>fp32 vectors laid end to end as one backend vector (the biases of a stacked matrix).</summary>
    public DeviceVector StackedVector(params (string Name, long Length)[] pieces) =>
        Own(_backend.UploadVector(pieces.SelectMany(p => Floats(p.Name, p.Length)).ToArray()));

    /// <summary>fp32 parameters (a bias, a norm weight) as a backend vector.</summary>
    public DeviceVector Vector(string name, long length) => Own(_backend.UploadVector(Floats(name, length)));

    /// <summary>fp32 parameters as a [1, n] tensor, for ops that take views (norm affines, per-channel scales).</summary>
    public DeviceTensor Tensor(string name, params long[] shape) => Upload(Floats(name, shape));

    /// <summary>A tensor's values widened to fp32 on the host (for what the loader folds, as BatchNorm's running statistics).</summary>
    public float[] Floats(string name, params long[] shape)
    {
        var tensor = Take(name, shape, "fp32");
        long count = tensor.Entry.ElementCount;
        var values = new float[count];
        fixed (float* destination = values)
            TensorConversion.Widen(tensor, destination, count);
        return values;
    }

    /// <summary>Values computed at load (folded parameters) uploaded as a [1, n] tensor owned with the network.</summary>
    public DeviceTensor Upload(float[] values)
    {
        var tensor = Own(_backend.AllocateTensor(1, Math.Max(1, values.Length)));
        if (values.Length > 0)
            _backend.Upload(values, tensor.RowRange(0, 1).Columns(0, values.Length));
        return tensor;
    }

    /// <summary>
    /// A matrix computed at load from this scope's weights (a folded table), owned with the
    /// network; <paramref name="name"/> labels it in logs and errors.
    /// </summary>
    public DeviceMatrix ComputedMatrix(string name, float[] values, int rows, int cols)
    {
        if ((long)rows * cols != values.Length)
            throw new ArgumentException($"{FullName(name)}: {values.Length} values for a {rows}×{cols} matrix");
        var buffer = Own(new Kernels.Cpu.NativeArray<float>(Math.Max(1, values.Length), zero: false));
        values.CopyTo(new Span<float>(buffer.Pointer, values.Length));
        var part = new MatrixPart(buffer.Pointer, WeightDtype.F32, rows, cols);
        return Own(_backend.UploadMatrix(new HostMatrix(FullName(name), [part])));
    }

    /// <summary>Marks a tensor as read on purpose though nothing is made of it (BatchNorm's num_batches_tracked).</summary>
    public void Ignore(string name)
    {
        if (_set.Tensors.TryGetValue(FullName(name), out var tensor))
            _log.Add(new WeightBinding(tensor.Name, tensor.Entry.Shape, tensor.Entry.Dtype, tensor.FileName, "unused by inference"));
    }

    private StoredTensor Take(string name, long[] shape, string use)
    {
        string full = FullName(name);
        if (!_set.Tensors.TryGetValue(full, out var tensor))
            throw new CheckpointException(_set.DisplayName, full, $"is missing (the config implies shape [{string.Join(", ", shape)}])");
        if (!tensor.Entry.Shape.SequenceEqual(shape))
            throw new CheckpointException(_set.DisplayName, full,
                $"has shape {tensor.Entry.ShapeText}, but the config implies [{string.Join(", ", shape)}]");
        if (!SafetensorsDtypes.IsFloatWeight(tensor.Entry.Dtype))
            throw new CheckpointException(_set.DisplayName, full, $"has dtype {tensor.Entry.Dtype}; weights are BF16, F16 or F32");
        _log.Add(new WeightBinding(full, tensor.Entry.Shape, tensor.Entry.Dtype, tensor.FileName, use));
        return tensor;
    }

    private T Own<T>(T value) where T : IDisposable
    {
        _owned.Add(value);
        return value;
    }
}
