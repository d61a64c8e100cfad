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
    private ExpertWeights(Expert expert, ExpertConfig config, DeviceMatrix embedding, DeviceLayer[] layers,
        DeviceVector finalNorm, DeviceMatrix head, double[] ropeFrequencies)
    {
        Expert = expert;
        Config = config;
        Embedding = embedding;
        Layers = layers;
        FinalNorm = finalNorm;
        Head = head;
        RopeFrequencies = ropeFrequencies;
    }

    public Expert Expert { get; }
    public ExpertConfig Config { get; }
    public DeviceMatrix Embedding { get; }
    public DeviceLayer[] Layers { get; }
    public DeviceVector FinalNorm { get; }
    public DeviceMatrix Head { get; }
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
        new(expert, config, embedding, layers, finalNorm, head,
            Moe.RopeFrequencies.Compute(config.HeadDim, config.RopeTheta, config.RopeScaling));

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
        return new ExpertWeights(expert, config,
            backend.UploadMatrix(host.Embedding),
            layers,
            backend.UploadVector(host.FinalNorm),
            backend.UploadMatrix(host.Head),
            Moe.RopeFrequencies.Compute(config.HeadDim, config.RopeTheta, config.RopeScaling));
    }

    public void Dispose()
    {
        Embedding.Dispose();
        Head.Dispose();
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
