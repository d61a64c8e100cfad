namespace Ellsa.Runtime.Codecs.Vision;

/// <summary>Which preprocessing a frame gets.</summary>
public enum FramePipeline
{
    /// <summary>The LIBERO evaluation's (W:347-366): Pillow's resize to 200×200, then the processor with min_pixels 6400.</summary>
    Wrapper,
    /// <summary>The processor alone (still with the wrapper's min_pixels): smart_resize picks the size.</summary>
    Direct,
}

/// <summary>Normalised pixels [3, Height, Width], channels first, ready for the tokenizer.</summary>
public sealed record FramePixels(float[] Values, int Height, int Width);

/// <summary>
/// Emu3VisionVQImageProcessor (VQP:121-247) as the evaluation wrapper drives it: smart_resize to
/// multiples of the spatial factor within [min_pixels, max_pixels], Pillow's bicubic, then
/// rescale in double and normalise in float, exactly as the processor's numpy code rounds.
/// </summary>
public sealed class ImagePreprocessor(VisionPreprocessorConfig config, int minPixels = VisionPreprocessorConfig.WrapperMinPixels)
{
    /// <summary>The side the wrapper resizes every camera frame to (W:351).</summary>
    public const int WrapperSide = 200;

    public FramePixels Process(RgbImage image, FramePipeline pipeline = FramePipeline.Wrapper)
    {
        if (pipeline == FramePipeline.Wrapper)
            image = PillowBicubic.Resize(image, WrapperSide, WrapperSide);
        int height = image.Height, width = image.Width;
        if (config.DoResize)
        {
            (height, width) = SmartResize(image.Height, image.Width, config.SpatialFactor, minPixels, config.MaxPixels);
            image = PillowBicubic.Resize(image, width, height);
        }
        return Normalize(image);
    }

    /// <summary>
    /// The processor's size rule: sides rounded (half to even, as Python's round) to the factor,
    /// shrunk when over max_pixels, grown when under min_pixels, keeping the aspect ratio.
    /// </summary>
    public static (int Height, int Width) SmartResize(int height, int width, int factor, int minPixels, int maxPixels)
    {
        if (height < factor || width < factor)
            throw new ArgumentException($"a {width}×{height} frame: both sides must be at least the spatial factor {factor}");
        double ratio = (double)Math.Max(height, width) / Math.Min(height, width);
        if (ratio > 5)
            throw new ArgumentException($"a {width}×{height} frame: the aspect ratio {ratio:0.###} is above the processor's limit of 5");
        long hBar = (long)Math.Round((double)height / factor, MidpointRounding.ToEven) * factor;
        long wBar = (long)Math.Round((double)width / factor, MidpointRounding.ToEven) * factor;
        if (hBar * wBar > maxPixels)
        {
            double beta = Math.Sqrt((double)height * width / maxPixels);
            hBar = (long)Math.Floor(height / beta / factor) * factor;
            wBar = (long)Math.Floor(width / beta / factor) * factor;
        }
        else if (hBar * wBar < minPixels)
        {
            double beta = Math.Sqrt((double)minPixels / ((double)height * width));
            hBar = (long)Math.Ceiling(height * beta / factor) * factor;
            wBar = (long)Math.Ceiling(width * beta / factor) * factor;
        }
        return ((int)hBar, (int)wBar);
    }

    /// <summary>Channels first; v = float(u8 · rescale_factor) in double, then (v − mean) / std in float.</summary>
    public FramePixels Normalize(RgbImage image)
    {
        int n = image.Width * image.Height;
        var values = new float[3 * n];
        for (int c = 0; c < 3; c++)
        {
            float mean = config.Mean[c], std = config.Std[c];
            for (int i = 0; i < n; i++)
            {
                float v = image.Pixels[3 * i + c];
                if (config.DoRescale)
                    v = (float)(image.Pixels[3 * i + c] * config.RescaleFactor);
                if (config.DoNormalize)
                    v = (v - mean) / std;
                values[c * n + i] = v;
            }
        }
        return new FramePixels(values, image.Height, image.Width);
    }
}
