using Ellsa.Kernels.Backend;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Weights;

namespace Ellsa.Runtime.Moe;

/// <summary>One decoder layer of one expert, resident on the backend.</summary>
public sealed record DeviceLayer(
    DeviceVector InputNorm, DeviceVector PostNorm, DeviceMatrix Qkv, DeviceVector? QkvBias,
    DeviceMatrix O, DeviceMatrix GateUp, DeviceMatrix Down);

/// <summary>One expert resident on the backend, with its configuration and RoPE frequencies.</summary>
public sealed class ExpertWeights : IDisposable
{
    private ExpertWeights(string name, ExpertConfig config, DeviceMatrix embedding, DeviceLayer[] layers,
        DeviceVector finalNorm, DeviceMatrix head, DeviceVector? headBias)
    {
        Name = name;
        Config = config;
        Embedding = embedding;
        Layers = layers;
        FinalNorm = finalNorm;
        Head = head;
        HeadBias = headBias;
        RopeFrequencies = Moe.RopeFrequencies.Compute(config.HeadDim, config.RopeTheta, config.RopeScaling);
    }

    /// <summary>What errors call the expert ("speech", "vision").</summary>
    public string Name { get; }
    public ExpertConfig Config { get; }
    public DeviceMatrix Embedding { get; }
    public DeviceLayer[] Layers { get; }
    public DeviceVector FinalNorm { get; }
    public DeviceMatrix Head { get; }
    /// <summary>The head's bias (CosyVoice2's llm_decoder has one; the SA-MoE heads do not).</summary>
    public DeviceVector? HeadBias { get; }
    public double[] RopeFrequencies { get; }
    public float Eps => (float)Config.RmsNormEps;
    /// <summary>Ids the embedding accepts (original plus extra rows).</summary>
    public int VocabSize => Embedding.Rows;
    /// <summary>Logits the head produces.</summary>
    public int HeadSize => Head.Rows;

    /// <summary>Bytes one decode step through this expert reads: every layer matrix and the head.</summary>
    public long DecodeBytes => Layers.Sum(l => l.Qkv.ByteSize + l.O.ByteSize + l.GateUp.ByteSize + l.Down.ByteSize) + Head.ByteSize;

    /// <summary>Wraps parameters already on the device (benchmarks generate random weights there).</summary>
    public static ExpertWeights FromDevice(Expert expert, ExpertConfig config, DeviceMatrix embedding, DeviceLayer[] layers,
        DeviceVector finalNorm, DeviceMatrix head) =>
        FromDevice(expert.Describe(), config, embedding, layers, finalNorm, head, null);

    /// <summary>Wraps parameters already on the device (a network's weight scope made them; its owner may free them instead of <see cref="Dispose"/>).</summary>
    public static ExpertWeights FromDevice(string name, ExpertConfig config, DeviceMatrix embedding, DeviceLayer[] layers,
        DeviceVector finalNorm, DeviceMatrix head, DeviceVector? headBias) =>
        new(name, config, embedding, layers, finalNorm, head, headBias);

    public static ExpertWeights Upload(IComputeBackend backend, Expert expert, ExpertConfig config, HostExpert host)
    {
        var layers = host.Layers.Select(l => new DeviceLayer(
            backend.UploadVector(l.InputNorm),
            backend.UploadVector(l.PostNorm),
            backend.UploadMatrix(l.Qkv),
            l.QkvBias is null ? null : backend.UploadVector(l.QkvBias),
            backend.UploadMatrix(l.O),
            backend.UploadMatrix(l.GateUp),
            backend.UploadMatrix(l.Down))).ToArray();
        return new ExpertWeights(expert.Describe(), config,
            backend.UploadMatrix(host.Embedding),
            layers,
            backend.UploadVector(host.FinalNorm),
            backend.UploadMatrix(host.Head),
            headBias: null);
    }

    public void Dispose()
    {
        Embedding.Dispose();
        Head.Dispose();
        HeadBias?.Dispose();
        FinalNorm.Dispose();
        foreach (var layer in Layers)
        {
            layer.InputNorm.Dispose();
            layer.PostNorm.Dispose();
            layer.Qkv.Dispose();
            layer.QkvBias?.Dispose();
            layer.O.Dispose();
            layer.GateUp.Dispose();
            layer.Down.Dispose();
        }
    }
}
