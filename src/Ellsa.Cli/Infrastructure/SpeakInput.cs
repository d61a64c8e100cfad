using System.Text.Json;
using Ellsa.Runtime.Codecs.SpeechOut;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Decoding;

namespace Ellsa.Cli.Infrastructure;

/// <summary>
/// The inputs of <c>ellsa speak</c>, checked against the decoder's config before any weight loads:
/// T.json <c>{"tokens": [ids]}</c> (speech tokens 0 … flow.vocab_size − 1) or H.json
/// <c>{"hidden": [[generator_proj.input_size floats] × n]}</c> (the speech expert's hidden rows).
/// Every problem is one <see cref="InputFileException"/> naming the file and the field.
/// </summary>
public static class SpeakInput
{
    /// <summary>Bytes an input may have: thousands of the release's 4096-wide hidden rows (a segment holds at most 100).</summary>
    public const long MaxBytes = 256L << 20;

    public static int[] ReadTokens(FileInfo file, SpeechDecoderConfig config)
    {
        using var document = Parse(file, "tokens");
        var tokens = document.RootElement.GetProperty("tokens");
        if (tokens.ValueKind != JsonValueKind.Array)
            throw Bad(file, "tokens", "must be an array of speech token ids");
        int vocab = config.Flow.VocabSize, i = 0;
        var ids = new int[tokens.GetArrayLength()];
        if (ids.Length == 0)
            throw Bad(file, "tokens", "is empty; give at least one speech token");
        foreach (var item in tokens.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out ids[i]))
                throw Bad(file, $"tokens[{i}]", "must be an integer");
            if (ids[i] < 0 || ids[i] >= vocab)
                throw Bad(file, $"tokens[{i}]", $"is {ids[i]}, outside the speech tokens 0…{vocab - 1} (speech_decoder.flow.vocab_size {vocab})");
            i++;
        }
        return ids;
    }

    /// <summary>The hidden rows, flattened row-major, and their count.</summary>
    public static (float[] Values, int Rows) ReadHidden(FileInfo file, SpeechDecoderConfig config)
    {
        using var document = Parse(file, "hidden");
        var hidden = document.RootElement.GetProperty("hidden");
        if (hidden.ValueKind != JsonValueKind.Array)
            throw Bad(file, "hidden", "must be an array of rows");
        int width = config.GeneratorProj.InputSize, rows = hidden.GetArrayLength();
        if (rows == 0)
            throw Bad(file, "hidden", "is empty; give at least one hidden row");
        var values = new float[checked(rows * width)];
        int r = 0;
        foreach (var row in hidden.EnumerateArray())
        {
            if (row.ValueKind != JsonValueKind.Array)
                throw Bad(file, $"hidden[{r}]", $"must be an array of {width} numbers");
            if (row.GetArrayLength() != width)
                throw Bad(file, $"hidden[{r}]", $"has {row.GetArrayLength()} values; generator_proj.input_size is {width}");
            int c = 0;
            foreach (var item in row.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Number || !item.TryGetSingle(out float value) || !float.IsFinite(value))
                    throw Bad(file, $"hidden[{r}][{c}]", $"must be a finite number, got {item.GetRawText()}");
                values[r * width + c++] = value;
            }
            r++;
        }
        return (values, rows);
    }

    private static JsonDocument Parse(FileInfo file, string key)
    {
        var bytes = ModelFile.ReadAll(file.FullName, MaxBytes, problem => new InputFileException($"{file.Name}: {problem}"));
        var document = JsonFiles.Parse(bytes, problem => new InputFileException($"{file.Name}: {problem}"));
        try
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new InputFileException($"{file.Name}: must be a JSON object {{\"{key}\": [...]}}");
            foreach (var property in root.EnumerateObject())
            {
                if (property.Name != key)
                    throw Bad(file, property.Name, $"is not a known key (the file holds only \"{key}\")");
            }
            if (!root.TryGetProperty(key, out _))
                throw new InputFileException($"{file.Name}: has no \"{key}\"");
        }
        catch
        {
            document.Dispose();
            throw;
        }
        return document;
    }

    private static InputFileException Bad(FileInfo file, string field, string problem) => new($"{file.Name}: {field} {problem}");
}
