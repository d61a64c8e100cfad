using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Ellsa.Runtime.Codecs.Fast;

/// <summary>
/// Compact JSON for the command line (<c>ellsa fast decode|encode</c>):
/// decode writes <c>{"normalized": T×D, "actions": T×D (only with norm stats), "problems": […]}</c>,
/// encode writes <c>{"ids": […]}</c>; the readers take a T×D action array or an id list and name
/// the file, row and column of anything wrong.
/// </summary>
public static class FastJson
{
    public static string Decode(FastActionCodec codec, ReadOnlySpan<int> fastIds)
    {
        var result = codec.Decode(fastIds);
        return Write(writer => WriteDecodeResult(writer, result));
    }

    public static void WriteDecodeResult(Utf8JsonWriter writer, FastDecodeResult result)
    {
        writer.WriteStartObject();
        writer.WritePropertyName("normalized");
        WriteMatrix(writer, result.Normalized);
        if (result.Actions is not null)
        {
            writer.WritePropertyName("actions");
            WriteMatrix(writer, result.Actions);
        }
        writer.WriteStartArray("problems");
        foreach (var problem in result.Problems)
        {
            writer.WriteStringValue(problem);
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    public static string Encode(FastActionCodec codec, float[,] normalized) =>
        Write(writer => WriteIds(writer, codec.Encode(normalized)));

    public static string EncodeEnvActions(FastActionCodec codec, float[,] envActions) =>
        Write(writer => WriteIds(writer, codec.EncodeEnvActions(envActions)));

    public static void WriteIds(Utf8JsonWriter writer, ReadOnlySpan<int> ids)
    {
        writer.WriteStartObject();
        writer.WriteStartArray("ids");
        foreach (int id in ids)
        {
            writer.WriteNumberValue(id);
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>Reads a [rows][columns] array of numbers from a file: the whole document, or
    /// the member <paramref name="property"/> of a top-level object (e.g. "normalized" or
    /// "actions" of a decode output).</summary>
    /// <exception cref="FastCodecException">Names the file and the row/column (counting from 0).</exception>
    public static float[,] ReadActions(string path, int rows, int columns, string? property = null)
    {
        using var document = JsonFile.Parse(path);
        return ParseActions(document.RootElement, path, rows, columns, property);
    }

    /// <summary>As <see cref="ReadActions"/>, from JSON text; <paramref name="source"/> names it in errors.</summary>
    public static float[,] ParseActions(string json, string source, int rows, int columns, string? property = null)
    {
        using var document = ParseText(json, source);
        return ParseActions(document.RootElement, source, rows, columns, property);
    }

    /// <summary>Reads FAST ids from a file: a JSON array of integers or <c>{"ids": […]}</c>.</summary>
    public static int[] ReadIds(string path)
    {
        using var document = JsonFile.Parse(path);
        return ParseIds(document.RootElement, path);
    }

    public static int[] ParseIds(string json, string source)
    {
        using var document = ParseText(json, source);
        return ParseIds(document.RootElement, source);
    }

    private static float[,] ParseActions(JsonElement root, string source, int rows, int columns, string? property)
    {
        string shape = $"{rows} rows of {columns} numbers";
        var array = root;
        if (property is not null)
        {
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty(property, out array))
            {
                throw new FastCodecException($"{source}: no \"{property}\" member (expected an object holding {shape})");
            }
        }
        string where = property is null ? source : $"{source}: {property}";
        if (array.ValueKind != JsonValueKind.Array)
        {
            throw new FastCodecException($"{where}: expected an array of {shape}, found {Kind(array)}");
        }
        if (array.GetArrayLength() != rows)
        {
            throw new FastCodecException($"{where}: has {array.GetArrayLength()} rows, expected {rows} (rows of {columns} numbers)");
        }
        var result = new float[rows, columns];
        int t = 0;
        foreach (var row in array.EnumerateArray())
        {
            if (row.ValueKind != JsonValueKind.Array || row.GetArrayLength() != columns)
            {
                string found = row.ValueKind == JsonValueKind.Array ? $"{row.GetArrayLength()} values" : Kind(row);
                throw new FastCodecException($"{where}: row {t} (counting from 0): expected {columns} numbers, found {found}");
            }
            int d = 0;
            foreach (var value in row.EnumerateArray())
            {
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double number)
                    || !float.IsFinite((float)number))
                {
                    throw new FastCodecException(
                        $"{where}: row {t}, column {d} (counting from 0): expected a finite number, found {value.GetRawText()}");
                }
                result[t, d++] = (float)number;
            }
            t++;
        }
        return result;
    }

    private static int[] ParseIds(JsonElement root, string source)
    {
        var array = root;
        if (root.ValueKind == JsonValueKind.Object && !root.TryGetProperty("ids", out array))
        {
            throw new FastCodecException($"{source}: no \"ids\" member (expected [id, …] or {{\"ids\": [id, …]}})");
        }
        if (array.ValueKind != JsonValueKind.Array)
        {
            throw new FastCodecException($"{source}: expected an array of integer ids, found {Kind(array)}");
        }
        var ids = new int[array.GetArrayLength()];
        int i = 0;
        foreach (var value in array.EnumerateArray())
        {
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out ids[i]))
            {
                throw new FastCodecException($"{source}: ids[{i}]: expected an integer, found {value.GetRawText()}");
            }
            i++;
        }
        return ids;
    }

    private static JsonDocument ParseText(string json, string source)
    {
        try
        {
            return JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new FastCodecException(
                $"{source}: not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {e.Message}", e);
        }
    }

    private static string Kind(JsonElement e) => e.ValueKind.ToString().ToLowerInvariant();

    /// <summary>A [rows][columns] matrix as nested arrays.</summary>
    public static void WriteMatrix(Utf8JsonWriter writer, float[,] matrix)
    {
        writer.WriteStartArray();
        for (int t = 0; t < matrix.GetLength(0); t++)
        {
            writer.WriteStartArray();
            for (int d = 0; d < matrix.GetLength(1); d++)
            {
                writer.WriteNumberValue(matrix[t, d]);
            }
            writer.WriteEndArray();
        }
        writer.WriteEndArray();
    }

    private static string Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        // Relaxed escaping keeps "×", "±" and "·" in problem messages readable.
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            write(writer);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
