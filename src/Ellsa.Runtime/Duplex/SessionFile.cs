using System.Text.Json;
using Ellsa.Runtime.Decoding;

namespace Ellsa.Runtime.Duplex;

/// <summary>A scripted session for <c>ellsa duplex</c>: its mode, optional prompt ids and one input per block.</summary>
public sealed record SessionScript(SessionMode Mode, int[]? PromptIds, IReadOnlyList<BlockInput> Blocks);

/// <summary>The model geometry a session file is checked against while it is parsed.</summary>
public sealed record SessionShape(int HiddenSize, int CodesPerFrame);

/// <summary>
/// Reads SESSION.json: <c>{"mode": "speech"|"act", "prompt_ids": [optional],
/// "blocks": [{"audio_embeddings": [[…] × 5], "images": [[625 codes] or "frame.png", …]}, …]}</c>.
/// Parsed as it streams, with every field named in errors. Given a <see cref="SessionShape"/>, rows,
/// frames and counts are checked at the first bad one, so no block is ever bigger than the model's;
/// without one, only the syntax (the session checks shapes when it steps).
/// </summary>
public static class SessionFile
{
    /// <summary>
    /// A session is a script of many blocks (3 000 blocks at the release geometry are about 0.6 GB of
    /// text), so its bound is fixed rather than derived from the model's positions.
    /// </summary>
    public const long MaxBytes = 1L << 30;

    /// <summary>A 1-second block carries 5 audio embeddings (the speech encoder's rate).</summary>
    public const int AudioRowsPerBlock = 5;

    /// <summary>An agent view and a wrist view at most.</summary>
    public const int MaxImagesPerBlock = 2;

