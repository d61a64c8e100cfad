using System.Text.Json;
using Ellsa.Kernels.Numerics;
using Ellsa.Runtime.Checkpoints;

namespace Ellsa.Tests.Support;

/// <summary>
/// A random ELLSA-shaped checkpoint written in the §4 layout, with the exact values (after dtype
/// rounding) kept in memory so <see cref="NaiveSaMoe"/> can compute from them without going
/// through the engine's loader. Shapes, dtypes, LoRA, biases, RoPE and sharding are all drawn
/// at random, so every run exercises a checkpoint the engine has never seen.
/// </summary>
public sealed class RandomCheckpoint
{
    public sealed class ExpertSpec
    {
        public int Intermediate;
        public double Eps;
        public double Theta;
        public (double Factor, double Low, double High, int Original)? Llama3;
        public int Vocab;
        public int Extra;
        public bool Bias;
    }

    public sealed class Layer
    {
        public double[] InputNorm = [], PostNorm = [];
        public double[][] Q = [], K = [], V = [], O = [], Gate = [], Up = [], Down = [];
        public double[]? QBias, KBias, VBias;
    }

    public sealed class Expert
    {
        public ExpertSpec Spec = new();
        public double[][] Embedding = [];
        public double[][] Head = [];
        public double[] FinalNorm = [];
        public Layer[] Layers = [];
    }

    public int Hidden, LayersCount, Heads, KvHeads, HeadDim;
    public Expert Speech = new(), Vision = new();
    public Dictionary<string, int> Tokens = new();
    public bool MergedLora;

    private readonly Random _random;
    private readonly List<TensorData> _tensors = [];
    private readonly string _dtypeMode;
    private readonly int _loraRank;
    private readonly double _loraAlpha;

    private RandomCheckpoint(Random random, string dtypeMode, bool mergedLora, int loraRank, double loraAlpha)
    {
        _random = random;
        _dtypeMode = dtypeMode;
        MergedLora = mergedLora;
        _loraRank = loraRank;
        _loraAlpha = loraAlpha;
    }

    /// <summary>Draws a model, writes it to <paramref name="directory"/> and returns its values.</summary>
    public static RandomCheckpoint Create(string directory, Random random)
    {
        string[] modes = ["bf16", "f16", "f32", "mixed"];
        var checkpoint = new RandomCheckpoint(random, modes[random.Next(modes.Length)], random.Next(2) == 0, random.Next(2, 6), random.Next(1, 20));
        checkpoint.Build();
        checkpoint.Write(directory, shards: random.Next(1, 4));
        return checkpoint;
    }

    /// <summary>The same with the dtype mode ("bf16", "f16", "f32", "mixed") and the LoRA form chosen.</summary>
    public static RandomCheckpoint Create(string directory, Random random, string dtypeMode, bool mergedLora)
    {
        var checkpoint = new RandomCheckpoint(random, dtypeMode, mergedLora, random.Next(2, 6), random.Next(1, 20));
        checkpoint.Build();
        checkpoint.Write(directory, shards: random.Next(1, 4));
        return checkpoint;
    }

    private void Build()
    {
        KvHeads = _random.Next(1, 4);
        Heads = KvHeads * _random.Next(1, 5);
        HeadDim = 2 * _random.Next(2, 9);
        Hidden = _random.Next(2) == 0 ? Heads * HeadDim : 8 * _random.Next(4, 13);
        LayersCount = _random.Next(1, 4);
        // Special ids sit above the plain text/action ranges, as in the real vocabularies.
        Tokens = new Dictionary<string, int>
        {
            ["bos"] = 100, ["speech_eos"] = 101, ["bot"] = 102, ["eot"] = 103, ["silence"] = 104, ["bop"] = 105, ["eop"] = 106,
            ["boa"] = 230, ["eoa"] = 231, ["eof"] = 232, ["img"] = 233, ["boi"] = 234, ["eoi"] = 235,
            ["visual_base"] = 240, ["visual_count"] = 16, ["action_first"] = 150, ["action_last"] = 220, ["fast_base"] = 220,
        };
        Speech.Spec = new ExpertSpec
        {
            Intermediate = _random.Next(16, 120), Eps = Math.Pow(10, -_random.Next(5, 7)), Theta = _random.Next(2) == 0 ? 500000 : 10000,
            Llama3 = _random.Next(3) == 0 ? null : (_random.Next(2, 9), 1, _random.Next(2, 5), _random.Next(8, 64)),
            Vocab = 110 + _random.Next(0, 20), Extra = _random.Next(0, 8), Bias = _random.Next(3) == 0,
        };
        Vision.Spec = new ExpertSpec
        {
            Intermediate = _random.Next(16, 120), Eps = Math.Pow(10, -_random.Next(5, 7)), Theta = 1_000_000, Llama3 = null,
            Vocab = 256 + _random.Next(0, 20), Extra = 0, Bias = _random.Next(2) == 0,
        };
        BuildExpert(Speech, "speech_expert.model.base_model.model.", "model.");
        BuildExpert(Vision, "vision_expert.model.base_model.model.", "");
    }

