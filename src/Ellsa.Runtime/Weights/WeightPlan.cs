using Ellsa.Runtime.Checkpoints;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Moe;

namespace Ellsa.Runtime.Weights;

/// <summary>A role (speech.layers.3.q_proj, vision.head, …) and the checkpoint tensor that fills it.</summary>
/// <remarks><see cref="Q8Scales"/>: the F16 block scales when the tensor is stored quantised (I8, written by <c>ellsa quantize</c>).</remarks>
public sealed record TensorBinding(string Role, StoredTensor Tensor, string PrimaryName, StoredTensor? Q8Scales = null)
{
    public bool IsAlias => Tensor.Name != PrimaryName;
    public bool IsQ8 => Q8Scales is not null;
    /// <summary>The stored bytes the binding reads: the tensor and its scales.</summary>
    public long ByteLength => Tensor.Entry.ByteLength + (Q8Scales?.Entry.ByteLength ?? 0);
}

/// <summary>A linear layer: its base weight, optional bias and optional unmerged LoRA factors.</summary>
public sealed record ProjectionPlan(TensorBinding Weight, TensorBinding? Bias, TensorBinding? LoraA, TensorBinding? LoraB)
{
    public bool HasLora => LoraA is not null;
}

public sealed record LayerPlan(
    TensorBinding InputNorm, TensorBinding PostNorm,
    ProjectionPlan Q, ProjectionPlan K, ProjectionPlan V, ProjectionPlan O,
    ProjectionPlan Gate, ProjectionPlan Up, ProjectionPlan Down);

public sealed record ExpertPlan(
    Expert Expert, TensorBinding Embedding, TensorBinding? ExtraEmbedding, LayerPlan[] Layers,
    TensorBinding FinalNorm, TensorBinding Head, TensorBinding? ExtraHead)
{
    public int EmbeddingRows => (int)(Embedding.Tensor.Entry.Shape[0] + (ExtraEmbedding?.Tensor.Entry.Shape[0] ?? 0));
    public int HeadRows => (int)(Head.Tensor.Entry.Shape[0] + (ExtraHead?.Tensor.Entry.Shape[0] ?? 0));
}

/// <summary>
/// Which tensor fills each role, checked against the configs before anything is loaded: missing
/// tensors, shapes, dtypes and LoRA ranks are all collected, so one run reports every problem.
/// The plan is what <c>ellsa inspect</c> prints and what the loader materialises.
/// </summary>
public sealed class WeightPlan
{
    private readonly CheckpointStore _store;
    private readonly ModelConfig _config;
    private readonly List<TensorBinding> _bindings = [];
    private readonly List<string> _missing = [];
    private readonly List<string> _problems = [];
    private readonly List<string> _notes = [];

    private WeightPlan(CheckpointStore store, ModelConfig config)
    {
        _store = store;
        _config = config;
    }

    public ExpertPlan? Speech { get; private set; }
    public ExpertPlan? Vision { get; private set; }
    public IReadOnlyList<TensorBinding> Bindings => _bindings;
    /// <summary>Roles with no tensor, as "role: primary name (also tried …)".</summary>
    public IReadOnlyList<string> Missing => _missing;
    /// <summary>Shape, dtype and consistency errors.</summary>
    public IReadOnlyList<string> Problems => _problems;
    /// <summary>Things worth knowing that do not stop loading (config vocab_size vs table rows, …).</summary>
    public IReadOnlyList<string> Notes => _notes;
    public IEnumerable<StoredTensor> Unused
    {
        get
        {
            var used = _bindings.Select(b => b.Tensor.Name)
                .Concat(_bindings.Where(b => b.Q8Scales is not null).Select(b => b.Q8Scales!.Name)).ToHashSet(StringComparer.Ordinal);
            return _store.Tensors.Values.Where(t => !used.Contains(t.Name)).OrderBy(t => t.Name, StringComparer.Ordinal);
        }
    }

    public bool IsComplete => _missing.Count == 0 && _problems.Count == 0;
    public ModelConfig Config => _config;
    public CheckpointStore Store => _store;

    public ExpertPlan this[Expert expert] => (expert == Expert.Speech ? Speech : Vision)
        ?? throw new InvalidOperationException($"the {expert.Describe()} expert could not be planned");

    public static WeightPlan Create(CheckpointStore store, ModelConfig config)
    {
        var plan = new WeightPlan(store, config);
        plan.Speech = plan.PlanExpert(Expert.Speech, config.Speech);
        plan.Vision = plan.PlanExpert(Expert.Vision, config.Vision);
        return plan;
    }

