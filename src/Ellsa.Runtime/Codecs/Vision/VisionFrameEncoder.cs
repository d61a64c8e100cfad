using Ellsa.Kernels.Backend;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Duplex;

namespace Ellsa.Runtime.Codecs.Vision;

/// <summary>
/// The session's image encoder: a camera frame through the evaluation's preprocessing (the
/// wrapper's 200×200 Pillow resize, then the processor) and the VisionVQ tokenizer.
/// </summary>
public sealed class VisionFrameEncoder : IImageEncoder, IDisposable
{
    private readonly ImagePreprocessor _preprocessor;

    private VisionFrameEncoder(VisionTokenizer tokenizer)
    {
        Tokenizer = tokenizer;
        _preprocessor = new ImagePreprocessor(tokenizer.Preprocessor);
        var (height, width) = ImagePreprocessor.SmartResize(ImagePreprocessor.WrapperSide, ImagePreprocessor.WrapperSide,
            tokenizer.Preprocessor.SpatialFactor, VisionPreprocessorConfig.WrapperMinPixels, tokenizer.Preprocessor.MaxPixels);
        CodesPerFrame = height / tokenizer.Config.SpatialFactor * (width / tokenizer.Config.SpatialFactor);
    }

    public VisionTokenizer Tokenizer { get; }
    /// <summary>Codes of one evaluation frame (625 at the release).</summary>
    public int CodesPerFrame { get; }

    /// <summary>
    /// Loads <c>vision_tokenizer/</c> and checks it against the model's settings: its codebook must
    /// be the visual vocabulary (ellsa.json tokens.visual_count) and a frame must give
    /// image.codes_per_frame codes.
    /// </summary>
    public static VisionFrameEncoder Load(string modelDirectory, IComputeBackend backend, int visualCount, int codesPerFrame)
    {
        var tokenizer = VisionTokenizer.Load(modelDirectory, backend);
        try
        {
            var encoder = new VisionFrameEncoder(tokenizer);
            if (tokenizer.Config.CodebookSize != visualCount)
                throw new ConfigException($"{VisionTokenizer.DirectoryName}/config.json: codebook_size is {tokenizer.Config.CodebookSize}, " +
                                          $"but ellsa.json tokens.visual_count is {visualCount}; they must agree");
            if (encoder.CodesPerFrame != codesPerFrame)
                throw new ConfigException($"{VisionTokenizer.DirectoryName}: a {ImagePreprocessor.WrapperSide}×{ImagePreprocessor.WrapperSide} frame gives " +
                                          $"{encoder.CodesPerFrame} codes, but ellsa.json image.codes_per_frame is {codesPerFrame}");
            return encoder;
        }
        catch
        {
            tokenizer.Dispose();
            throw;
        }
    }

    public int[] Encode(RgbImage frame)
    {
        var pixels = _preprocessor.Process(frame, FramePipeline.Wrapper);
        return Tokenizer.Encode(pixels.Values, pixels.Height, pixels.Width).Codes;
    }

    public void Dispose() => Tokenizer.Dispose();
}