    private void BuildExpert(Expert expert, string prefix, string body)
    {
        var spec = expert.Spec;
        bool speech = body.Length > 0;
        string aliasPrefix = speech ? "speech_expert.model." : "vision_expert.model.";
        string p = MergedLora ? aliasPrefix : prefix;
        if (speech)
        {
            expert.Embedding = Matrix(MergedLora ? $"{p}model.embed_tokens.weight" : $"{p}model.embed_tokens.original_embedding.weight", spec.Vocab, Hidden, 1.0);
            expert.Head = Matrix(MergedLora ? $"{p}lm_head.weight" : $"{p}lm_head.original_linear.weight", spec.Vocab, Hidden, 1.0 / Math.Sqrt(Hidden));
            if (spec.Extra > 0)
            {
                expert.Embedding = [.. expert.Embedding, .. Matrix($"{p}model.embed_tokens.additional_embedding", spec.Extra, Hidden, 1.0)];
                expert.Head = [.. expert.Head, .. Matrix($"{p}lm_head.new_linear.weight", spec.Extra, Hidden, 1.0 / Math.Sqrt(Hidden))];
            }
        }
        else
        {
            expert.Embedding = Matrix($"{p}embed_tokens.weight", spec.Vocab, Hidden, 1.0);
            expert.Head = Matrix("vision_expert.lm_head.weight", spec.Vocab, Hidden, 1.0 / Math.Sqrt(Hidden));
        }
        expert.FinalNorm = Norm($"{p}{body}norm.weight", Hidden);
        expert.Layers = new Layer[LayersCount];
        int q = Heads * HeadDim, kv = KvHeads * HeadDim, ff = spec.Intermediate;
        double s = 1.0 / Math.Sqrt(Hidden);
        for (int l = 0; l < LayersCount; l++)
        {
            string b = $"{p}{body}layers.{l}.";
            var layer = new Layer
            {
                InputNorm = Norm($"{b}input_layernorm.weight", Hidden),
                PostNorm = Norm($"{b}post_attention_layernorm.weight", Hidden),
            };
            layer.Q = Projection($"{b}self_attn.q_proj", q, Hidden, s, lora: true);
            layer.K = Projection($"{b}self_attn.k_proj", kv, Hidden, s, lora: true);
            layer.V = Projection($"{b}self_attn.v_proj", kv, Hidden, s, lora: true);
            if (spec.Bias)
            {
                string wrapped = MergedLora ? "" : ".base_layer";
                layer.QBias = Vector($"{b}self_attn.q_proj{wrapped}.bias", q, 0.1);
                layer.KBias = Vector($"{b}self_attn.k_proj{wrapped}.bias", kv, 0.1);
                layer.VBias = Vector($"{b}self_attn.v_proj{wrapped}.bias", kv, 0.1);
            }
            layer.O = Matrix($"{b}self_attn.o_proj.weight", Hidden, q, 1.0 / Math.Sqrt(q));
            layer.Gate = Matrix($"{b}mlp.gate_proj.weight", ff, Hidden, s);
            layer.Up = Matrix($"{b}mlp.up_proj.weight", ff, Hidden, s);
            layer.Down = Matrix($"{b}mlp.down_proj.weight", Hidden, ff, 1.0 / Math.Sqrt(ff));
            expert.Layers[l] = layer;
        }
    }