    /// <summary>
    /// Throws one exception in one line: the count of missing tensors and problems and the first
    /// of them (<c>ellsa inspect</c> lists them all; one wrong config value can break dozens of shapes).
    /// </summary>
    public void ThrowIfIncomplete()
    {
        if (IsComplete)
            return;
        var counts = new List<string>();
        if (_missing.Count > 0)
            counts.Add($"{_missing.Count} expected tensor{(_missing.Count == 1 ? " is" : "s are")} missing");
        if (_problems.Count > 0)
            counts.Add($"{_problems.Count} problem{(_problems.Count == 1 ? "" : "s")}");
        string first = _problems.Count > 0 ? _problems[0] : "missing " + _missing[0];
        string rest = _missing.Count + _problems.Count > 1 ? "; ellsa inspect lists them all" : "";
        string where = _store.IsSharded ? CheckpointStore.IndexFileName : CheckpointStore.SingleFileName;
        throw new CheckpointException(where, null, $"{string.Join(" and ", counts)}, first: {first}{rest}");
    }

    private ExpertPlan? PlanExpert(Expert expert, ExpertConfig config)
    {
        string name = expert.Describe();
        int d = config.HiddenSize;
        var embedding = Require($"{name}.embed", TensorNames.Embedding(expert));
        var extraEmbedding = Optional($"{name}.embed.extra", TensorNames.ExtraEmbedding(expert));
        var head = Require($"{name}.head", TensorNames.Head(expert), allowQ8: true);
        var extraHead = Optional($"{name}.head.extra", TensorNames.ExtraHead(expert), allowQ8: true);
        var finalNorm = Require($"{name}.norm", TensorNames.FinalNorm(expert));
        if (!GeometryMatchesCheckpoint(expert, config, embedding))
            return null;

        CheckShape(embedding, null, d);
        CheckShape(extraEmbedding, null, d);
        CheckShape(head, null, d);
        CheckShape(extraHead, null, d);
        CheckShape(finalNorm, d);
        if (embedding is not null && head is not null)
        {
            long embedRows = embedding.Tensor.Entry.Shape[0] + (extraEmbedding?.Tensor.Entry.Shape[0] ?? 0);
            long headRows = head.Tensor.Entry.Shape[0] + (extraHead?.Tensor.Entry.Shape[0] ?? 0);
            if (embedRows != headRows)
                _problems.Add($"{name}: the embedding has {embedRows} rows but the head has {headRows}; tokens and logits must share one vocabulary");
            else if (embedding.Tensor.Entry.Shape[0] != config.VocabSize)
                _notes.Add($"{config.File} vocab_size is {config.VocabSize}; the {name} embedding has {embedding.Tensor.Entry.Shape[0]} rows (+{extraEmbedding?.Tensor.Entry.Shape[0] ?? 0} extra). The tensors decide.");
        }

        var layers = new LayerPlan?[config.Layers];
        for (int l = 0; l < config.Layers; l++)
            layers[l] = PlanLayer(expert, config, l);

        int extraLayer = config.Layers;
        if (_store.Tensors.Keys.Any(k => TensorNames.LayerNorm(expert, extraLayer, "input_layernorm").Contains(k)))
            _problems.Add($"{name}: the checkpoint has a layer {extraLayer}, but {config.File} num_hidden_layers is {config.Layers}");

        if (embedding is null || head is null || finalNorm is null || layers.Any(l => l is null))
            return null;
        return new ExpertPlan(expert, embedding, extraEmbedding, layers!, finalNorm, head, extraHead);
    }

    /// <summary>
    /// The sizes every tensor is checked against, compared once with the checkpoint before the
    /// layers are planned: a wrong hidden_size or num_hidden_layers is one named problem, not a
    /// shape error per tensor (nor a million lookups for num_hidden_layers 10⁶).
    /// </summary>
    private bool GeometryMatchesCheckpoint(Expert expert, ExpertConfig config, TensorBinding? embedding)
    {
        string name = expert.Describe();
        if (embedding is { Tensor.Entry.Shape: [_, long width] } && width != config.HiddenSize)
            return Mismatch($"{config.File}: hidden_size is {config.HiddenSize}, but the {name} embedding is {width} wide");

        int firstMissing = Enumerable.Range(0, config.Layers).FirstOrDefault(l => Find(TensorNames.LayerNorm(expert, l, "input_layernorm")) is null, -1);
        if (firstMissing > 0 && Enumerable.Range(firstMissing, config.Layers - firstMissing).All(l => Find(TensorNames.LayerNorm(expert, l, "input_layernorm")) is null))
            return Mismatch($"{config.File}: num_hidden_layers is {config.Layers}, but the checkpoint has {name} layers 0..{firstMissing - 1}");

        if (Rows(TensorNames.Projection(expert, 0, "mlp.gate_proj")) is { } ff && ff != config.IntermediateSize)
            return Mismatch($"{config.File}: intermediate_size is {config.IntermediateSize}, but the {name} gate_proj of layer 0 has {ff} rows");
        if (Rows(TensorNames.Projection(expert, 0, "self_attn.q_proj")) is { } q && q != config.QueryWidth)
            return Mismatch($"{config.File}: num_attention_heads × head_dim is {config.Heads} × {config.HeadDim} = {config.QueryWidth}, but the {name} q_proj of layer 0 has {q} rows");
        if (Rows(TensorNames.Projection(expert, 0, "self_attn.k_proj")) is { } k && k != config.KvWidth)
            return Mismatch($"{config.File}: num_key_value_heads × head_dim is {config.KvHeads} × {config.HeadDim} = {config.KvWidth}, but the {name} k_proj of layer 0 has {k} rows");
        return true;
    }

