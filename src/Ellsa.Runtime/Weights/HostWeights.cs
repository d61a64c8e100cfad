using Ellsa.Kernels.Backend;

namespace Ellsa.Runtime.Weights;

/// <summary>One decoder layer's parameters in host memory, with q|k|v and gate|up fused into single matrices.</summary>
public sealed record HostLayer(
    float[] InputNorm, float[] PostNorm, HostMatrix Qkv, float[]? QkvBias, HostMatrix O, HostMatrix GateUp, HostMatrix Down);

/// <summary>One expert's parameters in host memory.</summary>
public sealed record HostExpert(HostMatrix Embedding, HostLayer[] Layers, float[] FinalNorm, HostMatrix Head);

/// <summary>
/// Both experts' parameters, ready for a backend. bf16 and f32 tensors point into the mapped
/// checkpoint; f16 tensors and merged LoRA projections live in buffers this object owns, so it
/// (and the checkpoint it holds open) must outlive any backend that uses the weights in place.
/// </summary>
public sealed class HostWeights : IDisposable
{
    private readonly List<IDisposable> _owned;

    /// <param name="owned">What the matrices point into (mapped checkpoint files, loader buffers), released with the weights.</param>
    public HostWeights(HostExpert speech, HostExpert vision, IEnumerable<IDisposable> owned)
    {
        Speech = speech;
        Vision = vision;
        _owned = owned.ToList();
    }

    public HostExpert Speech { get; }
    public HostExpert Vision { get; }

    public HostExpert this[Moe.Expert expert] => expert == Moe.Expert.Speech ? Speech : Vision;

    public void Dispose()
    {
        foreach (var item in _owned)
            item.Dispose();
        _owned.Clear();
    }
}
