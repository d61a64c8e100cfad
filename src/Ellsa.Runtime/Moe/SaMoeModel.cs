using Ellsa.Kernels.Backend;
using Ellsa.Runtime.Checkpoints;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Weights;

namespace Ellsa.Runtime.Moe;

/// <summary>
/// The loaded SA-MoE: both experts resident on one backend. Immutable after loading and safe
/// to share; each sequence (or duplex session) gets its own <see cref="SequenceState"/>.
/// </summary>
public sealed class SaMoeModel : IExpertModel, IDisposable
{
    private readonly HostWeights? _host;
    private readonly ExpertWeights[] _experts;
    private int _disposed;

    public SaMoeModel(ModelConfig config, IComputeBackend backend, HostWeights host)
    {
        Config = config;
        Backend = backend;
        _host = host;
        Router = new MarkerRouter(config.Settings.Tokens);
        Speech = ExpertWeights.Upload(backend, Expert.Speech, config.Speech, host.Speech);
        Vision = ExpertWeights.Upload(backend, Expert.Vision, config.Vision, host.Vision);
        _experts = [Speech, Vision];
        if (!backend.UsesHostWeightsInPlace)
        {
            // The device holds its own copy: release the mapped files and merged buffers now.
            host.Dispose();
            _host = null;
        }
    }

    /// <summary>A model over experts already resident on <paramref name="backend"/> (benchmarks build them there).</summary>
    public SaMoeModel(ModelConfig config, IComputeBackend backend, ExpertWeights speech, ExpertWeights vision)
    {
        config.CheckJointGeometry();
        Config = config;
        Backend = backend;
        Router = new MarkerRouter(config.Settings.Tokens);
        Speech = speech;
        Vision = vision;
        _experts = [Speech, Vision];
    }

    public ModelConfig Config { get; }
    public IComputeBackend Backend { get; }
    public MarkerRouter Router { get; }
    public ExpertWeights Speech { get; }
    public ExpertWeights Vision { get; }

    public ExpertWeights this[Expert expert] => expert == Expert.Speech ? Speech : Vision;

    IReadOnlyList<ExpertWeights> IExpertModel.Experts => _experts;

    int IExpertModel.Route(int id, int current) => (int)Router.Route(id, (Expert)current);

    void IExpertModel.ThrowIfDisposed() => ThrowIfDisposed();

    /// <summary>Reads the configs, binds and loads the checkpoint of <paramref name="directory"/>, and uploads it.</summary>
    /// <param name="format">The projections' format (null: ellsa.json's <c>weights.format</c>).</param>
    public static SaMoeModel Load(string directory, IComputeBackend backend, IProgress<LoadProgress>? progress = null, WeightFormat? format = null)
    {
        var config = ModelConfig.Load(directory);
        var store = CheckpointStore.Open(directory);
        HostWeights? host = null;
        try
        {
            var plan = WeightPlan.Create(store, config);
            // The stored bytes bound what the copies take (the embeddings are never copied).
            bool owned = backend.PrefersOwnedWeights(plan.Bindings.Sum(b => b.ByteLength));
            host = WeightLoader.Load(plan, progress, format: format, ownedProjections: owned);
            return new SaMoeModel(config, backend, host);
        }
        catch
        {
            if (host is not null)
                host.Dispose();
            else
                store.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Checks, from the safetensors headers alone, that the checkpoint fits the configs (every
    /// tensor found, every shape as the configs imply): commands call it before reading their
    /// input, so a wrong config is reported as such and not as an input that disagrees with it.
    /// </summary>
    public static void CheckLoadable(string directory, ModelConfig config)
    {
        using var store = CheckpointStore.Open(directory);
        WeightPlan.Create(store, config).ThrowIfIncomplete();
    }

    /// <summary>A fresh sequence whose KV cache holds <paramref name="capacity"/> positions.</summary>
    /// <param name="chunkRows">Positions per prefill pass (bounds the activation memory); 0: the backend's preference.</param>
    public SequenceState CreateSequence(int capacity, int chunkRows = 0)
    {
        ThrowIfDisposed();
        return new(this, capacity, chunkRows > 0 ? chunkRows : Backend.PreferredPrefillRows);
    }

    /// <summary>True once the weights are freed; sequences on this model then refuse to run.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Frees the weights once, whoever calls first; the caller makes sure no sequence is computing.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        Speech.Dispose();
        Vision.Dispose();
        _host?.Dispose();
    }

    internal void ThrowIfDisposed()
    {
        if (IsDisposed)
            throw new ObjectDisposedException(nameof(SaMoeModel), "the model's weights were freed (Dispose); load the model again");
    }
}
