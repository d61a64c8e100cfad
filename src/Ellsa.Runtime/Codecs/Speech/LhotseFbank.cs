namespace Ellsa.Runtime.Codecs.Speech;

/// <summary>
/// The speech encoder's input features: lhotse 1.30.3's <c>Fbank(FbankConfig(num_mel_bins=128))</c>
/// on 16 kHz mono PCM in [−1, 1]. 25 ms frames every 10 ms with <c>snip_edges=False</c>: frame f
/// covers samples 160·f − 120 … 160·f + 279 (reflected past either end), and a signal of n samples
/// has (n + 80) / 160 frames. Rows are log mel energies, row-major [frames × melBins].
/// </summary>
public static class LhotseFbank
{
    public const int SampleRate = 16000;
    public const int FrameShift = 160;
    public const int FrameLength = 400;
    public const int FftLength = 512;
    /// <summary>Samples reflected in before the first one: (400 − 160) / 2.</summary>
    public const int LeftPadding = (FrameLength - FrameShift) / 2;
    public const int MinMelBins = 4;
    public const int MaxMelBins = 256;

    public static int FrameCount(long samples)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(samples);
        return checked((int)((samples + FrameShift / 2) / FrameShift));
    }

    public static float[] Compute(ReadOnlySpan<float> pcm, int melBins = 128)
    {
        CheckMelBins(melBins);
        RequireFinite(pcm, 0);
        int frames = FrameCount(pcm.Length);
        var features = new float[(long)frames * melBins];
        var computer = new FbankFrameComputer(melBins);
        for (int f = 0; f < frames; f++)
            computer.Compute(pcm, 0, pcm.Length, f, features.AsSpan(f * melBins, melBins));
        return features;
    }

    internal static void CheckMelBins(int melBins)
    {
        if (melBins is < MinMelBins or > MaxMelBins)
            throw new ArgumentOutOfRangeException(nameof(melBins), melBins, $"the fbank takes {MinMelBins}…{MaxMelBins} mel bins");
    }

    /// <summary>A NaN or infinity would poison every frame it touches: refuse it where it enters.</summary>
    internal static void RequireFinite(ReadOnlySpan<float> pcm, long offset)
    {
        for (int i = 0; i < pcm.Length; i++)
            if (!float.IsFinite(pcm[i]))
                throw new ArgumentException($"audio sample {offset + i} is {pcm[i]}; PCM samples must be finite (16 kHz mono in [-1, 1])", nameof(pcm));
    }
}
