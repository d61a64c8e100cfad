using Ellsa.Runtime.Checkpoints;
using Ellsa.Runtime.Codecs.SpeechOut;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.SpeechOut;

/// <summary>
/// A random speech LM and generator_proj under the checkpoint's names, of a random small geometry and
/// random storage dtypes, written to <c>speech_decoder.safetensors</c> with the stored values kept for
/// <see cref="NaiveSpeechLm"/> (which never goes through the engine's loader or kernels).
/// </summary>
public sealed class RandomSpeechLm
{
    private const string Proj = "speech_expert.generator_proj.";
    private const string Llm = "speech_expert.generator.llm.";

    private readonly Random _random;
    private readonly List<TensorData> _tensors = [];

    private RandomSpeechLm(Random random, LlmConfig config, GeneratorProjConfig projection)
    {
        _random = random;
        Config = config;
        Projection = projection;
    }

    public LlmConfig Config { get; }
    public GeneratorProjConfig Projection { get; }
    public string WeightsPath { get; private set; } = "";
    public double[][] ProjIn { get; private set; } = [];
    public double[][] ProjOut { get; private set; } = [];
    public double[] ProjInBias { get; private set; } = [];
    public double[] ProjOutBias { get; private set; } = [];
    public double[] ProjNormWeight { get; private set; } = [];
    public double[] ProjNormBias { get; private set; } = [];
    public double[] Sos { get; private set; } = [];
    public double[] TaskId { get; private set; } = [];
    /// <summary>The Qwen2 body as the naive forward takes it: speech_embedding as its table, llm_decoder as its head.</summary>
    public RandomCheckpoint.Expert Body { get; } = new();
    public double[] HeadBias { get; private set; } = [];
    public NaiveSaMoe.Geometry Geometry => new(Config.Qwen2.Layers, Config.Qwen2.Heads, Config.Qwen2.KvHeads, Config.Qwen2.HeadDim);

    /// <summary>
    /// Draws a model whose protocol is <paramref name="protocol"/> (text_chunk, audio_chunk, ratio) and writes
    /// it to <paramref name="directory"/>; <paramref name="eosBias"/> and <paramref name="fillBias"/> are added
    /// to llm_decoder's bias at EOS and the two fill ids, to make the final phase meet them as often as wanted.
    /// </summary>
    public static RandomSpeechLm Create(string directory, Random random, (int TextChunk, int AudioChunk, double Ratio) protocol,
        double eosBias = 0, double fillBias = 0)
    {
        int kvHeads = random.Next(1, 3);
        int heads = kvHeads * random.Next(1, 4);
        int headDim = 2 * random.Next(2, 5);
        var qwen2 = new Qwen2Config
        {
            HiddenSize = heads * headDim, IntermediateSize = random.Next(8, 40), Layers = random.Next(1, 3), Heads = heads, KvHeads = kvHeads,
            RmsNormEps = 1e-6, RopeTheta = random.Next(2) == 0 ? 1e4 : 1e6, VocabSize = 11, MaxPositionEmbeddings = 4096,
        };
        var config = new LlmConfig
        {
            LlmInputSize = qwen2.HiddenSize, LlmOutputSize = qwen2.HiddenSize, SpeechTokenSize = random.Next(12, 40),
            TextChunk = protocol.TextChunk, AudioChunk = protocol.AudioChunk, Ratio = protocol.Ratio, Qwen2 = qwen2,
        };
        var projection = new GeneratorProjConfig { InputSize = random.Next(4, 20), HiddenSize = random.Next(4, 24), OutputSize = qwen2.HiddenSize };
        var model = new RandomSpeechLm(random, config, projection);
        model.Build(eosBias, fillBias);
        Directory.CreateDirectory(directory);
        model.WeightsPath = Path.Combine(directory, "speech_decoder.safetensors");
        SafetensorsWriter.Write(model.WeightsPath, model._tensors);
        return model;
    }

