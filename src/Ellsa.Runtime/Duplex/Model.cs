using Ellsa.Kernels.Backend;
using Ellsa.Runtime.Codecs.Fast;
using Ellsa.Runtime.Codecs.Speech;
using Ellsa.Runtime.Codecs.SpeechOut;
using Ellsa.Runtime.Codecs.Text;
using Ellsa.Runtime.Codecs.Vision;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Moe;
using Ellsa.Runtime.Weights;

namespace Ellsa.Runtime.Duplex;

/// <summary>
/// A loaded ELLSA model for embedders: the SA-MoE network plus the codecs found beside it (text
/// tokenizer, FAST action codec with its norm stats, and — when they exist — the speech and image
/// encoders). Thread-safe and shared: create one <see cref="Session"/> per conversation; sessions
/// on one model take turns on its device, a block at a time.
/// <para>
/// Lifetime: <see cref="Dispose"/> may race with sessions on other threads. It waits for the block
/// being computed (the compute gate) and then frees the weights at once; from then on
/// <see cref="CreateSession"/> and every session's <see cref="Session.Step"/> throw
/// <see cref="ObjectDisposedException"/> naming the model. Sessions do not keep the weights alive:
/// a controller shutting down wants the device memory back, not a model that lingers until its
/// last session is found. Dispose the sessions too (in any order); each frees its own KV cache.
/// </para>
/// </summary>
public sealed class Model : IDisposable
{
    /// <summary>Held while a block computes and while the weights are freed, so neither sees the other half done.</summary>
    internal readonly object ComputeGate = new();
    private volatile bool _disposed;
    /// <summary>True while a Step holds the gate: a re-entrant Dispose from an encoder callback on that thread must not free the weights under it.</summary>
    private bool _computing;

    public Model(SaMoeModel network, TextTokenizer? tokenizer, FastActionCodec? fast)
    {
        Network = network;
        Tokenizer = tokenizer;
        Fast = fast;
    }

    public SaMoeModel Network { get; }
    public TextTokenizer? Tokenizer { get; }
    public FastActionCodec? Fast { get; }
    /// <summary>Turns raw block audio into embeddings: fbank, the SPEAR Zipformer2 encoder and the projector, when the model directory has them.</summary>
    public SpeechListener? Speech { get; init; }
    /// <summary>Turns raw frames into VQ codes: the Emu3 VisionVQ tokenizer when the model directory has vision_tokenizer/.</summary>
    public IImageEncoder? ImageEncoder { get; init; }
    /// <summary>Turns the speech expert's hidden rows into 24 kHz speech: generator_proj, the speech LM, the flow and HiFT, when the model directory has them.</summary>
    public SpeechSpeaker? Speaker { get; init; }

    /// <summary>Loads the network and every codec asset that <c>ellsa.json</c> points to and that exists.</summary>
    /// <param name="format">The projections' format (null: ellsa.json's <c>weights.format</c>).</param>
    /// <param name="speaker">False: leave the speech decoder unloaded even when the directory has one (text-only sessions, less memory).</param>
    public static Model Load(string directory, IComputeBackend backend, IProgress<LoadProgress>? progress = null, WeightFormat? format = null, bool speaker = true)
    {
        var network = SaMoeModel.Load(directory, backend, progress, format);
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
            VisionFrameEncoder? vision = Directory.Exists(Path.Combine(directory, VisionTokenizer.DirectoryName))
                ? VisionFrameEncoder.Load(directory, backend, settings.Tokens.VisualCount, settings.Image.CodesPerFrame)
                : null;
            SpeechListener? speech = null;
            SpeechSpeaker? decoder = null;
            try
            {
                speech = SpeechListener.IsPresent(directory) ? SpeechListener.Load(directory, backend) : null;
                if (speech is not null)
                    CheckSpeechGeometry(speech, network.Config.Speech.HiddenSize);
                decoder = speaker && SpeechSpeaker.IsPresent(directory) ? SpeechSpeaker.Load(directory, backend) : null;
                if (decoder is not null && decoder.Projection.Config.InputSize != network.Config.Speech.HiddenSize)
                    throw new ConfigException(
                        $"{EllsaSettings.FileName}: speech_decoder.generator_proj.input_size is {decoder.Projection.Config.InputSize}, but the speech expert's hidden_size is {network.Config.Speech.HiddenSize}: generator_proj reads its hidden states");
            }
            catch
            {
                decoder?.Dispose();
                speech?.Dispose();
                (vision as IDisposable)?.Dispose();
                throw;
            }
            return new Model(network, tokenizer, fast) { ImageEncoder = vision, Speech = speech, Speaker = decoder };
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>The session splices the projector's rows after each block's bos: they must be the speech expert's width, 5 per second.</summary>
    private static void CheckSpeechGeometry(SpeechListener speech, int hiddenSize)
    {
        if (speech.Config.OutputDim != hiddenSize)
            throw new ConfigException(
                $"{EllsaSettings.FileName}: speech_encoder.output_dim is {speech.Config.OutputDim}, but the speech expert's hidden_size is {hiddenSize}: the projector's rows are its input embeddings");
        if (speech.RowsPerSecond != SessionFile.AudioRowsPerBlock)
            throw new ConfigException(
                $"{EllsaSettings.FileName}: speech_encoder gives {speech.RowsPerSecond:G4} rows per second (50 Hz / (output_downsampling_factor × seg_size)); a 1-second block takes {SessionFile.AudioRowsPerBlock}");
    }

    /// <summary>True once <see cref="Dispose"/> has run: sessions can no longer step.</summary>
    public bool IsDisposed => _disposed;

    /// <summary>
    /// A new conversation. The options are checked here (context limit against
    /// max_position_embeddings, decode limits, deadline, prompt ids against the vocabularies), so a
    /// bad value fails before the KV cache is allocated.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The model was disposed (also when that happens while the session is created).</exception>
    public Session CreateSession(SessionOptions? options = null)
    {
        ThrowIfDisposed();
        Session session;
        try
        {
            session = new Session(this, options ?? new SessionOptions());
        }
        catch (ObjectDisposedException) when (_disposed)
        {
            ThrowIfDisposed();
            throw;
        }
        if (_disposed)
        {
            // Dispose won the race while the cache was allocated: hand nothing out that cannot step.
            session.Dispose();
            ThrowIfDisposed();
        }
        return session;
    }

    /// <summary>
    /// Waits for the block being computed, then frees the weights (once; later calls do nothing).
    /// Afterwards every session of this model throws <see cref="ObjectDisposedException"/> from Step.
    /// </summary>
    public void Dispose()
    {
        lock (ComputeGate)
        {
            if (_disposed)
                return;
            if (_computing)
                throw new InvalidOperationException(
                    "Model.Dispose was called from inside a Step on the same thread (an encoder callback); dispose the model after the Step returns");
            _disposed = true;
            Network.Dispose();
            (ImageEncoder as IDisposable)?.Dispose();
            Speech?.Dispose();
            Speaker?.Dispose();
        }
    }

    internal void ThrowIfDisposed()
    {
        if (_disposed)
            throw new ObjectDisposedException(nameof(Model), "the model was disposed (Model.Dispose); create sessions on a loaded model");
    }

    /// <summary>Runs one block's compute under the gate; the model must still be alive once the gate is held.</summary>
    internal T Compute<T>(Func<T> block)
    {
        lock (ComputeGate)
        {
            ThrowIfDisposed();
            _computing = true;
            try
            {
                return block();
            }
            finally
            {
                _computing = false;
            }
        }
    }
}
