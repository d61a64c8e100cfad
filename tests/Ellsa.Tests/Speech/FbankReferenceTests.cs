using Ellsa.Runtime.Codecs.Speech;
using Ellsa.Tests.Support;
using Xunit;

namespace Ellsa.Tests.Speech;

/// <summary>
/// The fbank on fresh random audio against a plain transcription of lhotse's steps written for this
/// test: the padded signal built as lhotse concatenates it, a direct 512-point DFT instead of an FFT,
/// a dense mel matrix from torchaudio's slope formula. Lengths from 200 samples, where lhotse is defined.
/// </summary>
public sealed class FbankReferenceTests
{
    [Fact]
    public void MatchesADirectTranscriptionOfLhotseOnRandomAudio()
    {
        int seed = Random.Shared.Next();
        var random = new Random(seed);
        for (int trial = 0; trial < 8; trial++)
        {
            int samples = trial == 0 ? 200 : random.Next(200, 6000);
            var pcm = FbankStreamTests.RandomAudio(random, samples);
            if (trial % 2 == 1)
            {
                // A tone over the noise: energies spanning many decades across the bins.
                double hz = random.Next(100, 7900);
                for (int i = 0; i < samples; i++)
                    pcm[i] = (float)(pcm[i] * 1e-3 + 0.5 * Math.Sin(2 * Math.PI * hz * i / 16000));
            }
            int melBins = trial == 7 ? 80 : 128;
            var expected = Naive(pcm, melBins);
            var actual = LhotseFbank.Compute(pcm, melBins);
            Assert.Equal(expected.Length, actual.Length);
            double error = Numeric.RelativeL2<double>(actual, expected);
            Assert.True(error <= 1e-6, $"seed {seed}, trial {trial} ({samples} samples): relative L2 {error:E2}");
        }
    }

    private static double[] Naive(float[] pcm, int melBins)
    {
        int n = pcm.Length, frames = (n + 80) / 160;
        // lhotse: cat(flip(x[:120]), x, flip(x[-npad_right:])) with npad_right = (frames−1)·160 + 400 − n − 120.
        int padRight = (frames - 1) * 160 + 400 - n - 120;
        var padded = pcm.Take(120).Reverse().Concat(pcm).Concat(pcm.Skip(n - padRight).Reverse()).Select(v => (double)v).ToArray();

        var cos = new double[512];
        var sin = new double[512];
        for (int i = 0; i < 512; i++)
        {
            cos[i] = Math.Cos(2 * Math.PI * i / 512);
            sin[i] = Math.Sin(2 * Math.PI * i / 512);
        }
        double Mel(double hz) => 1127 * Math.Log(1 + hz / 700);
        double low = Mel(20), high = Mel(7600), delta = (high - low) / (melBins + 1);
        var bank = new double[melBins, 257];
        for (int b = 0; b < melBins; b++)
            for (int k = 0; k < 256; k++)
            {
                double m = Mel(31.25 * k), left = low + b * delta, center = low + (b + 1) * delta, right = low + (b + 2) * delta;
                bank[b, k] = Math.Max(0, Math.Min((m - left) / (center - left), (right - m) / (right - center)));
            }

        var output = new double[frames * melBins];
        var x = new double[400];
        var power = new double[257];
        for (int f = 0; f < frames; f++)
        {
            Array.Copy(padded, f * 160, x, 0, 400);
            double mean = x.Average();
            var centered = x.Select(v => v - mean).ToArray();
            for (int i = 0; i < 400; i++)
            {
                double previous = centered[Math.Max(i - 1, 0)];
                double hann = 0.5 - 0.5 * Math.Cos(2 * Math.PI * i / 399);
                x[i] = (centered[i] - 0.97 * previous) * Math.Pow(hann, 0.85);
            }
            for (int k = 0; k <= 256; k++)
            {
                double re = 0, im = 0;
                for (int i = 0; i < 400; i++)
                {
                    re += x[i] * cos[k * i % 512];
                    im -= x[i] * sin[k * i % 512];
                }
                power[k] = re * re + im * im;
            }
            for (int b = 0; b < melBins; b++)
            {
                double energy = 0;
                for (int k = 0; k <= 256; k++)
                    energy += bank[b, k] * power[k];
                output[f * melBins + b] = Math.Log(Math.Max(energy, Math.Pow(2, -23)));
            }
        }
        return output;
    }
}
