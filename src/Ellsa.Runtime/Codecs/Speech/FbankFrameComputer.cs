using NWaves.Transforms;

namespace Ellsa.Runtime.Codecs.Speech;

/// <summary>
/// One fbank frame exactly as lhotse's <c>Wav2LogFilterBank</c> computes it (dither 0): the 400
/// samples of the frame (reflected past either end), DC offset removed, pre-emphasis 0.97 with the
/// first sample repeated, the Povey window, zero-padded to 512, the power spectrum, the mel filters
/// and the log floored at float32's epsilon. Everything runs in double (cheap at 100 frames per
/// second), so the only rounding left against lhotse run in float64 is the final cast to float.
/// Both <see cref="LhotseFbank.Compute"/> and <see cref="FbankStream"/> make every row here, which
/// is what makes streamed rows bit-identical to offline ones. Not thread-safe: it owns its scratch.
/// </summary>
internal sealed class FbankFrameComputer
{
    private const double PreEmphasis = 0.97;
    private const double LowHz = 20.0;
    private const double HighHz = LhotseFbank.SampleRate / 2 - 400.0;
    // torch.finfo(torch.float32).eps: the floor lhotse puts under the mel energies before the log.
    private const double EnergyFloor = 1.1920928955078125e-07;

    private static readonly double[] PoveyWindow = BuildPoveyWindow();

    private readonly KaldiMelBanks _banks;
    private readonly RealFft64 _fft = new(LhotseFbank.FftLength);
    private readonly double[] _frame = new double[LhotseFbank.FftLength];
    private readonly double[] _real = new double[LhotseFbank.FftLength / 2 + 1];
    private readonly double[] _imaginary = new double[LhotseFbank.FftLength / 2 + 1];
    private readonly double[] _power = new double[LhotseFbank.FftLength / 2 + 1];
    private readonly double[] _energies;

    public FbankFrameComputer(int melBins)
    {
        _banks = MelBankCache.For(melBins);
        _energies = new double[melBins];
    }

    public int MelBins => _energies.Length;

    /// <summary>
    /// Writes frame <paramref name="frame"/> of a signal of <paramref name="totalSamples"/> samples
    /// into <paramref name="row"/>. <paramref name="samples"/> holds the signal from sample
    /// <paramref name="firstIndex"/> on, and must cover every sample the frame reads after reflection.
    /// </summary>
    public void Compute(ReadOnlySpan<float> samples, long firstIndex, long totalSamples, long frame, Span<float> row)
    {
        long start = frame * LhotseFbank.FrameShift - LhotseFbank.LeftPadding;
        double sum = 0;
        if (start >= 0 && start + LhotseFbank.FrameLength <= totalSamples)
        {
            var inside = samples.Slice((int)(start - firstIndex), LhotseFbank.FrameLength);
            for (int i = 0; i < inside.Length; i++)
                sum += _frame[i] = inside[i];
        }
        else
        {
            for (int i = 0; i < LhotseFbank.FrameLength; i++)
                sum += _frame[i] = samples[(int)(Reflect(start + i, totalSamples) - firstIndex)];
        }
        double mean = sum / LhotseFbank.FrameLength;
        // Pre-emphasis runs backwards so each sample still sees its unemphasised predecessor.
        for (int i = LhotseFbank.FrameLength - 1; i > 0; i--)
            _frame[i] = ((_frame[i] - mean) - PreEmphasis * (_frame[i - 1] - mean)) * PoveyWindow[i];
        _frame[0] = ((_frame[0] - mean) - PreEmphasis * (_frame[0] - mean)) * PoveyWindow[0];
        Array.Clear(_frame, LhotseFbank.FrameLength, LhotseFbank.FftLength - LhotseFbank.FrameLength);

        _fft.Direct(_frame, _real, _imaginary);
        for (int k = 0; k < _power.Length; k++)
            _power[k] = _real[k] * _real[k] + _imaginary[k] * _imaginary[k];
        _banks.Apply(_power, _energies);
        for (int b = 0; b < _energies.Length; b++)
            row[b] = (float)Math.Log(Math.Max(_energies[b], EnergyFloor));
    }

    /// <summary>
    /// lhotse pads with the first 120 samples reversed and the last ones reversed (x[−1−i] = x[i],
    /// x[n+j] = x[n−1−j]). For signals shorter than 140 samples lhotse itself fails; the reflection
    /// then simply continues (the symmetric extension of period 2n).
    /// </summary>
    internal static long Reflect(long index, long count)
    {
        while (index < 0 || index >= count)
            index = index < 0 ? -1 - index : 2 * count - 1 - index;
        return index;
    }

    private static double[] BuildPoveyWindow()
    {
        // torch.hann_window(400, periodic=False).pow(0.85)
        var window = new double[LhotseFbank.FrameLength];
        for (int i = 0; i < window.Length; i++)
            window[i] = Math.Pow(0.5 - 0.5 * Math.Cos(2 * Math.PI * i / (window.Length - 1)), 0.85);
        return window;
    }

    private static class MelBankCache
    {
        private static readonly Dictionary<int, KaldiMelBanks> Banks = [];

        public static KaldiMelBanks For(int bins)
        {
            lock (Banks)
            {
                if (!Banks.TryGetValue(bins, out var banks))
                    Banks[bins] = banks = new KaldiMelBanks(bins, LhotseFbank.FftLength, LhotseFbank.SampleRate, LowHz, HighHz);
                return banks;
            }
        }
    }
}
