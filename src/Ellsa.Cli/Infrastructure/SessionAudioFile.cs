using Ellsa.Runtime.Codecs.Speech;
using Ellsa.Runtime.Duplex;

namespace Ellsa.Cli.Infrastructure;

/// <summary>
/// A WAV file heard by a scripted session as a live microphone would deliver it: block k gets the
/// samples from where the previous block stopped up to what the session needs for block k (its
/// end plus the speech encoder's lookahead). The audio is cut or zero-padded to the session's
/// whole blocks, and the block that reaches its end marks the stream's end.
/// </summary>
public sealed class SessionAudioFile
{
    private const int BlockSamples = LhotseFbank.SampleRate;
    private readonly float[] _samples;
    private int _given;

    public SessionAudioFile(WavAudio wav, int blocks)
    {
        long length = (long)blocks * BlockSamples;
        if (wav.Samples.Length > length)
            Console.Error.WriteLine($"note: the audio is {wav.Samples.Length / (double)BlockSamples:F2} s; the session's {blocks} blocks hear its first {blocks} s");
        _samples = new float[length];
        wav.Samples.AsSpan(0, (int)Math.Min(length, wav.Samples.Length)).CopyTo(_samples);
    }

    /// <summary>Speech-dialogue blocks for the file alone: one per started second, no images.</summary>
    public static IReadOnlyList<BlockInput> SpeechBlocks(WavAudio wav) =>
        Enumerable.Range(0, (wav.Samples.Length + BlockSamples - 1) / BlockSamples).Select(_ => new BlockInput(new AudioInput.Pcm([]), [])).ToArray();

    /// <summary>The next block's audio: what the session needs for it, and the end-of-stream mark once the file is used up.</summary>
    public AudioInput.Pcm Next(Session session)
    {
        long needed = Math.Min(_samples.Length, session.AudioSamplesNeeded);
        int end = (int)Math.Max(_given, needed);
        bool ended = _given == _samples.Length;
        var slice = _samples.AsSpan(_given, end - _given).ToArray();
        _given = end;
        return new AudioInput.Pcm(slice, EndOfStream: !ended && end == _samples.Length);
    }
}