    private void Build(double eosBias, double fillBias)
    {
        var p = Projection;
        var q = Config.Qwen2;
        int d = q.HiddenSize, qd = q.Heads * q.HeadDim, kvd = q.KvHeads * q.HeadDim, ff = q.IntermediateSize, rows = Config.DecoderRows;
        ProjIn = Matrix(Proj + "0.weight", p.HiddenSize, p.InputSize, 1 / Math.Sqrt(p.InputSize));
        ProjInBias = Vector(Proj + "0.bias", p.HiddenSize, 0.1);
        ProjOut = Matrix(Proj + "2.weight", p.OutputSize, p.HiddenSize, Math.Sqrt(2.0 / p.HiddenSize));
        ProjOutBias = Vector(Proj + "2.bias", p.OutputSize, 0.1);
        ProjNormWeight = Norm(Proj + "3.weight", p.OutputSize);
        ProjNormBias = Vector(Proj + "3.bias", p.OutputSize, 0.1);

        var embeddings = Matrix(Llm + "llm_embedding.weight", 2, d, 1);
        (Sos, TaskId) = (embeddings[0], embeddings[1]);
        Body.Spec = new RandomCheckpoint.ExpertSpec { Intermediate = ff, Eps = q.RmsNormEps, Theta = q.RopeTheta, Vocab = rows, Bias = true };
        Body.Embedding = Matrix(Llm + "speech_embedding.weight", rows, d, 1);
        Body.Head = Matrix(Llm + "llm_decoder.weight", rows, d, 2 / Math.Sqrt(d));
        var bias = Enumerable.Range(0, rows).Select(i => 0.1 * Gaussian() + (i == Config.Eos ? eosBias : i > Config.Eos ? fillBias : 0)).ToArray();
        HeadBias = RoundedTensors.Store(_tensors, Llm + "llm_decoder.bias", [rows], SafetensorsDtype.F32, new Queue<double>(bias).Dequeue);
        string body = Llm + "llm.model.model.";
        Matrix(body + "embed_tokens.weight", q.VocabSize, d, 1);
        Body.FinalNorm = Norm(body + "norm.weight", d);
        Body.Layers = Enumerable.Range(0, q.Layers).Select(l =>
        {
            string layer = $"{body}layers.{l}.";
            return new RandomCheckpoint.Layer
            {
                InputNorm = Norm(layer + "input_layernorm.weight", d),
                PostNorm = Norm(layer + "post_attention_layernorm.weight", d),
                Q = Matrix(layer + "self_attn.q_proj.weight", qd, d, 1 / Math.Sqrt(d)),
                K = Matrix(layer + "self_attn.k_proj.weight", kvd, d, 1 / Math.Sqrt(d)),
                V = Matrix(layer + "self_attn.v_proj.weight", kvd, d, 1 / Math.Sqrt(d)),
                QBias = Vector(layer + "self_attn.q_proj.bias", qd, 0.3),
                KBias = Vector(layer + "self_attn.k_proj.bias", kvd, 0.3),
                VBias = Vector(layer + "self_attn.v_proj.bias", kvd, 0.1),
                O = Matrix(layer + "self_attn.o_proj.weight", d, qd, 0.5 / Math.Sqrt(qd)),
                Gate = Matrix(layer + "mlp.gate_proj.weight", ff, d, 1 / Math.Sqrt(d)),
                Up = Matrix(layer + "mlp.up_proj.weight", ff, d, 1 / Math.Sqrt(d)),
                Down = Matrix(layer + "mlp.down_proj.weight", d, ff, 0.5 / Math.Sqrt(ff)),
            };
        }).ToArray();
    }

    private double[][] Matrix(string name, int rows, int cols, double scale)
    {
        var dtypes = new[] { SafetensorsDtype.BF16, SafetensorsDtype.F16, SafetensorsDtype.F32 };
        var flat = RoundedTensors.Store(_tensors, name, [rows, cols], dtypes[_random.Next(3)], () => scale * Gaussian());
        return Enumerable.Range(0, rows).Select(r => flat.AsSpan(r * cols, cols).ToArray()).ToArray();
    }

    private double[] Vector(string name, int length, double scale) => RoundedTensors.Store(_tensors, name, [length], SafetensorsDtype.F32, () => scale * Gaussian());

    private double[] Norm(string name, int length) => RoundedTensors.Store(_tensors, name, [length], SafetensorsDtype.F32, () => 1 + 0.1 * Gaussian());

    private double Gaussian() => Math.Sqrt(-2 * Math.Log(1 - _random.NextDouble())) * Math.Cos(2 * Math.PI * _random.NextDouble());
}