    private bool Mismatch(string problem)
    {
        _problems.Add(problem);
        return false;
    }

    private StoredTensor? Find(string[] names)
    {
        foreach (string name in names)
        {
            if (_store.TryGet(name, out var tensor))
                return tensor;
        }
        return null;
    }

    private long? Rows(string[] names) => Find(names) is { Entry.Shape: [long rows, _] } ? rows : null;

    private LayerPlan? PlanLayer(Expert expert, ExpertConfig config, int layer)
    {
        string role = $"{expert.Describe()}.layers.{layer}";
        int d = config.HiddenSize;
        var inputNorm = Require($"{role}.input_layernorm", TensorNames.LayerNorm(expert, layer, "input_layernorm"));
        var postNorm = Require($"{role}.post_attention_layernorm", TensorNames.LayerNorm(expert, layer, "post_attention_layernorm"));
        CheckShape(inputNorm, d);
        CheckShape(postNorm, d);
        var q = PlanProjection(expert, layer, "self_attn.q_proj", config.QueryWidth, d, config.QkvBias, config);
        var k = PlanProjection(expert, layer, "self_attn.k_proj", config.KvWidth, d, config.QkvBias, config);
        var v = PlanProjection(expert, layer, "self_attn.v_proj", config.KvWidth, d, config.QkvBias, config);
        var o = PlanProjection(expert, layer, "self_attn.o_proj", d, config.QueryWidth, false, config);
        var gate = PlanProjection(expert, layer, "mlp.gate_proj", config.IntermediateSize, d, false, config);
        var up = PlanProjection(expert, layer, "mlp.up_proj", config.IntermediateSize, d, false, config);
        var down = PlanProjection(expert, layer, "mlp.down_proj", d, config.IntermediateSize, false, config);
        if (inputNorm is null || postNorm is null || q is null || k is null || v is null || o is null || gate is null || up is null || down is null)
            return null;
        return new LayerPlan(inputNorm, postNorm, q, k, v, o, gate, up, down);
    }

    private ProjectionPlan? PlanProjection(Expert expert, int layer, string module, int rows, int cols, bool bias, ExpertConfig config)
    {
        string role = $"{expert.Describe()}.layers.{layer}.{module.Split('.')[1]}";
        var weight = Require(role, TensorNames.Projection(expert, layer, module), allowQ8: true);
        CheckShape(weight, rows, cols, config);
        TensorBinding? biasBinding = null;
        var biasNames = TensorNames.ProjectionBias(expert, layer, module);
        if (bias)
        {
            biasBinding = Require($"{role}.bias", biasNames);
            CheckShape(biasBinding, rows);
        }
        else if (biasNames.Any(n => _store.Tensors.ContainsKey(n)))
        {
            _notes.Add($"{role} has a bias in the checkpoint but {config.File} does not set qkv_bias; the bias is not used");
        }

        var loraA = Optional($"{role}.lora_A", TensorNames.Lora(expert, layer, module, 'A'));
        var loraB = Optional($"{role}.lora_B", TensorNames.Lora(expert, layer, module, 'B'));
        if ((loraA is null) != (loraB is null))
        {
            _problems.Add($"{role}: {(loraA is null ? "lora_B" : "lora_A")} is present without its partner; LoRA needs both factors");
            return null;
        }
        if (loraA is not null && weight is { IsQ8: true })
            _problems.Add($"{weight.Tensor.FileName}: tensor '{weight.Tensor.Name}' is stored as q8, so its LoRA cannot be merged; quantise the merged weights (ellsa quantize merges them)");
        if (loraA is not null && loraB is not null)
        {
            var a = loraA.Tensor.Entry.Shape;
            var b = loraB.Tensor.Entry.Shape;
            int rank = _config.Settings.Lora.R;
            if (a.Length != 2 || a[1] != cols || b.Length != 2 || b[0] != rows || b[1] != a[0])
                _problems.Add($"{role}: LoRA factors A {loraA.Tensor.Entry.ShapeText} and B {loraB.Tensor.Entry.ShapeText} do not compose to [{rows}, {cols}]");
            else if (a[0] != rank)
                _problems.Add($"{role}: lora_A has rank {a[0]} but ellsa.json lora.r is {rank}; the scaling alpha/r would be wrong");
            CheckDtype(loraA);
            CheckDtype(loraB);
        }
        return weight is null ? null : new ProjectionPlan(weight, biasBinding, loraA, loraB);
    }