    /// <summary>
    /// A LoRA-target projection. Unmerged: base + A + B tensors, and the effective matrix W + (α/r)BA
    /// computed here in double. Merged: only the effective matrix, stored as a plain weight.
    /// </summary>
    private double[][] Projection(string name, int rows, int cols, double scale, bool lora)
    {
        if (MergedLora || !lora)
            return Matrix($"{name}.weight", rows, cols, scale);
        var weight = Matrix($"{name}.base_layer.weight", rows, cols, scale);
        var a = Matrix($"{name}.lora_A.default.weight", _loraRank, cols, 1.0 / Math.Sqrt(cols));
        var b = Matrix($"{name}.lora_B.default.weight", rows, _loraRank, 0.2 / Math.Sqrt(_loraRank));
        double scaling = _loraAlpha / _loraRank;
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                double delta = 0;
                for (int k = 0; k < _loraRank; k++)
                    delta += b[r][k] * a[k][c];
                weight[r][c] += scaling * delta;
            }
        }
        return weight;
    }

    private SafetensorsDtype PickDtype() => _dtypeMode switch
    {
        "bf16" => SafetensorsDtype.BF16,
        "f16" => SafetensorsDtype.F16,
        "f32" => SafetensorsDtype.F32,
        _ => new[] { SafetensorsDtype.BF16, SafetensorsDtype.F16, SafetensorsDtype.F32 }[_random.Next(3)],
    };

    private double[][] Matrix(string name, int rows, int cols, double scale)
    {
        var flat = Store(name, [rows, cols], () => Gaussian() * scale);
        return Enumerable.Range(0, rows).Select(r => flat.AsSpan(r * cols, cols).ToArray()).ToArray();
    }

    private double[] Norm(string name, int length) => Store(name, [length], () => 1 + 0.1 * Gaussian());

    private double[] Vector(string name, int length, double scale) => Store(name, [length], () => scale * Gaussian());

    private double[] Store(string name, long[] shape, Func<double> draw) => RoundedTensors.Store(_tensors, name, shape, PickDtype(), draw);

    private double Gaussian() => Math.Sqrt(-2 * Math.Log(1 - _random.NextDouble())) * Math.Cos(2 * Math.PI * _random.NextDouble());

    private void Write(string directory, int shards)
    {
        Directory.CreateDirectory(directory);
        if (shards == 1)
            SafetensorsWriter.Write(Path.Combine(directory, CheckpointStore.SingleFileName), _tensors);
        else
            SafetensorsWriter.WriteSharded(directory, _tensors, shards);
        WriteConfig(Path.Combine(directory, "config.json"), Speech.Spec, Speech.Spec.Vocab);
        WriteConfig(Path.Combine(directory, "vision_config.json"), Vision.Spec, Vision.Spec.Vocab);
        var settings = new Dictionary<string, object> { ["tokens"] = Tokens, ["lora"] = new { r = _loraRank, alpha = _loraAlpha } };
        File.WriteAllText(Path.Combine(directory, "ellsa.json"), JsonSerializer.Serialize(settings));
    }

    private void WriteConfig(string path, ExpertSpec spec, int vocab)
    {
        var config = new Dictionary<string, object?>
        {
            ["hidden_size"] = Hidden, ["intermediate_size"] = spec.Intermediate, ["num_hidden_layers"] = LayersCount,
            ["num_attention_heads"] = Heads, ["num_key_value_heads"] = KvHeads, ["head_dim"] = HeadDim,
            ["rms_norm_eps"] = spec.Eps, ["rope_theta"] = spec.Theta, ["vocab_size"] = vocab,
            ["max_position_embeddings"] = 4096, ["qkv_bias"] = spec.Bias,
            ["rope_scaling"] = spec.Llama3 is { } s
                ? new Dictionary<string, object> { ["rope_type"] = "llama3", ["factor"] = s.Factor, ["low_freq_factor"] = s.Low, ["high_freq_factor"] = s.High, ["original_max_position_embeddings"] = s.Original }
                : null,
        };
        File.WriteAllText(path, JsonSerializer.Serialize(config));
    }
}
