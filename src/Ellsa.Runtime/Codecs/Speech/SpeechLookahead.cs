namespace Ellsa.Runtime.Codecs.Speech;

/// <summary>
/// How much audio the speech encoder needs before a projector row is final: the lookahead a live
/// session has to wait for (01-model.md §4, 02-protocol.md §5). Row r stacks encoder frames up to
/// seg·r + seg − 1; an encoder frame is final once its whole attention chunk is (the chunk-causal
/// attention and the within-chunk convolution see to the chunk's end), and a 50 Hz frame t of the
/// subsampling needs fbank frames up to 2t + 14 (three 3×3 convs reach 2t + 8, the ConvNeXt's ±3
/// frames at 50 Hz add 6), whose window ends at sample 160·(2t + 14) + 280. At the release (chunk 8,
/// seg 10) that is the 320·J + 2520 with J = 8⌊(10r + 9)/8⌋ + 7: 137.5–257.5 ms past each
/// block's end. Assumes every stack's downsampling factor divides the chunk (as at the release), so
/// a downsampled frame never straddles two chunks; <see cref="Create"/> refuses other configs.
/// </summary>
public sealed class SpeechLookahead
{
    /// <summary>Fbank hop (10 ms at 16 kHz) and where a frame's 25 ms window ends past its hop start (snip_edges=False centres it).</summary>
    private const int Hop = 160, WindowEnd = 280;
    /// <summary>The subsampling's time stride and the fbank frames its last output frame reaches beyond 2t.</summary>
    private const int SubsamplingStride = 2, SubsamplingReach = 14;

    private readonly int _chunk, _seg, _outputDownsampling;

    public SpeechLookahead(int chunkSize, int segSize, int outputDownsampling)
    {
        _chunk = chunkSize;
        _seg = segSize;
        _outputDownsampling = outputDownsampling;
    }

    /// <summary>Frames (at the encoder's output rate) of one projector row.</summary>
    public int SegmentFrames => _seg;

    /// <summary>Samples of the stream that must have arrived before the first <paramref name="rows"/> projector rows are final.</summary>
    public long SamplesNeeded(int rows)
    {
        if (rows <= 0)
            return 0;
        long lastEncoderFrame = (long)_seg * rows - 1;
        long last50Hz = _outputDownsampling * (lastEncoderFrame + 1) - 1;
        long chunkEnd = _chunk * (last50Hz / _chunk) + _chunk - 1;
        return Hop * (SubsamplingStride * chunkEnd + SubsamplingReach) + WindowEnd;
    }
}