    private TensorBinding? Require(string role, string[] names, bool allowQ8 = false)
    {
        var binding = Optional(role, names, allowQ8);
        if (binding is null)
            _missing.Add(names.Length == 1 ? $"{role}: {names[0]}" : $"{role}: {names[0]} (also tried {string.Join(", ", names.Skip(1))})");
        return binding;
    }

    /// <param name="allowQ8">The role is a projection or a head, which may be stored quantised.</param>
    private TensorBinding? Optional(string role, string[] names, bool allowQ8 = false)
    {
        foreach (string name in names)
        {
            if (_store.TryGet(name, out var tensor))
            {
                var scales = allowQ8 && tensor.Entry.Dtype == SafetensorsDtype.I8 ? Q8ScalesOf(tensor) : null;
                var binding = new TensorBinding(role, tensor, names[0], scales);
                _bindings.Add(binding);
                CheckDtype(binding);
                return binding;
            }
        }
        return null;
    }

    /// <summary>The F16 scales of a stored q8 tensor, checked against its shape (a problem is recorded when they do not fit).</summary>
    private StoredTensor? Q8ScalesOf(StoredTensor tensor)
    {
        string name = tensor.Name + Kernels.Numerics.Q8Format.ScaleSuffix;
        if (!_store.TryGet(name, out var scales))
        {
            _problems.Add($"{tensor.FileName}: tensor '{tensor.Name}' is I8 but '{name}' (its F16 block scales) is missing");
            return null;
        }
        var shape = tensor.Entry.Shape;
        if (shape.Length == 2 && (scales.Entry.Dtype != SafetensorsDtype.F16 || scales.Entry.Shape is not [long rows, long blocks]
            || rows != shape[0] || blocks != (shape[1] + Kernels.Numerics.Q8Format.BlockSize - 1) / Kernels.Numerics.Q8Format.BlockSize))
        {
            _problems.Add($"{scales.FileName}: tensor '{name}' is {scales.Entry.Dtype} {scales.Entry.ShapeText}; the scales of a [{shape[0]}, {shape[1]}] q8 tensor are F16 [{shape[0]}, {(shape[1] + 31) / 32}]");
            return null;
        }
        return scales;
    }

    private void CheckDtype(TensorBinding binding)
    {
        if (binding.IsQ8)
            return;
        if (!SafetensorsDtypes.IsFloatWeight(binding.Tensor.Entry.Dtype))
            _problems.Add($"{binding.Tensor.FileName}: tensor '{binding.Tensor.Name}' has dtype {binding.Tensor.Entry.Dtype}; weights must be BF16, F16 or F32");
    }

    /// <summary>Checks a tensor's shape; a null dimension accepts any size (vocabulary rows).</summary>
    private void CheckShape(TensorBinding? binding, int? rows, int cols, ExpertConfig? config = null)
    {
        if (binding is null)
            return;
        var shape = binding.Tensor.Entry.Shape;
        if (shape.Length != 2 || (rows is { } r && shape[0] != r) || shape[1] != cols || shape[0] == 0)
        {
            string expected = $"[{(rows?.ToString() ?? "rows")}, {cols}]";
            string source = config is null ? "" : $" from {config.File}";
            _problems.Add($"{binding.Tensor.FileName}: tensor '{binding.Tensor.Name}' has shape {binding.Tensor.Entry.ShapeText}, expected {expected}{source}");
        }
    }

    private void CheckShape(TensorBinding? binding, int length)
    {
        if (binding is null)
            return;
        var shape = binding.Tensor.Entry.Shape;
        if (shape.Length != 1 || shape[0] != length)
            _problems.Add($"{binding.Tensor.FileName}: tensor '{binding.Tensor.Name}' has shape {binding.Tensor.Entry.ShapeText}, expected [{length}]");
    }
}
