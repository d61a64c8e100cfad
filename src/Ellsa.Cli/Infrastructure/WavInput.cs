using Ellsa.Runtime.Codecs.Speech;

namespace Ellsa.Cli.Infrastructure;

/// <summary>WAV files for the speech encoder, as the commands take them.</summary>
public static class WavInput
{
    /// <summary>
    /// Reads a WAV file as the speech encoder hears it: channels averaged to mono, other rates
    /// resampled to 16 kHz as the authors' evaluation does (torchaudio's default resample: a
    /// Hann-windowed sinc, 6 zero crossings, rolloff 0.99; see <see cref="SincResampler"/>).
    /// </summary>
    public static WavAudio Read(FileInfo file)
    {
        var wav = WavFile.Read(file.FullName);
        if (wav.SampleRate != LhotseFbank.SampleRate)
        {
            Console.Error.WriteLine($"note: {file.Name} is {wav.SampleRate} Hz; resampled to {LhotseFbank.SampleRate} Hz as torchaudio's resample does");
            wav = wav.Resampled(LhotseFbank.SampleRate);
        }
        return wav;
    }
}
