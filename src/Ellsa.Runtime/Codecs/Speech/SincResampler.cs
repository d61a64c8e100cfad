namespace Ellsa.Runtime.Codecs.Speech;

/// <summary>
/// torchaudio's <c>functional.resample</c> with its defaults (Hann-windowed sinc, lowpass_filter_width 6,
/// rolloff 0.99), the resampling the authors' evaluation applies to audio not at 16 kHz. The rates are
/// reduced by their gcd to orig : new; output sample n = p·new + j is the phase-j filter over input
/// samples p·orig − width … with zeros past either end, and the output has ⌈new·n / orig⌉ samples.
/// Written here because no library serves this exact filter: torchaudio's kernel values are reproduced
/// in double, and each phase keeps only the taps inside the window (|t| &lt; 6 zero crossings), where
/// torchaudio also carries clamped edge taps of about 1e-33 — the only difference, far below float.
/// </summary>
public static class SincResampler
{
    private const int LowpassFilterWidth = 6;
    private const double Rolloff = 0.99;

    public static float[] Resample(ReadOnlySpan<float> samples, int fromRate, int toRate)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fromRate, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(toRate, 1);
        if (fromRate == toRate)
            return samples.ToArray();
        int gcd = Gcd(fromRate, toRate), orig = fromRate / gcd, next = toRate / gcd;
        var (first, taps) = Kernels(orig, next, out int width);
        long outLength = ((long)next * samples.Length + orig - 1) / orig;
        if (outLength > Array.MaxLength)
            throw new ArgumentException($"{samples.Length} samples at {fromRate} Hz make {outLength} at {toRate} Hz, more than an array holds", nameof(samples));
        var output = new float[outLength];
        for (long n = 0; n < outLength; n++)
        {
            long block = n / next;
            int phase = (int)(n % next);
            var kernel = taps[phase];
            long start = block * orig + first[phase] - width;
            int from = (int)Math.Max(0, -start), to = (int)Math.Min(kernel.Length, samples.Length - start);
            double sum = 0;
            for (int k = from; k < to; k++)
                sum += kernel[k] * samples[(int)(start + k)];
            output[n] = (float)sum;
        }
        return output;
    }

    /// <summary>For each output phase j: the first kernel index with a non-zero tap, and the taps from there.</summary>
    private static (int[] First, double[][] Taps) Kernels(int orig, int next, out int width)
    {
        double baseFreq = Math.Min(orig, next) * Rolloff;
        width = (int)Math.Ceiling(LowpassFilterWidth * orig / baseFreq);
        int kernelLength = 2 * width + orig;
        double scale = baseFreq / orig, reach = LowpassFilterWidth * orig / baseFreq;
        var first = new int[next];
        var taps = new double[next][];
        for (int j = 0; j < next; j++)
        {
            // t(k) = (−j/new + (k − width)/orig)·base vanishes at k = width + orig·j/new; the window spans ±reach.
            double center = width + (double)orig * j / next;
            int lo = Math.Max(0, (int)Math.Floor(center - reach) - 1);
            int hi = Math.Min(kernelLength - 1, (int)Math.Ceiling(center + reach) + 1);
            var row = new double[hi - lo + 1];
            int used = 0, start = -1;
            for (int k = lo; k <= hi; k++)
            {
                // The same operations, in the same order, as torchaudio's _get_sinc_resample_kernel in float64.
                double t = (-(double)j / next + (double)(k - width) / orig) * baseFreq;
                if (Math.Abs(t) >= LowpassFilterWidth)
                    continue;
                double window = Math.Cos(t * Math.PI / LowpassFilterWidth / 2);
                window *= window;
                t *= Math.PI;
                double sinc = t == 0 ? 1.0 : Math.Sin(t) / t;
                if (start < 0)
                    start = k;
                row[k - start] = sinc * (window * scale);
                used = k - start + 1;
            }
            first[j] = Math.Max(start, 0);
            taps[j] = row.AsSpan(0, used).ToArray();
        }
        return (first, taps);
    }

    private static int Gcd(int a, int b)
    {
        while (b != 0)
            (a, b) = (b, a % b);
        return a;
    }
}
