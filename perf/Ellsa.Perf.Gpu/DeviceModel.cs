using Ellsa.Kernels.Gpu;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Moe;

namespace Ellsa.Perf.Gpu;

/// <summary>
/// Both experts with random bf16 weights generated on the device (uniform, scaled so the residual
/// stream stays finite through every layer: timings on NaN or zeros would not be honest).
/// </summary>
public static class DeviceModel
{
    /// <param name="q8">Projections and heads as q8 (<see cref="Q8RandomMatrix"/>, made on the host); the embeddings stay bf16.</param>
    public static (ExpertWeights Speech, ExpertWeights Vision) Build(IlgpuBackend backend, BenchShape shape, Action<string> log, bool q8 = false)
    {
        var speech = BuildExpert(backend, Expert.Speech, shape.Config.Speech, shape.SpeechVocab, seed: 1000, log, q8);
        var vision = BuildExpert(backend, Expert.Vision, shape.Config.Vision, shape.VisionVocab, seed: 5000, log, q8);
        return (speech, vision);
    }

    private static ExpertWeights BuildExpert(IlgpuBackend backend, Expert expert, ExpertConfig config, int vocab, uint seed, Action<string> log, bool q8)
    {
        Ellsa.Kernels.Backend.DeviceMatrix Weight(string name, int rows, int cols, uint s, float scale) => q8
            ? Q8RandomMatrix.Create(backend, name, rows, cols, s, scale)
            : backend.CreateRandomMatrix(name, rows, cols, s, scale);
        int d = config.HiddenSize;
        int ff = config.IntermediateSize;
        int qkv = config.QueryWidth + 2 * config.KvWidth;
        // Uniform ±a has standard deviation a/√3: ~1/√fan-in keeps projections of unit-scale inputs at unit scale.
        float Scale(int fanIn) => (float)(Math.Sqrt(3.0 / fanIn));
        var layers = new DeviceLayer[config.Layers];
        string name = expert.Describe();
        for (int l = 0; l < config.Layers; l++)
        {
            uint s = seed + 16u * (uint)l;
            layers[l] = new DeviceLayer(
                backend.CreateRandomVector(d, s, 1f, 0.1f),
                backend.CreateRandomVector(d, s + 1, 1f, 0.1f),
                Weight($"{name}.{l}.qkv_proj", qkv, d, s + 2, Scale(d)),
                config.QkvBias ? backend.CreateRandomVector(qkv, s + 3, 0f, 0.02f) : null,
                Weight($"{name}.{l}.o_proj", d, config.QueryWidth, s + 4, Scale(config.QueryWidth) * 0.5f),
                Weight($"{name}.{l}.gate_up_proj", 2 * ff, d, s + 5, Scale(d)),
                Weight($"{name}.{l}.down_proj", d, ff, s + 6, Scale(ff) * 0.5f));
        }
        log($"{name} expert: {config.Layers} layers generated on the device");
        return ExpertWeights.FromDevice(expert, config,
            backend.CreateRandomMatrix($"{name}.embed_tokens", vocab, d, seed + 900, 1f),
            layers,
            backend.CreateRandomVector(d, seed + 901, 1f, 0.1f),
            Weight($"{name}.lm_head", vocab, d, seed + 902, Scale(d)));
    }
}
