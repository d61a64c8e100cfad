namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// The randomness of HiFT's harmonic source (SineGen, generator.py:L149-163): each call draws the
/// initial phase of every overtone from U(−π, π) and adds Gaussian noise to every harmonic sample.
/// <see cref="Deterministic"/> makes both zero (what the goldens freeze); <see cref="Seeded"/>
/// draws them from a generator that advances across calls, so a stream of windows is reproducible
/// and each window still gets its own phases, as the authors' calls do. The draws follow the
/// authors' distributions, not PyTorch's generator (which no engine reproduces).
/// </summary>
public sealed class HiftOptions
{
    private readonly Random? _random;

    private HiftOptions(Random? random) => _random = random;

    /// <summary>Phases and noise zero.</summary>
    public static HiftOptions Deterministic { get; } = new(null);

    /// <summary>Phases and noise from a generator seeded with <paramref name="seed"/>.</summary>
    public static HiftOptions Seeded(int seed) => new(new Random(seed));

    /// <summary>Phases and noise from an unseeded generator (a different voice texture every run, as the authors').</summary>
    public static HiftOptions Random() => new(new Random());

    public bool IsDeterministic => _random is null;

    /// <summary>U(−π, π).</summary>
    internal double NextPhase() => (_random!.NextDouble() * 2 - 1) * Math.PI;

    /// <summary>N(0, 1) by Box–Muller.</summary>
    internal double NextGaussian()
    {
        double u = 1 - _random!.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * _random.NextDouble());
    }
}
