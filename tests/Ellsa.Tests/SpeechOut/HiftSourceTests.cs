using Ellsa.Runtime.Codecs.SpeechOut;
using Ellsa.Tests.Support;
using Xunit;

namespace Ellsa.Tests.SpeechOut;

/// <summary>
/// The harmonic source against a closed form (phase n·f0·h/sr instead of the running sum) on fresh
/// random F0 tracks, the voiced threshold's strictness, and the randomness switch: the seeded
/// phases and noise follow the authors' distributions (φ₁ = 0, φ_h uniform, noise σ voiced and
/// α/3 unvoiced), are reproducible by seed and advance from call to call.
/// </summary>
public sealed class HiftSourceTests
{
    private static readonly HiftConfig Config = new();

    [Fact]
    public void DeterministicSourceIsTheClosedForm()
    {
        var random = new Random(Environment.TickCount);
        int harmonics = Config.NbHarmonics + 1, spf = Config.SamplesPerFrame;
        var weights = Enumerable.Range(0, harmonics).Select(_ => random.NextDouble() - 0.5).ToArray();
        double bias = random.NextDouble() * 0.2 - 0.1;
        var source = new SineSource(weights, bias, Config);
        // A constant F0 per run (so the running sum has a closed form) but for one frame exactly at the threshold, unvoiced.
        for (int round = 0; round < 4; round++)
        {
            float hz = (float)(60 + 300 * random.NextDouble());
            int frames = random.Next(20, 200);
            var f0 = Enumerable.Repeat(hz, frames).ToArray();
            f0[frames / 2] = (float)Config.NsfVoicedThreshold;
            var actual = source.Generate(f0, spf, HiftOptions.Deterministic);
            double threshold = Config.NsfVoicedThreshold;
            int quiet = frames / 2 * spf;
            for (int n = 0; n < actual.Length; n++)
            {
                // Σ f0 over samples 0…n: hz everywhere except the threshold frame's samples (unvoiced, yet they advance the phase).
                int atThreshold = Math.Clamp(n + 1 - quiet, 0, spf);
                double f0Sum = (double)hz * (n + 1 - atThreshold) + threshold * atThreshold;
                double merged = bias;
                if (n / spf != frames / 2)
                {
                    for (int h = 0; h < harmonics; h++)
                    {
                        double cycles = f0Sum * (h + 1) / Config.SamplingRate;
                        merged += weights[h] * Config.NsfAlpha * Math.Sin(2 * Math.PI * (cycles - Math.Floor(cycles)));
                    }
                }
                Assert.True(Math.Abs(Math.Tanh(merged) - actual[n]) < 1e-6, $"sample {n} at {hz} Hz: {actual[n]}, closed form {Math.Tanh(merged)}");
            }
        }
    }

    [Fact]
    public void SeededNoiseHasTheAuthorsSpread()
    {
        int spf = Config.SamplesPerFrame;
        // l_linear picking the fundamental alone: atanh(source) − bias = α·sin(θ₁) + noise, φ₁ being 0.
        var source = new SineSource([1, 0, 0, 0, 0, 0, 0, 0, 0], 0, Config);
        var f0 = new float[200];
        for (int i = 0; i < f0.Length; i++)
            f0[i] = i < 100 ? 120f : 5f;
        var clean = source.Generate(f0, spf, HiftOptions.Deterministic);
        var noisy = source.Generate(f0, spf, HiftOptions.Seeded(11));
        double Spread(int from, int to)
        {
            double sum = 0;
            for (int n = from; n < to; n++)
            {
                double d = Math.Atanh(noisy[n]) - Math.Atanh(clean[n]);
                sum += d * d;
            }
            return Math.Sqrt(sum / (to - from));
        }
        Assert.InRange(Spread(0, 100 * spf), 0.97 * Config.NsfSigma, 1.03 * Config.NsfSigma);
        Assert.InRange(Spread(100 * spf, 200 * spf), 0.97 * Config.NsfAlpha / 3, 1.03 * Config.NsfAlpha / 3);
    }

    [Fact]
    public void SeededOvertonePhasesAreUniformAndTheFundamentalStartsAtZero()
    {
        int spf = Config.SamplesPerFrame;
        var quiet = Config with { NsfSigma = 0 };
        var f0 = Enumerable.Repeat(150f, 10).ToArray();
        var fundamental = new SineSource([1, 0, 0, 0, 0, 0, 0, 0, 0], 0, quiet);
        var second = new SineSource([0, 1, 0, 0, 0, 0, 0, 0, 0], 0, quiet);
        var reference = second.Generate(f0, spf, HiftOptions.Deterministic);
        var phases = new List<double>();
        for (int seed = 0; seed < 200; seed++)
        {
            if (seed < 5)
                Assert.Equal(fundamental.Generate(f0, spf, HiftOptions.Deterministic), fundamental.Generate(f0, spf, HiftOptions.Seeded(seed)));
            // s = α·sin(θ + φ): project on sin θ and cos θ of the zero-phase wave.
            var drawn = second.Generate(f0, spf, HiftOptions.Seeded(seed));
            double alongSin = 0, alongCos = 0;
            for (int n = 0; n < drawn.Length; n++)
            {
                double sin = Math.Atanh(reference[n]) / Config.NsfAlpha;
                double cos = Math.Cos(Math.Asin(Math.Clamp(sin, -1, 1))) * Math.Sign(Math.Cos(2 * Math.PI * 150.0 * 2 * (n + 1) / Config.SamplingRate));
                alongSin += Math.Atanh(drawn[n]) * sin;
                alongCos += Math.Atanh(drawn[n]) * cos;
            }
            phases.Add(Math.Atan2(alongCos, alongSin));
        }
        // U(−π, π): mean near 0, mean |φ| near π/2, both tails reached.
        Assert.InRange(phases.Average(), -0.45, 0.45);
        Assert.InRange(phases.Average(Math.Abs), Math.PI / 2 - 0.3, Math.PI / 2 + 0.3);
        Assert.True(phases.Min() < -2.5 && phases.Max() > 2.5, $"phases span {phases.Min():F2}…{phases.Max():F2}");
    }

    [Fact]
    public void ASeedReproducesASynthesisAndAdvancesFromCallToCall()
    {
        var (hift, tensors) = HiftGoldens.Load("small", SharedBackends.Cpu);
        using var _ = tensors;
        using var __ = hift;
        using var offline = HiftGoldens.Golden("small", "offline");
        var mel = offline.Floats("n3.mel");
        int frames = (int)offline.Shape("n3.mel")[2];
        var deterministic = hift.Run(mel, frames, HiftOptions.Deterministic);
        var seeded = HiftOptions.Seeded(5);
        var first = hift.Run(mel, frames, seeded);
        var second = hift.Run(mel, frames, seeded);
        Assert.Equal(first.Samples, hift.Run(mel, frames, HiftOptions.Seeded(5)).Samples);
        Assert.NotEqual(first.Samples, second.Samples);
        Assert.NotEqual(first.Samples, hift.Run(mel, frames, HiftOptions.Seeded(6)).Samples);
        Assert.NotEqual(deterministic.Samples, first.Samples);
        Assert.Equal(deterministic.F0, first.F0);
        Assert.False(HiftOptions.Random().IsDeterministic);
        Assert.True(HiftOptions.Deterministic.IsDeterministic);
    }
}
