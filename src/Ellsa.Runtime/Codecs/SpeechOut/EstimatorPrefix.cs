using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Shapes;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// The estimator's work on the prompt's complete chunks, computed once per prompt and reused by
/// every window and call. Exact, not an approximation: the chunk masks count from the prompt's
/// first frame, the convs are causal and the rest works row by row, so the first
/// <see cref="Rows"/> frames of every estimator pass see only those frames; their inputs are fixed
/// (the prompt file's noise rows, μ of tokens whose lookahead stays inside the prompt, the speaker
/// row, the prompt mel, the schedule's t), so each of the 2 × n_timesteps passes gives them the same
/// activations whatever follows. What later frames read of them is stored per pass: every
/// transformer's keys and values of those rows, and the kernel − 1 rows before the boundary of
/// every causal conv's input. A recorded prefix makes a pass compute only the frames after it.
/// </summary>
internal sealed class EstimatorPrefix(IComputeBackend backend, SpeechPrompt prompt, int rows, int passes) : IDisposable
{
    private readonly IComputeBackend _backend = backend;
    private readonly int _passes = passes;
    private readonly List<DeviceTensor> _contexts = [];
    private readonly List<(DeviceTensor Keys, DeviceTensor Values)> _attention = [];

    /// <summary>The prompt whose rows are stored (compared by reference).</summary>
    public SpeechPrompt Prompt => prompt;

    /// <summary>Frames [0, Rows) stored: a whole number of estimator chunks.</summary>
    public int Rows => rows;

    /// <summary>Whether every pass has been recorded (then passes replay).</summary>
    public bool Recorded { get; private set; }

    /// <summary>
    /// The frames of the flow's estimator, counted from the prompt's first, whose activations the
    /// prompt alone fixes: the largest multiple of the estimator's chunk within both the prompt's
    /// mel and the μ rows of the encoder's complete token chunks whose pre-lookahead (3 tokens) stays
    /// in the prompt. 0 when there is none (or fewer than a causal conv's history).
    /// </summary>
    public static int PromptRows(FlowConfig config, SpeechPrompt prompt)
    {
        int tokenChunk = config.Encoder.StaticChunkSize, frameChunk = config.Estimator.StaticChunkSize;
        if (tokenChunk <= 0 || frameChunk <= 0)
            return 0;
        int tokens = Math.Max(0, prompt.Tokens.Length - FlowConfig.PreLookaheadLen) / tokenChunk * tokenChunk;
        int fixedFrames = Math.Min(FlowConfig.TokenMelRatio * tokens, prompt.FeatFrames);
        int frames = fixedFrames / frameChunk * frameChunk;
        return frames >= CausalBlock.Kernel - 1 ? frames : 0;
    }

    /// <summary>
    /// Starts estimator pass <paramref name="pass"/> (2·step, +1 for the unconditioned one) of a
    /// call; recording runs only the prefix's rows and must not overlap any other use.
    /// </summary>
    public Cursor Begin(int pass, bool recording)
    {
        if (!recording && !Recorded)
            throw new InvalidOperationException("the estimator prefix is replayed before it was recorded");
        return new Cursor(this, pass, recording);
    }

    /// <summary>Marks the recording complete once every pass has run.</summary>
    public void Complete() => Recorded = true;

    /// <summary>One estimator pass's walk through the stored rows, in the order the estimator reaches them.</summary>
    internal sealed class Cursor(EstimatorPrefix prefix, int pass, bool recording)
    {
        private int _site, _block;

        /// <summary>Whether the pass stores (the prefix's own rows run) or reads (the frames after it run).</summary>
        public bool Recording => recording;

        /// <summary>Rows of a transformer's key and value buffers before the pass's own: the prefix's, when replaying.</summary>
        public int KeyLead => recording ? 0 : prefix.Rows;

        /// <summary>
        /// A causal conv of <paramref name="kernel"/> taps: recording, over the prefix's rows (zeros
        /// before the first), storing the input's last kernel − 1 rows; replaying, over the frames after
        /// the prefix with those rows written into the kernel − 1 rows of <paramref name="input"/>'s
        /// tensor before it (every replayed conv input has them).
        /// </summary>
        public void CausalConv(FlowPass flowPass, Conv conv, int kernel, TensorSlice input, TensorSlice output)
        {
            var backend = prefix._backend;
            int lead = kernel - 1;
            if (recording && pass == 0)
                prefix._contexts.Add(backend.AllocateTensor(prefix._passes * lead, input.Cols));
            var stored = prefix._contexts[_site++].RowRange(pass * lead, lead);
            if (recording)
            {
                Shapes.Copy(backend, input.RowRange(input.Rows - lead, lead), stored);
                flowPass.Conv1d(conv, kernel, input, output, padBefore: lead);
                return;
            }
            var extended = new TensorSlice(input.Tensor, input.Row - lead, input.Rows + lead, input.Col, input.Cols);
            Shapes.Copy(backend, stored, extended.RowRange(0, lead));
            flowPass.Conv1d(conv, kernel, extended, output, padBefore: 0);
        }

        /// <summary>
        /// A transformer's keys and values, [KeyLead + frames, inner]: recording, the prefix's own rows
        /// are stored; replaying, the stored rows fill the first <see cref="Rows"/>.
        /// </summary>
        public void KeysAndValues(TensorSlice keys, TensorSlice values)
        {
            var backend = prefix._backend;
            int rows = prefix.Rows;
            if (recording && pass == 0)
                prefix._attention.Add((backend.AllocateTensor(prefix._passes * rows, keys.Cols), backend.AllocateTensor(prefix._passes * rows, values.Cols)));
            var (storedKeys, storedValues) = prefix._attention[_block++];
            var k = storedKeys.RowRange(pass * rows, rows);
            var v = storedValues.RowRange(pass * rows, rows);
            if (recording)
            {
                Shapes.Copy(backend, keys.RowRange(0, rows), k);
                Shapes.Copy(backend, values.RowRange(0, rows), v);
            }
            else
            {
                Shapes.Copy(backend, k, keys.RowRange(0, rows));
                Shapes.Copy(backend, v, values.RowRange(0, rows));
            }
        }
    }

    /// <summary>Device bytes the stored rows take.</summary>
    public long Bytes => 4L * (_contexts.Sum(t => (long)t.Rows * t.Cols) + _attention.Sum(a => (long)a.Keys.Rows * a.Keys.Cols * 2));

    public void Dispose()
    {
        _backend.Synchronize();
        foreach (var tensor in _contexts)
            tensor.Dispose();
        foreach (var (keys, values) in _attention)
        {
            keys.Dispose();
            values.Dispose();
        }
        _contexts.Clear();
        _attention.Clear();
    }
}
