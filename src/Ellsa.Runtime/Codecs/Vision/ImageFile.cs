using SkiaSharp;

namespace Ellsa.Runtime.Codecs.Vision;

/// <summary>A decoded frame: 8-bit RGB, row-major, 3 bytes per pixel.</summary>
public sealed record RgbImage(byte[] Pixels, int Width, int Height)
{
    public static RgbImage FromBuffer(byte[] pixels, int width, int height)
    {
        if (width < 1 || height < 1 || width > ImageFile.MaxSide || height > ImageFile.MaxSide)
            throw new ArgumentException($"a {width}×{height} frame: sides are 1…{ImageFile.MaxSide}");
        if (pixels.Length != 3L * width * height)
            throw new ArgumentException($"a {width}×{height} RGB frame has {3L * width * height} bytes, not {pixels.Length}");
        return new RgbImage(pixels, width, height);
    }
}

/// <summary>An image file that cannot be used; the message names the file.</summary>
public sealed class ImageFileException(string message) : Exception(message);

/// <summary>
/// PNG and JPEG files to RGB, as the reference opens them (Pillow's <c>Image.open(…).convert("RGB")</c>):
/// grayscale replicated to three channels, alpha dropped without compositing (the colour under a
/// transparent pixel is kept), palettes expanded. Decoding goes through SkiaSharp: its JPEG path is
/// libjpeg-turbo with the same defaults Pillow uses, so pixels match the reference bit for bit,
/// and its PNG path is libpng. Sizes come from the header and are bounded before any pixel buffer
/// is allocated; truncated files are refused as Pillow refuses them.
/// </summary>
public static class ImageFile
{
    public const int MaxSide = 8192;
    public const long MaxBytes = 256L << 20;

    public static RgbImage Read(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
            throw new ImageFileException($"{path}: file not found");
        if (info.Length > MaxBytes)
            throw new ImageFileException($"{path}: {info.Length} bytes, more than an image may have ({MaxBytes >> 20} MB)");
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageFileException($"{path}: cannot be read: {e.Message}");
        }
        return Decode(bytes, path);
    }

    public static RgbImage Decode(byte[] bytes, string name)
    {
        // The codec owns the stream it is given.
        using var codec = SKCodec.Create(new SKMemoryStream(bytes), out var result);
        if (codec is null)
            throw new ImageFileException($"{name}: not a readable image ({Describe(result)}); PNG and JPEG files are supported");
        if (codec.EncodedFormat is not (SKEncodedImageFormat.Png or SKEncodedImageFormat.Jpeg))
            throw new ImageFileException($"{name}: {codec.EncodedFormat} images are not supported; use PNG or JPEG");
        int width = codec.Info.Width, height = codec.Info.Height;
        if (width < 1 || height < 1 || width > MaxSide || height > MaxSide)
            throw new ImageFileException($"{name}: {width}×{height} pixels; sides must be 1…{MaxSide}");
        // Unpremultiplied RGBA: the colour channels stay as stored whatever the alpha.
        var rgbaInfo = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[rgbaInfo.BytesSize];
        SKCodecResult decoded;
        unsafe
        {
            fixed (byte* target = rgba)
                decoded = codec.GetPixels(rgbaInfo, (IntPtr)target);
        }
        if (decoded != SKCodecResult.Success)
            throw new ImageFileException($"{name}: {Describe(decoded)}");
        var rgb = new byte[3L * width * height];
        for (long i = 0, j = 0; i < rgb.Length; i += 3, j += 4)
        {
            rgb[i] = rgba[j];
            rgb[i + 1] = rgba[j + 1];
            rgb[i + 2] = rgba[j + 2];
        }
        return new RgbImage(rgb, width, height);
    }

    /// <summary>Writes an RGB image as PNG (lossless, so the bytes read back are the bytes written).</summary>
    public static void WritePng(RgbImage image, Stream destination)
    {
        var info = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[info.BytesSize];
        for (long i = 0, j = 0; i < image.Pixels.Length; i += 3, j += 4)
        {
            rgba[j] = image.Pixels[i];
            rgba[j + 1] = image.Pixels[i + 1];
            rgba[j + 2] = image.Pixels[i + 2];
            rgba[j + 3] = 255;
        }
        using var bitmap = new SKBitmap();
        unsafe
        {
            fixed (byte* pixels = rgba)
            {
                if (!bitmap.InstallPixels(info, (IntPtr)pixels, info.RowBytes))
                    throw new InvalidOperationException("Skia refused a bitmap for the PNG");
                using var encoded = bitmap.Encode(SKEncodedImageFormat.Png, 100);
                encoded.SaveTo(destination);
            }
        }
    }

    /// <summary>Pixels in the tokenizer's range (−1…1, channels first) back to 8-bit RGB: (x + 1)·127.5, rounded and clipped.</summary>
    public static RgbImage FromPixels(float[] values, int height, int width)
    {
        int n = height * width;
        var rgb = new byte[3L * n];
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < n; i++)
                rgb[3L * i + c] = (byte)Math.Clamp(Math.Round((values[c * n + i] + 1f) * 127.5f), 0, 255);
        return new RgbImage(rgb, width, height);
    }

    private static string Describe(SKCodecResult result) => result switch
    {
        SKCodecResult.IncompleteInput or SKCodecResult.ErrorInInput => "the file is truncated or corrupt",
        SKCodecResult.InvalidInput => "the data is not a valid image",
        SKCodecResult.Unimplemented => "an encoding the decoder does not implement",
        _ => $"decoding failed ({result})",
    };
}
