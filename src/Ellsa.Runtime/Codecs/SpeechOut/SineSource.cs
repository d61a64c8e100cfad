using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// HiFT's harmonic source, SourceModuleHnNSF with its SineGen (generator.py:L101-219), on the host:
/// the F0 of each frame repeated for its samples (f0_upsamp, nearest), harmonics h = 1 … nb_harmonics + 1
/// with phase 2π·frac(Σ f0·h / sr) from the utterance's first sample, sine nsf_alpha·sin(phase + φ_h)
/// kept where f0 > nsf_voiced_threshold (strictly), plus noise of standard deviation nsf_sigma there and
/// nsf_alpha/3 elsewhere; then tanh(l_linear(harmonics)).
/// <para>
/// Why the host, in double: the phase is a running sum over every sample (≈ 5·10⁴ rad after six
/// seconds of the ninth harmonic at 24 kHz), and in fp32 its fraction drifts by 10⁻² rad and
/// dominates the waveform's error (goldens README, "Margins"); a sequential double sum is cheap
/// here (a few multiply-adds per sample) and has no parallel form that keeps it exact.
/// </para>
/// </summary>
internal sealed class SineSource
{
    private readonly double[] _weights;
    private readonly double _bias;
    private readonly HiftConfig _config;

    internal SineSource(double[] weights, double bias, HiftConfig config) => (_weights, _bias, _config) = (weights, bias, config);

    /// <param name="scope">The m_source module (its l_linear merges the harmonics).</param>
    public static SineSource Load(WeightScope scope, HiftConfig config)
    {
        int harmonics = config.NbHarmonics + 1;
        var linear = scope.Pp("l_linear");
        var weights = linear.Floats("weight", 1, harmonics).Select(w => (double)w).ToArray();
        double bias = linear.Floats("bias", 1)[0];
        return new SineSource(weights, bias, config);
    }

    /// <summary>The merged source for <paramref name="f0"/> (one value per frame), <paramref name="samplesPerFrame"/> samples per frame.</summary>
    public float[] Generate(ReadOnlySpan<float> f0, int samplesPerFrame, HiftOptions options)
    {
        int harmonics = _weights.Length;
        var phases = new double[harmonics];
        if (!options.IsDeterministic)
        {
            // φ₁ = 0: the fundamental starts at phase 0 even when the overtones are drawn.
            for (int h = 1; h < harmonics; h++)
                phases[h] = options.NextPhase();
        }
        var sums = new double[harmonics];
        var source = new float[f0.Length * samplesPerFrame];
        double rate = _config.SamplingRate, alpha = _config.NsfAlpha, threshold = _config.NsfVoicedThreshold;
        for (int frame = 0, n = 0; frame < f0.Length; frame++)
        {
            double hz = f0[frame];
            bool voiced = hz > threshold;
            double noise = voiced ? _config.NsfSigma : alpha / 3;
            for (int s = 0; s < samplesPerFrame; s++, n++)
            {
                double merged = _bias;
                for (int h = 0; h < harmonics; h++)
                {
                    sums[h] += hz * (h + 1) / rate;
                    // frac by floor: the sums are never negative (f0 is a magnitude), where it equals torch's % 1.
                    double sine = voiced ? alpha * Math.Sin(2 * Math.PI * (sums[h] - Math.Floor(sums[h])) + phases[h]) : 0;
                    if (!options.IsDeterministic)
                        sine += noise * options.NextGaussian();
                    merged += _weights[h] * sine;
                }
                source[n] = (float)Math.Tanh(merged);
            }
        }
        return source;
    }
}
