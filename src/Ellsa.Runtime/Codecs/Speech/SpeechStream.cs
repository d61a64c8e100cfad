using System.Diagnostics;

namespace Ellsa.Runtime.Codecs.Speech;

/// <summary>
/// One audio stream through fbank and the speech encoder: 16 kHz PCM in, in pieces of any size;
/// out, each projector row as soon as the audio it depends on has arrived (see
/// <see cref="SpeechLookahead"/>), and the rest at <see cref="Finish"/>. The rows equal the
/// whole-utterance encoding of the same samples.
/// </summary>
public sealed class SpeechStream : IDisposable
{
    private readonly FbankStream _fbank;
    private readonly SpeechEncoderStream _encoder;
    private readonly int _melBins;
    private readonly List<float[]> _frames = [];
    private float[] _flat = [];

    internal SpeechStream(FbankStream fbank, SpeechEncoderStream encoder, int melBins)
    {
        _fbank = fbank;
        _encoder = encoder;
        _melBins = melBins;
    }

    public long SamplesSeen => _fbank.SamplesSeen;
    public int RowsEmitted { get; private set; }
    /// <summary>Encoder frames (at its output rate) computed so far.</summary>
    public int EncoderFrames => _encoder.EncoderFrames;
    public bool Finished { get; private set; }
    /// <summary>Wall-clock milliseconds spent in fbank and in the encoder so far.</summary>
    public double FbankMs { get; private set; }
    public double EncoderMs { get; private set; }
    /// <summary>When set, the encoder's stages are timed into it (benchmarks only; see <see cref="SpeechTimings"/>).</summary>
    public SpeechTimings? Timings
    {
        get => _encoder.Timings;
        set => _encoder.Timings = value;
    }

    /// <summary>Takes the next samples; appends the rows that became final to <paramref name="rows"/> and returns how many.</summary>
    public int Push(ReadOnlySpan<float> samples, List<float[]> rows)
    {
        if (Finished)
            throw new InvalidOperationException("the audio stream was finished; start a new one");
        var clock = Stopwatch.StartNew();
        _frames.Clear();
        _fbank.Push(samples, _frames);
        FbankMs += clock.Elapsed.TotalMilliseconds;
        return Encode(rows, finish: false);
    }

    /// <summary>Ends the stream (the end's padding applies); appends every remaining row.</summary>
    public int Finish(List<float[]> rows)
    {
        if (Finished)
            return 0;
        Finished = true;
        var clock = Stopwatch.StartNew();
        _frames.Clear();
        _fbank.Finish(_frames);
        FbankMs += clock.Elapsed.TotalMilliseconds;
        return Encode(rows, finish: true);
    }

    private int Encode(List<float[]> rows, bool finish)
    {
        var clock = Stopwatch.StartNew();
        int before = rows.Count;
        int count = _frames.Count;
        if (_flat.Length < count * _melBins)
            _flat = new float[Math.Max(count * _melBins, _flat.Length * 2)];
        for (int f = 0; f < count; f++)
            _frames[f].CopyTo(_flat, f * _melBins);
        if (count > 0)
            _encoder.Push(_flat.AsSpan(0, count * _melBins), count, rows);
        if (finish)
            _encoder.Finish(rows);
        EncoderMs += clock.Elapsed.TotalMilliseconds;
        RowsEmitted += rows.Count - before;
        return rows.Count - before;
    }

    /// <summary>Frees the encoder's per-layer state.</summary>
    public void Dispose() => _encoder.Dispose();
}
