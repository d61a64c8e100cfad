namespace Ellsa.Runtime.Codecs.Vision;

/// <summary>
/// Pillow's <c>Image.resize(size, BICUBIC)</c> on 8-bit RGB, reproduced exactly (Resample.c of
/// Pillow 9–11, which the reference runs): separable, the horizontal pass first into an 8-bit
/// intermediate of only the rows the vertical pass reads; a = −0.5 cubic kernel whose support
/// grows with the downscale factor (antialiasing); coefficients normalised to sum 1, then held
/// in fixed point with 22 fractional bits, rounded half away from zero; sums start at 2²¹ and are
/// clipped to 0…255. Written by hand because no .NET image library reproduces Pillow's rounding
/// (ImageSharp and Skia filter differently), and the tokenizer's codes depend on every byte.
/// </summary>
public static class PillowBicubic
{
    private const int PrecisionBits = 32 - 8 - 2;
    private const double Support = 2.0;

    public static RgbImage Resize(RgbImage image, int width, int height)
    {
        if (width < 1 || height < 1 || width > ImageFile.MaxSide || height > ImageFile.MaxSide)
            throw new ArgumentException($"resize to {width}×{height}: sides are 1…{ImageFile.MaxSide}");
        if (width == image.Width && height == image.Height)
            return image with { Pixels = (byte[])image.Pixels.Clone() };
        var (horizontalBounds, horizontalK, horizontalSize) = Coefficients(image.Width, width);
        var (verticalBounds, verticalK, verticalSize) = Coefficients(image.Height, height);
        bool needHorizontal = width != image.Width, needVertical = height != image.Height;

        byte[] source = image.Pixels;
        int sourceWidth = image.Width, sourceHeight = image.Height;
        if (needHorizontal)
        {
            // Only the rows the vertical pass will read.
            int first = verticalBounds[0], last = verticalBounds[2 * height - 2] + verticalBounds[2 * height - 1];
            if (!needVertical)
                (first, last) = (0, image.Height);
            var temp = new byte[3L * width * (last - first)];
            for (int y = 0; y < last - first; y++)
            {
                for (int x = 0; x < width; x++)
                {
                    int min = horizontalBounds[2 * x], count = horizontalBounds[2 * x + 1];
                    for (int c = 0; c < 3; c++)
                    {
                        int sum = 1 << (PrecisionBits - 1);
                        for (int i = 0; i < count; i++)
                            sum += source[((long)(y + first) * sourceWidth + min + i) * 3 + c] * horizontalK[x * horizontalSize + i];
                        temp[((long)y * width + x) * 3 + c] = Clip(sum);
                    }
                }
            }
            if (needVertical)
            {
                for (int y = 0; y < height; y++)
                    verticalBounds[2 * y] -= first;
            }
            (source, sourceWidth, sourceHeight) = (temp, width, last - first);
        }
        if (!needVertical)
            return new RgbImage(source, width, height);
        var output = new byte[3L * width * height];
        for (int y = 0; y < height; y++)
        {
            int min = verticalBounds[2 * y], count = verticalBounds[2 * y + 1];
            for (int x = 0; x < width; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    int sum = 1 << (PrecisionBits - 1);
                    for (int i = 0; i < count; i++)
                        sum += source[((long)(min + i) * sourceWidth + x) * 3 + c] * verticalK[y * verticalSize + i];
                    output[((long)y * width + x) * 3 + c] = Clip(sum);
                }
            }
        }
        return new RgbImage(output, width, height);
    }

    private static byte Clip(int sum)
    {
        int value = sum >> PrecisionBits;
        return value < 0 ? (byte)0 : value > 255 ? (byte)255 : (byte)value;
    }

    private static double Filter(double x)
    {
        const double a = -0.5;
        if (x < 0)
            x = -x;
        if (x < 1)
            return ((a + 2) * x - (a + 3)) * x * x + 1;
        if (x < 2)
            return (((x - 5) * x + 8) * x - 4) * a;
        return 0;
    }

    /// <summary>precompute_coeffs and normalize_coeffs_8bpc: per output pixel, its first input and count, and fixed-point weights.</summary>
    private static (int[] Bounds, int[] Weights, int Size) Coefficients(int inSize, int outSize)
    {
        // Pillow keeps the box bounds as float: in1 = inSize as a float, the scale in double.
        double scale = (double)(float)inSize / outSize;
        double filterScale = Math.Max(1.0, scale);
        double support = Support * filterScale;
        int size = (int)Math.Ceiling(support) * 2 + 1;
        var bounds = new int[outSize * 2];
        var weights = new int[outSize * size];
        var k = new double[size];
        for (int xx = 0; xx < outSize; xx++)
        {
            double center = (xx + 0.5) * scale;
            double total = 0;
            double ss = 1.0 / filterScale;
            int min = (int)(center - support + 0.5);
            if (min < 0)
                min = 0;
            int max = (int)(center + support + 0.5);
            if (max > inSize)
                max = inSize;
            max -= min;
            for (int x = 0; x < max; x++)
            {
                double w = Filter((x + min - center + 0.5) * ss);
                k[x] = w;
                total += w;
            }
            for (int x = 0; x < max; x++)
            {
                double w = total != 0 ? k[x] / total : k[x];
                weights[xx * size + x] = w < 0 ? (int)(-0.5 + w * (1 << PrecisionBits)) : (int)(0.5 + w * (1 << PrecisionBits));
            }
            bounds[2 * xx] = min;
            bounds[2 * xx + 1] = max;
        }
        return (bounds, weights, size);
    }
}
