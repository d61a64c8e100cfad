namespace Ellsa.Runtime.Codecs.Speech;

/// <summary>
/// <see cref="LhotseFbank"/> over audio that arrives in slices of any size. Frame f reads samples
/// up to 160·f + 279 and nothing of the signal's length, so it is emitted as soon as that sample is
/// in; the last frames, which reflect the end of the signal, wait for <see cref="Finish"/>. Rows are
/// made by the same code as <see cref="LhotseFbank.Compute"/> from the same samples, so they are
/// bit-identical to it. Only the samples later frames still read are kept (at most 400 plus the
/// latest slice).
/// </summary>
public sealed class FbankStream
{
    private readonly FbankFrameComputer _computer;
    private float[] _buffer = new float[4 * LhotseFbank.FrameLength];
    private int _buffered;
    private long _bufferStart;
    private bool _finished;

    public FbankStream(int melBins = 128)
    {
        LhotseFbank.CheckMelBins(melBins);
        _computer = new FbankFrameComputer(melBins);
    }

    public int MelBins => _computer.MelBins;

    public long SamplesSeen { get; private set; }

    public int FramesEmitted { get; private set; }

    /// <summary>Appends to <paramref name="rows"/> every frame the samples so far complete; returns how many.</summary>
    public int Push(ReadOnlySpan<float> samples, List<float[]> rows)
    {
        if (_finished)
            throw new InvalidOperationException("the fbank stream is finished; start a new one for more audio");
        LhotseFbank.RequireFinite(samples, SamplesSeen);
        Append(samples);
        SamplesSeen += samples.Length;
        int emitted = 0;
        while ((long)FramesEmitted * LhotseFbank.FrameShift + LhotseFbank.FrameLength - LhotseFbank.LeftPadding <= SamplesSeen)
        {
            // The signal's length is not known yet; no sample this frame reads depends on it.
            Emit(SamplesSeen, rows);
            emitted++;
        }
        DropConsumed();
        return emitted;
    }

    /// <summary>Ends the signal: appends the frames that reflect its end; returns how many.</summary>
    public int Finish(List<float[]> rows)
    {
        if (_finished)
            throw new InvalidOperationException("the fbank stream is already finished");
        _finished = true;
        int total = LhotseFbank.FrameCount(SamplesSeen), emitted = 0;
        while (FramesEmitted < total)
        {
            Emit(SamplesSeen, rows);
            emitted++;
        }
        return emitted;
    }

    private void Emit(long totalSamples, List<float[]> rows)
    {
        var row = new float[_computer.MelBins];
        _computer.Compute(_buffer.AsSpan(0, _buffered), _bufferStart, totalSamples, FramesEmitted, row);
        rows.Add(row);
        FramesEmitted++;
    }

    private void Append(ReadOnlySpan<float> samples)
    {
        if (_buffered + samples.Length > _buffer.Length)
            Array.Resize(ref _buffer, Math.Max(2 * _buffer.Length, _buffered + samples.Length));
        samples.CopyTo(_buffer.AsSpan(_buffered));
        _buffered += samples.Length;
    }

    /// <summary>Forgets the samples before the next frame's first one (frame 0 keeps all: it reflects the start).</summary>
    private void DropConsumed()
    {
        long keepFrom = Math.Max(0, (long)FramesEmitted * LhotseFbank.FrameShift - LhotseFbank.LeftPadding);
        int drop = (int)Math.Min(keepFrom - _bufferStart, _buffered);
        if (drop <= 0)
            return;
        Array.Copy(_buffer, drop, _buffer, 0, _buffered - drop);
        _buffered -= drop;
        _bufferStart += drop;
    }
}
