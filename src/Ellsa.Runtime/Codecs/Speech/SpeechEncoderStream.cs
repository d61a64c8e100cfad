using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Convolution;
using Ellsa.Kernels.Ops.Shapes;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.Speech;

/// <summary>
/// One utterance through a <see cref="SpeechEncoder"/>, fed fbank rows in pieces of any size.
/// Frames move through as soon as they are final: the subsampling's frames once the ConvNeXt's
/// three-frame lookahead has arrived, the encoder's in whole chunks (every chunk that became ready
/// goes through each layer together, so the weight products see many rows), the projector's rows
/// once all seg_size of their frames are out. What is not a whole chunk at the end is encoded at
/// <see cref="Finish"/> exactly as the whole-utterance encoding treats the tail, so the streamed
/// rows equal <see cref="SpeechEncoder.EncodeOffline"/>'s for every split. One caller at a time.
/// </summary>
public sealed class SpeechEncoderStream : IDisposable
{
    /// <summary>50 Hz frames one encoder step may take at most (whole chunks): bounds the scratch a long push needs.</summary>
    private const int StepFramesTarget = 256;

    private readonly SpeechEncoder _encoder;
    private readonly SpeechEncoderConfig _config;
    private readonly Workspace _ws;
    private readonly ConvWorkspace _convWork;
    private readonly ConvSubsampling.State _subsampling;
    private readonly ZipformerLayer.State[][] _layers;
    /// <summary>Encoder input frames not yet encoded (fewer than a chunk between steps), [frames, widest].</summary>
    private readonly RowWindow _pending;
    /// <summary>Encoder frames waiting for their pair of the output downsampling.</summary>
    private readonly RowWindow? _unpaired;
    /// <summary>Projector rows being filled: seg_size frames side by side per row.</summary>
    private readonly RowWindow _stacked;
    private readonly List<float>? _encoderOutput;
    private readonly int _stepFrames;
    private int _stackedFrames;
    private long _encoded;
    private bool _finished;

    internal SpeechEncoderStream(SpeechEncoder encoder, bool keepEncoderFrames)
    {
        _encoder = encoder;
        _config = encoder.Config;
        var backend = encoder.Backend;
        _ws = new Workspace(backend);
        _convWork = new ConvWorkspace(backend, backend.PreferredPrefillRows >= 4096 ? 1L << 24 : 1L << 21);
        _subsampling = encoder.Subsampling.CreateState(backend);
        _layers = encoder.Encoder.CreateState(backend);
        _pending = new RowWindow(backend, _config.ModelDim);
        _unpaired = encoder.OutputDownsample is null ? null : new RowWindow(backend, _config.ModelDim);
        _stacked = new RowWindow(backend, _config.ProjectorInput);
        _encoderOutput = keepEncoderFrames ? [] : null;
        _stepFrames = _config.ChunkSize * Math.Max(1, StepFramesTarget / _config.ChunkSize);
    }

    /// <summary>Fbank frames pushed so far.</summary>
    public long FbankFrames => _subsampling.FbankTotal;
    /// <summary>Encoder output frames produced so far.</summary>
    public int EncoderFrames { get; private set; }
    /// <summary>Projector rows emitted so far.</summary>
    public int RowsEmitted { get; private set; }
    /// <summary>When set, the stages' wall time is added to it (benchmarks only: every stage then waits for the device).</summary>
    public SpeechTimings? Timings { get; set; }

    /// <summary>The encoder's output frames so far, when the stream keeps them (offline encoding).</summary>
    internal IReadOnlyList<float> EncoderOutput => _encoderOutput ?? [];

    /// <summary>
    /// Takes <paramref name="frames"/> fbank rows (row-major [frames, num_mel_bins]) and appends to
    /// <paramref name="embeddingRows"/> every projector row whose inputs are now final; returns how many.
    /// </summary>
    public int Push(ReadOnlySpan<float> fbankRows, int frames, List<float[]> embeddingRows)
    {
        if (_finished)
            throw new InvalidOperationException("the speech encoder stream has finished; create a new stream for more audio");
        int mel = _config.NumMelBins;
        if (frames < 0 || (long)frames * mel != fbankRows.Length)
            throw new ArgumentException($"{fbankRows.Length} fbank values for {frames} frames of {mel} mel bins");
        int bad = FirstNonFinite(fbankRows);
        if (bad >= 0)
            throw new ArgumentException($"fbank row {FbankFrames + bad / mel} (bin {bad % mel}) is {fbankRows[bad]}; fbank values must be finite");
        int before = RowsEmitted;
        int piece = 2 * _stepFrames;
        for (int first = 0; first < frames; first += piece)
        {
            int count = Math.Min(piece, frames - first);
            _encoder.Subsampling.Append(_subsampling, fbankRows.Slice(first * mel, count * mel), count);
            Drain(final: false, embeddingRows);
        }
        return RowsEmitted - before;
    }

