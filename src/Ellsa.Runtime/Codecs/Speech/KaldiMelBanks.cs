using System.Numerics.Tensors;

namespace Ellsa.Runtime.Codecs.Speech;

/// <summary>
/// Kaldi's triangular mel filters as lhotse builds them (<c>get_mel_banks</c>, ported from
/// torchaudio's compliance.kaldi): mel(f) = 1127·ln(1 + f/700), <c>bins + 2</c> equally spaced mel
/// edges from <c>lowHz</c> to <c>highHz</c>, each filter min(up-slope, down-slope) clipped at 0 over
/// the FFT bins 0…fft/2 − 1 (the Nyquist bin weighs 0). Each filter keeps only its non-zero run, so
/// applying all of them costs about two multiplies per FFT bin.
/// </summary>
internal sealed class KaldiMelBanks
{
    private readonly int[] _first;
    private readonly double[][] _weights;

    public KaldiMelBanks(int bins, int fftLength, double sampleRate, double lowHz, double highHz)
    {
        double melLow = Mel(lowHz), melHigh = Mel(highHz);
        double delta = (melHigh - melLow) / (bins + 1);
        double binWidth = sampleRate / fftLength;
        int fftBins = fftLength / 2;
        var binMel = new double[fftBins];
        for (int k = 0; k < fftBins; k++)
            binMel[k] = Mel(binWidth * k);

        _first = new int[bins];
        _weights = new double[bins][];
        var row = new double[fftBins];
        for (int b = 0; b < bins; b++)
        {
            double left = melLow + b * delta, center = melLow + (b + 1.0) * delta, right = melLow + (b + 2.0) * delta;
            int first = -1, last = -1;
            for (int k = 0; k < fftBins; k++)
            {
                double up = (binMel[k] - left) / (center - left);
                double down = (right - binMel[k]) / (right - center);
                row[k] = Math.Max(0.0, Math.Min(up, down));
                if (row[k] > 0)
                {
                    if (first < 0)
                        first = k;
                    last = k;
                }
            }
            // A filter narrower than an FFT bin catches none: its energy is 0 and its log the floor.
            _first[b] = Math.Max(first, 0);
            _weights[b] = first < 0 ? [] : row.AsSpan(first, last - first + 1).ToArray();
        }
    }

    public int Bins => _weights.Length;

    public static double Mel(double hz) => 1127.0 * Math.Log(1.0 + hz / 700.0);

    /// <summary>Filter energies of one power spectrum (bins 0…fft/2).</summary>
    public void Apply(ReadOnlySpan<double> power, Span<double> energies)
    {
        for (int b = 0; b < _weights.Length; b++)
            energies[b] = TensorPrimitives.Dot<double>(_weights[b], power.Slice(_first[b], _weights[b].Length));
    }
}
