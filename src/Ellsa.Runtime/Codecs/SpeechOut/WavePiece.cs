namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// What a <see cref="TokenToWaveStream"/> call made final: the waveform samples at the decoder's
/// sample rate, in order after the previous piece's, and the flow's new mel frames [80, MelFrames]
/// channel-major (the frames of the windows run in the call, without the cached frames HiFT saw
/// again), in order after the previous piece's.
/// </summary>
public sealed record WavePiece(float[] Samples, float[] Mel, int MelFrames)
{
    public static WavePiece Empty { get; } = new([], [], 0);

    public bool IsEmpty => Samples.Length == 0 && MelFrames == 0;

    /// <summary>The pieces one after another (samples appended, mel frames appended per channel).</summary>
    public static WavePiece Concat(IReadOnlyList<WavePiece> pieces)
    {
        if (pieces.Count == 1)
            return pieces[0];
        var samples = new float[pieces.Sum(p => p.Samples.Length)];
        int frames = pieces.Sum(p => p.MelFrames), at = 0;
        foreach (var piece in pieces)
        {
            piece.Samples.CopyTo(samples, at);
            at += piece.Samples.Length;
        }
        var mel = new float[FlowOutput.Channels * frames];
        int first = 0;
        foreach (var piece in pieces)
        {
            for (int c = 0; c < FlowOutput.Channels; c++)
                Array.Copy(piece.Mel, c * piece.MelFrames, mel, c * frames + first, piece.MelFrames);
            first += piece.MelFrames;
        }
        return new WavePiece(samples, mel, frames);
    }

    /// <summary>Mel frame <paramref name="frame"/> as its 80 values.</summary>
    public float[] MelFrame(int frame)
    {
        var values = new float[FlowOutput.Channels];
        for (int c = 0; c < values.Length; c++)
            values[c] = Mel[c * MelFrames + frame];
        return values;
    }
}
