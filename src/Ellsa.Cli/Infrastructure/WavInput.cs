using Ellsa.Runtime.Codecs.Speech;

namespace Ellsa.Cli.Infrastructure;

/// <summary>WAV files for the speech encoder, as the commands take them.</summary>
public static class WavInput
{
    /// <summary>Reads a WAV file (mono mix) that the speech encoder can hear: 16 kHz and not empty.</summary>
    public static WavAudio Read(FileInfo file)
    {
        var wav = WavFile.Read(file.FullName);
        if (wav.SampleRate != LhotseFbank.SampleRate)
            throw new UserError($"{file.Name}: {wav.SampleRate} Hz; the speech encoder takes {LhotseFbank.SampleRate} Hz audio (resample it first, e.g. sox IN.wav -r 16000 OUT.wav)");
        if (wav.Samples.Length == 0)
            throw new UserError($"{file.Name}: no samples");
        return wav;
    }
}
