namespace Ellsa.Runtime.Duplex;

/// <summary>What the user said during one 1-second block.</summary>
public abstract record AudioInput
{
    /// <summary>The speech encoder's 5 output rows for the block (hidden_size each), spliced after the block's bos.</summary>
    public sealed record Embeddings(float[][] Rows) : AudioInput;

    /// <summary>
    /// Raw audio, 16 kHz mono in [−1, 1]: the samples that arrived since the previous block's Step,
    /// any number. Needs the model's speech encoder. The session keeps one stream from its first PCM
    /// block on; a block's 5 rows need the stream to reach the block's end plus the encoder's
    /// lookahead (<see cref="Session.AudioSamplesNeeded"/>: 137.5–257.5 ms at the release), so a live
    /// caller steps a block that much after its end, passing what arrived. Mark the stream's last
    /// audio <paramref name="EndOfStream"/>: the stream is zero-padded to a whole block and finished,
    /// and later blocks pass no samples and take the rows already computed.
    /// </summary>
    public sealed record Pcm(float[] Samples, bool EndOfStream = false) : AudioInput;
}

/// <summary>One camera frame of a block.</summary>
public abstract record ImageInput
{
    /// <summary>The Emu3 VQ codes of the frame (25×25 = 625 for the released model), row-major.</summary>
    public sealed record Codes(int[] Values) : ImageInput;

    /// <summary>A raw RGB frame, 3 bytes per pixel, row-major. Needs an image encoder.</summary>
    public sealed record Rgb(byte[] Pixels, int Width, int Height) : ImageInput;

    /// <summary>A PNG or JPEG file (opened as Pillow opens it: grayscale and RGBA become RGB). Needs an image encoder.</summary>
    public sealed record File(string Path) : ImageInput;
}

/// <summary>One block's input: its audio and 0–2 camera frames (speech dialogue: none, or one VQA image in block 0; acting: agent view then wrist view).</summary>
public sealed record BlockInput(AudioInput Audio, IReadOnlyList<ImageInput> Images)
{
    public static BlockInput FromEmbeddings(float[][] audio, params int[][] imageCodes) =>
        new(new AudioInput.Embeddings(audio), imageCodes.Select(c => (ImageInput)new ImageInput.Codes(c)).ToArray());
}

/// <summary>Turns a camera frame into its VQ codes.</summary>
public interface IImageEncoder
{
    /// <summary>The frame's codes, row-major (25×25 for the evaluation's 200×200 frames).</summary>
    int[] Encode(Codecs.Vision.RgbImage frame);
}
