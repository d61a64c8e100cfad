using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Shapes;
using Ellsa.Runtime.Checkpoints;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// CosyVoice2's flow, CausalMaskedDiffWithXvec.inference (cv/flow/flow.py:L194-239), on a backend:
/// speech tokens of one window, prefixed by the prompt's, → token embedding → the upsampling
/// Conformer encoder → encoder_proj (μ, two mel frames per token) → conditional flow matching from
/// the prompt file's frozen noise, conditioned on μ, the projected speaker x-vector and the
/// prompt's mel → the mel of the window's frames (the prompt's removed). Activations are fp32,
/// weights stay in their stored dtype. Every window is encoded afresh with the prompt prepended, as
/// the authors do; besides its weights the flow keeps only the estimator's work on the prompt's
/// complete chunks (<see cref="EstimatorPrefix"/>), which is the same for every window and call,
/// so calls give what independent calls give. Calls may overlap while they share one prompt; the
/// first call with another prompt replaces the stored rows and must not overlap any other.
/// The tensor set must stay open while the flow is used (the CPU backend reads weights in place).
/// </summary>
public sealed class Flow : IDisposable
{
    public const string DefaultPrefix = "speech_expert.generator.flow.";

    private readonly List<IDisposable> _owned = [];
    private readonly DeviceMatrix _tokenEmbedding;
    private readonly Linear _speaker, _projection;
    private readonly ConformerEncoder _encoder;
    private readonly CfmSolver _solver;
    private readonly object _prefixLock = new();
    private EstimatorPrefix? _prefix;

    private Flow(FlowConfig config, IComputeBackend backend, WeightScope scope)
    {
        Config = config;
        Backend = backend;
        int d = config.InputSize, mel = FlowConfig.MelChannels;
        _tokenEmbedding = scope.Pp("input_embedding").Matrix("weight", config.VocabSize, d);
        _speaker = Linear.Load(scope.Pp("spk_embed_affine_layer"), config.SpkEmbedDim, mel);
        _encoder = new ConformerEncoder(scope.Pp("encoder"), config.Encoder);
        _projection = Linear.Load(scope.Pp("encoder_proj"), config.Encoder.OutputSize, mel);
        _solver = new CfmSolver(new Estimator(scope.Pp("decoder").Pp("estimator"), config.Estimator), config.Cfm);
    }

    public FlowConfig Config { get; }
    public IComputeBackend Backend { get; }

    /// <summary>
    /// Whether the estimator reuses its stored work on the prompt's complete chunks (default): the
    /// release's 100 of 167 prompt frames are then computed once, not in each of the 20 passes of
    /// every window; they take 2 × n_timesteps × transformers × 2 × rows × attention width fp32 on
    /// the backend (≈ 460 MB at the release). Off, every pass computes every frame, as the authors' code does.
    /// </summary>
    public bool ReusePromptRows { get; set; } = true;

    /// <summary>When set, each call's encoder and estimator are timed into it (benchmarks only; see <see cref="SpeechOutTimings"/>).</summary>
    public SpeechOutTimings? Timings { get; set; }

    /// <summary>The prompt's first frames whose estimator work is stored and reused (0: none; see <see cref="EstimatorPrefix.PromptRows"/>).</summary>
    public int StoredPromptRows(SpeechPrompt prompt) => EstimatorPrefix.PromptRows(Config, prompt);

    /// <summary>Device bytes of the stored prompt rows (0 before the first call or without reuse).</summary>
    public long PromptRowsBytes
    {
        get
        {
            lock (_prefixLock)
                return _prefix?.Bytes ?? 0;
        }
    }

