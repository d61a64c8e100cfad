using System.CommandLine;
using System.Text.Json;
using Ellsa.Cli.Infrastructure;
using Ellsa.Runtime.Codecs.Vision;

namespace Ellsa.Cli.Commands;

/// <summary><c>ellsa look</c>: camera frames to the Emu3 VisionVQ codes the model reads (and back to what it sees).</summary>
public static class LookCommand
{
    /// <summary>More frames than one command should hold; a session takes two per block.</summary>
    public const int MaxImages = 64;

    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model")
        {
            Description = "Model directory with a vision_tokenizer/ folder (config.json, preprocessor_config.json, model.safetensors), or that folder itself",
            Required = true,
        };
        var images = new Option<FileInfo[]>("--image")
        {
            Description = "A PNG or JPEG frame (repeat for several); grayscale and RGBA become RGB as Pillow converts them",
            Required = true,
            AllowMultipleArgumentsPerToken = false,
        };
        var output = CommonOptions.Output("OUT.json to write: {\"codes\": [[h·w codes] per image], \"shape\": [h, w]} (25×25 for the evaluation's 200×200 frames)");
        var pixels = new Option<bool>("--pixels") { Description = "Also write \"pixels\": each frame as the tokenizer sees it, [3][H][W] normalised floats" };
        var reconstruct = new Option<FileInfo?>("--reconstruct")
        {
            Description = "Write the decoder's image of the codes (what the model sees) to this PNG; with several images, NAME-0.png, NAME-1.png, …",
        };
        var direct = new Option<bool>("--direct")
        {
            Description = "Skip the evaluation wrapper's 200×200 resize: the processor's smart_resize picks the size (multiples of the spatial factor)",
        };
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var command = new Command("look",
            "Encode camera frames as the released model reads them: the LIBERO evaluation's preprocessing (Pillow's bicubic resize to " +
            "200×200, rescale and normalise) and the Emu3 VisionVQ tokenizer (2-D encoder once for the 4× temporal repeat, causal time " +
            "convs, quant_conv, nearest codebook row).\n\nExamples:\n" +
            "  ellsa look --model weights/tiny --image agent.png --image wrist.jpg --output codes.json\n" +
            "  ellsa look --model weights/tiny --image agent.png --output codes.json --reconstruct seen.png")
        {
            model, images, output, pixels, reconstruct, direct, device, threads,
        };
        command.SetAction(result => ErrorReporting.Run(() => Execute(
            result.GetValue(model)!, result.GetValue(images)!, result.GetValue(output)!, result.GetValue(pixels),
            result.GetValue(reconstruct), result.GetValue(direct), result.GetValue(device)!, result.GetValue(threads))));
        return command;
    }

    private static int Execute(DirectoryInfo directory, FileInfo[] images, FileInfo output, bool writePixels, FileInfo? reconstruct, bool direct,
        string device, int threads)
    {
        if (images.Length > MaxImages)
            throw new UserError($"--image given {images.Length} times; at most {MaxImages} frames per run");
        using var destination = OutputFile.Open(output.FullName, null);
        var pictures = reconstruct is null ? [] : images.Select((_, i) => OutputFile.Open(
            images.Length == 1 ? reconstruct.FullName : Numbered(reconstruct.FullName, i), null, "--reconstruct")).ToList();
        try
        {
            // Read every frame before the tokenizer loads: a bad file fails at once.
            var frames = images.Select(image => ImageFile.Read(image.FullName)).ToArray();
            using var backend = CommonOptions.CreateBackend(device, threads);
            using var tokenizer = VisionTokenizer.Load(directory.FullName, backend);
            var processor = new ImagePreprocessor(tokenizer.Preprocessor);
            var encoded = new List<(FramePixels Pixels, VisionEncoding Encoding)>();
            bool live = !Console.IsErrorRedirected;
            foreach (var (frame, i) in frames.Select((f, i) => (f, i)))
            {
                if (live)
                    Console.Error.Write($"\rframe {i + 1}/{frames.Length}…");
                var prepared = processor.Process(frame, direct ? FramePipeline.Direct : FramePipeline.Wrapper);
                encoded.Add((prepared, tokenizer.Encode(prepared.Values, prepared.Height, prepared.Width)));
            }
            if (live)
                Console.Error.Write("\r" + new string(' ', 30) + "\r");

            using (var json = new Utf8JsonWriter(destination.Stream))
            {
                json.WriteStartObject();
                json.WriteStartArray("codes");
                foreach (var (_, encoding) in encoded)
                {
                    json.WriteStartArray();
                    foreach (int code in encoding.Codes)
                        json.WriteNumberValue(code);
                    json.WriteEndArray();
                }
                json.WriteEndArray();
                json.WriteStartArray("shape");
                json.WriteNumberValue(encoded[0].Encoding.Height);
                json.WriteNumberValue(encoded[0].Encoding.Width);
                json.WriteEndArray();
                if (direct)
                {
                    json.WriteStartArray("shapes");
                    foreach (var (_, encoding) in encoded)
                    {
                        json.WriteStartArray();
                        json.WriteNumberValue(encoding.Height);
                        json.WriteNumberValue(encoding.Width);
                        json.WriteEndArray();
                    }
                    json.WriteEndArray();
                }
                if (writePixels)
                {
                    json.WritePropertyName("pixels");
                    json.WriteStartArray();
                    foreach (var (prepared, _) in encoded)
                        WritePixels(json, prepared);
                    json.WriteEndArray();
                }
                json.WriteEndObject();
            }
            for (int i = 0; i < pictures.Count; i++)
            {
                var encoding = encoded[i].Encoding;
                var image = tokenizer.Decode(encoding.Codes, encoding.Height, encoding.Width);
                int factor = tokenizer.Config.SpatialFactor;
                ImageFile.WritePng(ImageFile.FromPixels(image, encoding.Height * factor, encoding.Width * factor), pictures[i].Stream);
            }
            destination.Commit();
            foreach (var picture in pictures)
                picture.Commit();
            Console.Error.WriteLine($"{frames.Length} frame{(frames.Length == 1 ? "" : "s")} → {encoded[0].Encoding.Height}×{encoded[0].Encoding.Width} codes each");
            return 0;
        }
        finally
        {
            foreach (var picture in pictures)
                picture.Dispose();
        }
    }

    private static void WritePixels(Utf8JsonWriter json, FramePixels frame)
    {
        int n = frame.Height * frame.Width;
        json.WriteStartArray();
        for (int c = 0; c < 3; c++)
        {
            json.WriteStartArray();
            for (int y = 0; y < frame.Height; y++)
            {
                json.WriteStartArray();
                for (int x = 0; x < frame.Width; x++)
                    json.WriteNumberValue(frame.Values[c * n + y * frame.Width + x]);
                json.WriteEndArray();
            }
            json.WriteEndArray();
            json.Flush();
        }
        json.WriteEndArray();
    }

    private static string Numbered(string path, int index) =>
        Path.Combine(Path.GetDirectoryName(path) ?? ".", $"{Path.GetFileNameWithoutExtension(path)}-{index}{Path.GetExtension(path)}");
}
