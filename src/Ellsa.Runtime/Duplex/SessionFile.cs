using System.Text.Json;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Decoding;

namespace Ellsa.Runtime.Duplex;

/// <summary>A scripted session for <c>ellsa duplex</c>: its mode, optional prompt ids and one input per block.</summary>
public sealed record SessionScript(SessionMode Mode, int[]? PromptIds, IReadOnlyList<BlockInput> Blocks);

/// <summary>
/// Reads SESSION.json: <c>{"mode": "speech"|"act", "prompt_ids": [optional],
/// "blocks": [{"audio_embeddings": [[…] × 5], "images": [[625 codes], [625 codes]]}, …]}</c>.
/// Shapes are checked against the model when the session steps; here only the syntax, with the field named.
/// </summary>
public static class SessionFile
{
    public static SessionScript Read(string path)
    {
        string name = Path.GetFileName(path);
        var document = JsonFiles.Parse(path, problem => new InputFileException($"{name}: {problem}"));
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new InputFileException($"{name}: expected an object with \"mode\" and \"blocks\"");
            foreach (var property in root.EnumerateObject())
            {
                if (property.Name is not ("mode" or "prompt_ids" or "blocks"))
                    throw new InputFileException($"{name}: unknown field \"{property.Name}\" (mode, prompt_ids, blocks)");
            }
            var mode = root.TryGetProperty("mode", out var m) && m.ValueKind == JsonValueKind.String
                ? m.GetString() switch
                {
                    "speech" => SessionMode.Speech,
                    "act" => SessionMode.Act,
                    var other => throw new InputFileException($"{name}: mode must be \"speech\" or \"act\", got \"{other}\""),
                }
                : throw new InputFileException($"{name}: mode must be \"speech\" or \"act\"");
            int[]? prompt = root.TryGetProperty("prompt_ids", out var p) && p.ValueKind != JsonValueKind.Null
                ? Ints(p, $"{name}: prompt_ids")
                : null;
            if (!root.TryGetProperty("blocks", out var blocks) || blocks.ValueKind != JsonValueKind.Array)
                throw new InputFileException($"{name}: blocks must be an array");
            var inputs = new List<BlockInput>();
            int b = 0;
            foreach (var block in blocks.EnumerateArray())
                inputs.Add(Block(block, $"{name}: blocks[{b++}]"));
            return new SessionScript(mode, prompt, inputs);
        }
    }

    private static BlockInput Block(JsonElement block, string where)
    {
        if (block.ValueKind != JsonValueKind.Object)
            throw new InputFileException($"{where} must be an object with audio_embeddings and images");
        foreach (var property in block.EnumerateObject())
        {
            if (property.Name is not ("audio_embeddings" or "images"))
                throw new InputFileException($"{where} has an unknown field \"{property.Name}\"");
        }
        if (!block.TryGetProperty("audio_embeddings", out var audio) || audio.ValueKind != JsonValueKind.Array)
            throw new InputFileException($"{where}.audio_embeddings must be an array of 5 rows");
        var rows = new List<float[]>();
        int r = 0;
        foreach (var row in audio.EnumerateArray())
        {
            string rowWhere = $"{where}.audio_embeddings[{r++}]";
            if (row.ValueKind != JsonValueKind.Array)
                throw new InputFileException($"{rowWhere} must be an array of numbers");
            var values = new float[row.GetArrayLength()];
            int c = 0;
            foreach (var value in row.EnumerateArray())
            {
                if (value.ValueKind != JsonValueKind.Number || !float.IsFinite(values[c] = value.GetSingle()))
                    throw new InputFileException($"{rowWhere}[{c}] must be a finite number");
                c++;
            }
            rows.Add(values);
        }
        var images = new List<ImageInput>();
        if (block.TryGetProperty("images", out var imageArray) && imageArray.ValueKind != JsonValueKind.Null)
        {
            if (imageArray.ValueKind != JsonValueKind.Array)
                throw new InputFileException($"{where}.images must be an array of code arrays");
            int i = 0;
            foreach (var image in imageArray.EnumerateArray())
                images.Add(new ImageInput.Codes(Ints(image, $"{where}.images[{i++}]")));
        }
        return new BlockInput(new AudioInput.Embeddings(rows.ToArray()), images);
    }

    private static int[] Ints(JsonElement array, string where)
    {
        if (array.ValueKind != JsonValueKind.Array)
            throw new InputFileException($"{where} must be an array of integers");
        var values = new int[array.GetArrayLength()];
        int i = 0;
        foreach (var value in array.EnumerateArray())
        {
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out values[i]))
                throw new InputFileException($"{where}[{i}] must be an integer");
            i++;
        }
        return values;
    }
}