    /// <summary>
    /// Binds the flow's weights from <paramref name="tensors"/> (speech_decoder.safetensors or the
    /// model checkpoint) with the config's shapes; a missing tensor or a shape the config
    /// contradicts is a <see cref="CheckpointException"/> naming the file and tensor.
    /// </summary>
    public static Flow Load(TensorSet tensors, FlowConfig config, IComputeBackend backend, WeightBindings log, string prefix = DefaultPrefix)
    {
        backend.Require("the speech decoder's flow", NetworkOp.Unary, NetworkOp.Binary, NetworkOp.Normalize, NetworkOp.Im2Col,
            NetworkOp.WeightGemm, NetworkOp.Attention, NetworkOp.MatrixProduct, NetworkOp.Convolution);
        var owned = new List<IDisposable>();
        try
        {
            var flow = new Flow(config, backend, new WeightScope(tensors, backend, log, owned, prefix));
            flow._owned.AddRange(owned);
            return flow;
        }
        catch
        {
            foreach (var item in owned)
                item.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Mel frames the flow produces for a window of <paramref name="tokens"/> tokens after the
    /// prompt: 2(Np + n) − Nf, less 2·pre_lookahead_len when it is not the last window.
    /// </summary>
    public static int OutputFrames(int tokens, SpeechPrompt prompt, bool finalize) =>
        EncodedFrames(tokens, prompt, finalize) - prompt.FeatFrames;

    private static int EncodedFrames(int tokens, SpeechPrompt prompt, bool finalize) =>
        FlowConfig.TokenMelRatio * (prompt.Tokens.Length + tokens) - (finalize ? 0 : FlowConfig.PreLookaheadLen * FlowConfig.TokenMelRatio);

    /// <summary>
    /// The mel of one window of speech tokens (ids 0 … vocab_size − 1), [80, frames] with the
    /// prompt's frames removed; <paramref name="finalize"/> false (a window that is not the last)
    /// drops the frames of the last pre_lookahead_len tokens, which saw zeros where the next
    /// window's tokens will be.
    /// </summary>
    public FlowOutput Infer(ReadOnlySpan<int> tokens, SpeechPrompt prompt, bool finalize = true) => Infer(tokens, prompt, finalize, null);

    internal FlowOutput Infer(ReadOnlySpan<int> tokens, SpeechPrompt prompt, bool finalize, IFlowProbe? probe)
    {
        int frames = CheckWindow(tokens, prompt, finalize);
        int t = prompt.Tokens.Length + tokens.Length, d = Config.InputSize, mel = FlowConfig.MelChannels, promptFrames = prompt.FeatFrames;
        var backend = Backend;
        using var pass = new FlowPass(backend, probe);

        var timings = Timings;
        long start = timings?.Start() ?? 0;
        var ids = pass.Own(backend.AllocateIndices(t));
        backend.Upload(prompt.Tokens, ids, 0);
        backend.Upload(tokens, ids, prompt.Tokens.Length);
        var embedded = pass.Rows("flow.tokens", t, d);
        backend.Embed(_tokenEmbedding, ids, 0, embedded);
        pass.Tap("flow.token_embedding", embedded);

        // F.normalize (flow.py:L209): v / max(‖v‖₂, 1e-12), then spk_embed_affine_layer.
        var xvector = pass.Rows("flow.xvector", 1, Config.SpkEmbedDim);
        backend.Upload(Normalized(prompt.Embedding), xvector);
        var speaker = pass.Rows("flow.speaker", 1, mel);
        _speaker.Forward(backend, xvector, speaker);
        pass.Tap("flow.spks", speaker);

        int encoded = FlowConfig.TokenMelRatio * t;
        var table = pass.Rows("flow.positions", 2 * encoded - 1, d);
        backend.Upload(ConformerPositions.Table(encoded, d), table);
        var hidden = pass.Rows("flow.encoded", encoded, d);
        _encoder.Forward(pass, embedded, table, hidden);

        // The estimator's two inputs: [x | μ | speaker | prompt mel then zeros] and [x | 0 | 0 | 0].
        var conditioned = pass.Rows("flow.conditioned", frames, EstimatorConfig.InChannels);
        var unconditioned = pass.Rows("flow.unconditioned", frames, EstimatorConfig.InChannels);
        Shapes.Fill(backend, unconditioned, 0f);
        backend.Upload(Transposed(prompt.Noise, mel, prompt.NoiseFrames, frames), conditioned.Columns(0, mel));
        var mu = conditioned.Columns(mel, mel);
        _projection.Forward(backend, hidden.RowRange(0, frames), mu);
        pass.Tap("flow.mu", mu);
        Shapes.Copy(backend, ((TensorView)speaker).BroadcastTo(frames, mel), conditioned.Columns(2 * mel, mel));
        var condition = conditioned.Columns(3 * mel, mel);
        Shapes.Fill(backend, condition, 0f);
        if (promptFrames > 0)
            backend.Upload(prompt.Feat, condition.RowRange(0, promptFrames));

        if (timings is not null)
        {
            timings.FlowEncoderMs += timings.Since(start);
            start = timings.Start();
        }
        Solve(pass, conditioned, unconditioned, prompt, reuse: probe is null && ReusePromptRows);
        if (timings is not null)
        {
            timings.EstimatorMs += timings.Since(start);
            timings.FlowCalls++;
            timings.MelFrames += frames - promptFrames;
        }

        int outputFrames = frames - promptFrames;
        var rows = new float[outputFrames * mel];
        backend.Download(conditioned.Columns(0, mel).RowRange(promptFrames, outputFrames), rows);
        return new FlowOutput(Transposed(rows, outputFrames, mel, mel), outputFrames);
    }

    /// <summary>The Euler steps, reusing (and first recording) the prompt's stored rows when asked and there are any.</summary>
    private void Solve(FlowPass pass, TensorSlice conditioned, TensorSlice unconditioned, SpeechPrompt prompt, bool reuse)
    {
        int rows = reuse ? EstimatorPrefix.PromptRows(Config, prompt) : 0;
        if (rows == 0)
        {
            _solver.Solve(pass, conditioned, unconditioned);
            return;
        }
        EstimatorPrefix prefix;
        lock (_prefixLock)
        {
            if (_prefix is null || !ReferenceEquals(_prefix.Prompt, prompt))
            {
                _prefix?.Dispose();
                _prefix = new EstimatorPrefix(Backend, prompt, rows, CfmSolver.Passes);
            }
            prefix = _prefix;
            if (!prefix.Recorded)
            {
                // Recording writes the stored rows: no other call may replay them meanwhile.
                try
                {
                    _solver.Solve(pass, conditioned, unconditioned, prefix);
                }
                catch
                {
                    _prefix.Dispose();
                    _prefix = null;
                    throw;
                }
                return;
            }
        }
        _solver.Solve(pass, conditioned, unconditioned, prefix);
    }

    /// <summary>The flow's frames for the window (refusing what the authors' code would fail on or silently misread).</summary>
    private int CheckWindow(ReadOnlySpan<int> tokens, SpeechPrompt prompt, bool finalize)
    {
        for (int i = 0; i < tokens.Length; i++)
        {
            if ((uint)tokens[i] >= (uint)Config.VocabSize)
                throw new ArgumentException($"speech token {i} is {tokens[i]}, outside the flow's vocabulary 0…{Config.VocabSize - 1}");
        }
        int outOfRange = Array.FindIndex(prompt.Tokens, id => id >= Config.VocabSize);
        if (outOfRange >= 0)
            throw new CheckpointException(prompt.FileName, SpeechPrompt.TokenName,
                $"holds id {prompt.Tokens[outOfRange]} at position {outOfRange}, outside the flow's vocabulary 0…{Config.VocabSize - 1}");
        if (prompt.Embedding.Length != Config.SpkEmbedDim)
            throw new CheckpointException(prompt.FileName, SpeechPrompt.EmbeddingName,
                $"has {prompt.Embedding.Length} values, but the flow's spk_embed_dim is {Config.SpkEmbedDim}");
        int frames = EncodedFrames(tokens.Length, prompt, finalize);
        if (frames <= prompt.FeatFrames)
            throw new ArgumentException($"a window of {tokens.Length} speech tokens gives {frames} mel frames with the prompt, " +
                $"no more than the prompt's own {prompt.FeatFrames}: nothing would be left to synthesise");
        if (prompt.NoiseFrames < frames)
            throw new CheckpointException(prompt.FileName, SpeechPrompt.NoiseName,
                $"holds {prompt.NoiseFrames} frames of noise, but a window of {tokens.Length} tokens after the {prompt.Tokens.Length}-token prompt needs {frames}");
        return frames;
    }

    private static float[] Normalized(float[] vector)
    {
        double norm = Math.Sqrt(vector.Sum(v => (double)v * v));
        double scale = 1 / Math.Max(norm, 1e-12);
        return vector.Select(v => (float)(v * scale)).ToArray();
    }

    /// <summary>The first <paramref name="columns"/> columns of a row-major [rows, stride] matrix, transposed to [columns, rows].</summary>
    private static float[] Transposed(float[] matrix, int rows, int stride, int columns)
    {
        var result = new float[columns * rows];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                result[c * rows + r] = matrix[r * stride + c];
        return result;
    }

    public void Dispose()
    {
        Backend.Synchronize();
        _prefix?.Dispose();
        _prefix = null;
        foreach (var item in _owned)
            item.Dispose();
        _owned.Clear();
    }
}