    /// <summary>Ends the utterance: encodes what is left (the last, shorter chunk) and appends the remaining rows; returns how many.</summary>
    public int Finish(List<float[]> embeddingRows)
    {
        if (_finished)
            return 0;
        _finished = true;
        int before = RowsEmitted;
        Drain(final: true, embeddingRows);
        return RowsEmitted - before;
    }

    private static int FirstNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
                return i;
        }
        return -1;
    }

    private void Drain(bool final, List<float[]> rows)
    {
        int chunk = _config.ChunkSize;
        while (true)
        {
            long start = Timings?.Start() ?? 0;
            int produced = _encoder.Subsampling.Produce(_subsampling, _ws, _convWork, _pending, _stepFrames, final);
            if (Timings is { } timings)
                timings.SubsamplingMs += timings.Since(start);
            while (_pending.Count >= chunk)
                Encode(Math.Min(_pending.Count / chunk * chunk, _stepFrames), final: false, rows);
            if (produced == 0)
                break;
        }
        if (!final)
            return;
        if (_pending.Count > 0)
            Encode(_pending.Count, final: true, rows);
        else
            Output(default, hasFrames: false, final: true, rows);
    }

    /// <summary>Encodes the first <paramref name="frames"/> pending frames: whole chunks, or the stream's tail.</summary>
    private void Encode(int frames, bool final, List<float[]> rows)
    {
        var step = _pending.Rows(0, frames);
        _encoded += frames;
        _encoder.Encoder.Forward(_ws, step, _layers, final, _encoded, Timings);
        Output(step, hasFrames: true, final, rows);
        _pending.KeepLast(_pending.Count - frames, _ws);
    }

    /// <summary>Encoder frames to the output downsampling (when there is one), then into projector rows.</summary>
    private void Output(TensorSlice frames, bool hasFrames, bool final, List<float[]> rows)
    {
        if (_unpaired is not null)
        {
            if (hasFrames)
                Shapes.Copy(_ws.Backend, frames, _unpaired.Append(frames.Rows));
            int factor = _encoder.OutputDownsample!.Factor, held = _unpaired.Count;
            int used = final ? held : held / factor * factor;
            hasFrames = used > 0;
            if (hasFrames)
            {
                frames = _ws.Rows("output.downsampled", (used + factor - 1) / factor, _config.ModelDim);
                _encoder.OutputDownsample.Forward(_ws, _unpaired.Rows(0, used), frames);
            }
            _unpaired.KeepLast(held - used, _ws);
        }
        if (hasFrames)
        {
            if (_encoderOutput is not null)
            {
                var values = new float[frames.Rows * frames.Cols];
                _ws.Backend.Download(frames, values);
                _encoderOutput.AddRange(values);
            }
            EncoderFrames += frames.Rows;
            Stack(frames);
        }
        int seg = _config.SegSize, width = _config.ModelDim;
        if (final && _stackedFrames % seg != 0)
        {
            // encode_speech zero-pads the frames to a multiple of seg_size.
            int missing = seg - _stackedFrames % seg;
            Shapes.Fill(_ws.Backend, TensorView.At(_stacked.Tensor, _stackedFrames * width, missing, width), 0f);
            _stackedFrames += missing;
        }
        int full = _stackedFrames / seg;
        if (full == 0)
            return;
        long start = Timings?.Start() ?? 0;
        _encoder.Projector.Forward(_ws, _stacked.Rows(0, full), rows);
        if (Timings is { } timings)
            timings.ProjectorMs += timings.Since(start);
        RowsEmitted += full;
        _stacked.KeepLast(_stacked.Count - full, _ws);
        _stackedFrames -= full * seg;
    }

    /// <summary>Frames into the projector rows, frame-major: frame f is columns (f mod seg)·width… of row f / seg.</summary>
    private void Stack(TensorSlice frames)
    {
        int seg = _config.SegSize, width = _config.ModelDim;
        int rowsNeeded = (_stackedFrames + frames.Rows + seg - 1) / seg;
        if (rowsNeeded > _stacked.Count)
            _stacked.Append(rowsNeeded - _stacked.Count);
        Shapes.Copy(_ws.Backend, frames, TensorView.At(_stacked.Tensor, _stackedFrames * width, frames.Rows, width));
        _stackedFrames += frames.Rows;
    }

    public void Dispose()
    {
        _ws.Backend.Synchronize();
        _subsampling.Dispose();
        foreach (var stack in _layers)
            foreach (var layer in stack)
                layer.Dispose();
        _pending.Dispose();
        _unpaired?.Dispose();
        _stacked.Dispose();
        _convWork.Dispose();
        _ws.Dispose();
    }
}