    /// <param name="audioElsewhere">The session's audio comes from a PCM stream (a WAV file): blocks carry no audio_embeddings, and
    /// each block's audio is an empty <see cref="AudioInput.Pcm"/> for the caller to replace.</param>
    public static SessionScript Read(string path, SessionShape? shape = null, bool audioElsewhere = false)
    {
        using var input = JsonInput.Open(path, MaxBytes);
        var json = new JsonCursor(input);
        // Frames given by file name are found beside the session file.
        var script = Root(ref json, shape, Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", audioElsewhere);
        json.ExpectEnd();
        return script;
    }

    private static SessionScript Root(ref JsonCursor json, SessionShape? shape, string baseDirectory, bool audioElsewhere)
    {
        json.Next();
        if (json.TokenType != JsonTokenType.StartObject)
            throw json.Error("expected an object with \"mode\" and \"blocks\"");
        SessionMode? mode = null;
        int[]? prompt = null;
        List<BlockInput>? blocks = null;
        var seen = new HashSet<string>();
        for (json.Next(); json.TokenType != JsonTokenType.EndObject; json.Next())
        {
            string key = json.GetString();
            if (key is not ("mode" or "prompt_ids" or "blocks"))
                throw json.Error($"unknown field \"{key}\" (mode, prompt_ids, blocks)");
            if (!seen.Add(key))
                throw json.Error($"\"{key}\" appears twice");
            json.Next();
            switch (key)
            {
                case "mode":
                    mode = json.TokenType == JsonTokenType.String
                        ? json.GetString() switch
                        {
                            "speech" => SessionMode.Speech,
                            "act" => SessionMode.Act,
                            var other => throw json.Error($"mode must be \"speech\" or \"act\", got \"{other}\""),
                        }
                        : throw json.Error("mode must be \"speech\" or \"act\"");
                    break;
                case "prompt_ids":
                    prompt = json.TokenType == JsonTokenType.Null ? null : Ints(ref json, "prompt_ids", int.MaxValue);
                    break;
                default:
                    blocks = Blocks(ref json, shape, baseDirectory, audioElsewhere);
                    break;
            }
        }
        if (mode is null)
            throw json.Error("mode must be \"speech\" or \"act\"");
        if (blocks is null)
            throw json.Error("blocks must be an array");
        return new SessionScript(mode.Value, prompt, blocks);
    }

    private static List<BlockInput> Blocks(ref JsonCursor json, SessionShape? shape, string baseDirectory, bool audioElsewhere)
    {
        if (json.TokenType != JsonTokenType.StartArray)
            throw json.Error("blocks must be an array");
        var blocks = new List<BlockInput>();
        for (json.Next(); json.TokenType != JsonTokenType.EndArray; json.Next())
            blocks.Add(Block(ref json, $"blocks[{blocks.Count}]", shape, baseDirectory, audioElsewhere));
        return blocks;
    }

    private static BlockInput Block(ref JsonCursor json, string where, SessionShape? shape, string baseDirectory, bool audioElsewhere)
    {
        if (json.TokenType != JsonTokenType.StartObject)
            throw json.Error($"{where} must be an object with audio_embeddings and images");
        float[][]? audio = null;
        var images = new List<ImageInput>();
        bool sawImages = false;
        for (json.Next(); json.TokenType != JsonTokenType.EndObject; json.Next())
        {
            string key = json.GetString();
            if (key is not ("audio_embeddings" or "images"))
                throw json.Error($"{where} has an unknown field \"{key}\"");
            if (key == "audio_embeddings" ? audio is not null : sawImages)
                throw json.Error($"{where}.{key} appears twice");
            if (key == "audio_embeddings" && audioElsewhere)
                throw json.Error($"{where}.audio_embeddings: the session's audio comes from the audio file; give blocks images only");
            json.Next();
            if (key == "audio_embeddings")
                audio = Audio(ref json, $"{where}.audio_embeddings", shape);
            else
            {
                sawImages = true;
                Images(ref json, $"{where}.images", shape, images, baseDirectory);
            }
        }
        if (audioElsewhere)
            return new BlockInput(new AudioInput.Pcm([]), images);
        if (audio is null)
            throw json.Error($"{where}.audio_embeddings must be an array of {AudioRowsPerBlock} rows");
        return new BlockInput(new AudioInput.Embeddings(audio), images);
    }

    private static float[][] Audio(ref JsonCursor json, string where, SessionShape? shape)
    {
        if (json.TokenType != JsonTokenType.StartArray)
            throw json.Error($"{where} must be an array of {AudioRowsPerBlock} rows");
        var rows = new List<float[]>(AudioRowsPerBlock);
        for (json.Next(); json.TokenType != JsonTokenType.EndArray; json.Next())
        {
            if (shape is not null && rows.Count == AudioRowsPerBlock)
                throw json.Error($"{where} has more than {AudioRowsPerBlock} rows; a 1-second block has {AudioRowsPerBlock}");
            rows.Add(Row(ref json, $"{where}[{rows.Count}]", shape?.HiddenSize));
        }
        if (shape is not null && rows.Count != AudioRowsPerBlock)
            throw json.Error($"{where} has {rows.Count} rows; a 1-second block has {AudioRowsPerBlock}");
        return rows.ToArray();
    }

    private static float[] Row(ref JsonCursor json, string where, int? width)
    {
        if (json.TokenType != JsonTokenType.StartArray)
            throw json.Error($"{where} must be an array of numbers");
        var values = new List<float>(width ?? 64);
        for (json.Next(); json.TokenType != JsonTokenType.EndArray; json.Next())
        {
            if (values.Count == width)
                throw json.Error($"{where} has more than {width} values; hidden_size is {width}");
            if (json.TokenType != JsonTokenType.Number || !json.TryGetFiniteSingle(out float value))
                throw json.Error($"{where}[{values.Count}] must be a finite number");
            values.Add(value);
        }
        if (width is { } d && values.Count != d)
            throw json.Error($"{where} has {values.Count} values; hidden_size is {d}");
        return values.ToArray();
    }

    private static void Images(ref JsonCursor json, string where, SessionShape? shape, List<ImageInput> images, string baseDirectory)
    {
        if (json.TokenType == JsonTokenType.Null)
            return;
        if (json.TokenType != JsonTokenType.StartArray)
            throw json.Error($"{where} must be an array of frames (code arrays or image file names)");
        for (json.Next(); json.TokenType != JsonTokenType.EndArray; json.Next())
        {
            if (shape is not null && images.Count == MaxImagesPerBlock)
                throw json.Error($"{where} has more than {MaxImagesPerBlock} images (agent view, wrist view)");
            if (json.TokenType == JsonTokenType.String)
            {
                // A frame by file name (PNG or JPEG, relative to the session file); the session encodes it.
                string file = json.GetString();
                if (file.Length == 0 || file.Contains('\0'))
                    throw json.Error($"{where}[{images.Count}] is not a file name");
                images.Add(new ImageInput.File(Path.GetFullPath(Path.Combine(baseDirectory, file))));
                continue;
            }
            var codes = Ints(ref json, $"{where}[{images.Count}]", shape?.CodesPerFrame ?? int.MaxValue);
            if (shape is not null && codes.Length != shape.CodesPerFrame)
                throw json.Error($"{where}[{images.Count}] has {codes.Length} codes; a frame has {shape.CodesPerFrame}");
            images.Add(new ImageInput.Codes(codes));
        }
    }

    private static int[] Ints(ref JsonCursor json, string where, int maxCount)
    {
        if (json.TokenType != JsonTokenType.StartArray)
            throw json.Error($"{where} must be an array of integers");
        var values = new List<int>();
        for (json.Next(); json.TokenType != JsonTokenType.EndArray; json.Next())
        {
            if (values.Count == maxCount)
                throw json.Error($"{where} has more than {maxCount} values");
            if (json.TokenType != JsonTokenType.Number || !json.TryGetInt32(out int value))
                throw json.Error($"{where}[{values.Count}] must be an integer");
            values.Add(value);
        }
        return values.ToArray();
    }
}
