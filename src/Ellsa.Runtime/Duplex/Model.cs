using Ellsa.Kernels.Backend;
using Ellsa.Runtime.Codecs.Fast;
using Ellsa.Runtime.Codecs.Text;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Moe;
using Ellsa.Runtime.Weights;

namespace Ellsa.Runtime.Duplex;

/// <summary>
/// A loaded ELLSA model for embedders: the SA-MoE network plus the codecs found beside it (text
/// tokenizer, FAST action codec with its norm stats, and — when they exist — the speech and image
/// encoders). Thread-safe and shared: create one <see cref="Session"/> per conversation; sessions
/// on one model take turns on its device, a block at a time.
/// </summary>
public sealed class Model : IDisposable
{
    internal readonly object ComputeGate = new();

    public Model(SaMoeModel network, TextTokenizer? tokenizer, FastActionCodec? fast)
    {
        Network = network;
        Tokenizer = tokenizer;
        Fast = fast;
    }

    public SaMoeModel Network { get; }
    public TextTokenizer? Tokenizer { get; }
    public FastActionCodec? Fast { get; }
    /// <summary>Turns raw block audio into embeddings; none exists in this build yet.</summary>
    public ISpeechEncoder? SpeechEncoder { get; init; }
    /// <summary>Turns raw frames into VQ codes; none exists in this build yet.</summary>
    public IImageEncoder? ImageEncoder { get; init; }

    /// <summary>Loads the network and every codec asset that <c>ellsa.json</c> points to and that exists.</summary>
    public static Model Load(string directory, IComputeBackend backend, IProgress<LoadProgress>? progress = null)
    {
        var network = SaMoeModel.Load(directory, backend, progress);
        try
        {
            var settings = network.Config.Settings;
            settings.Tokens.CheckVocabularies(network.Speech.VocabSize, network.Vision.VocabSize);
            var codecs = settings.Codecs;
            string? tokenizerPath = CodecSettings.ExistingFile(directory, "text.tokenizer", codecs.Tokenizer);
            var tokenizer = tokenizerPath is null ? null : TextTokenizer.Load(tokenizerPath);
            FastActionCodec? fast = null;
            if (CodecSettings.ExistingDirectory(directory, "fast.assets", codecs.FastAssets) is { } fastPath)
            {
                fast = FastActionCodec.Load(fastPath, new FastCodecOptions
                {
                    TimeHorizon = codecs.TimeHorizon,
                    ActionDim = codecs.ActionDim,
                    NormStatsPath = CodecSettings.ExistingFile(directory, "fast.norm_stats", codecs.NormStats),
                    NormStatsKey = codecs.NormKey,
                });
            }
            return new Model(network, tokenizer, fast);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    public Session CreateSession(SessionOptions? options = null) => new(this, options ?? new SessionOptions());

    public void Dispose() => Network.Dispose();
}
