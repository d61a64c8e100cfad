using System.Text.Json;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Moe;

namespace Ellsa.Runtime.Decoding;

/// <summary>A SEQ.json that cannot be read; the message names the file and the field.</summary>
public sealed class InputFileException(string message) : Exception(message);

/// <summary>
/// Reads the CLI's sequence format (00-design.md §6):
/// <c>{"segments": [{"ids": [int, …]}, {"embeddings": [[float × hidden_size], …]}, …]}</c>, concatenated in order.
/// </summary>
public static class SequenceFile
{
    public static TokenBatch Read(string path, int hiddenSize)
    {
        string name = Path.GetFileName(path);
        var document = JsonFiles.Parse(path, problem => new InputFileException($"{name}: {problem}"));
        using (document)
            return Parse(name, document.RootElement, hiddenSize);
    }

    public static TokenBatch Parse(string name, JsonElement root, int hiddenSize)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("segments", out var segments) || segments.ValueKind != JsonValueKind.Array)
            throw new InputFileException($"{name}: expected an object with a \"segments\" array");
        var batch = new TokenBatch();
        int s = 0;
        foreach (var segment in segments.EnumerateArray())
        {
            string where = $"{name}: segments[{s}]";
            if (segment.ValueKind != JsonValueKind.Object)
                throw new InputFileException($"{where} must be an object with \"ids\" or \"embeddings\"");
            bool hasIds = segment.TryGetProperty("ids", out var ids);
            bool hasEmbeddings = segment.TryGetProperty("embeddings", out var embeddings);
            if (hasIds == hasEmbeddings)
                throw new InputFileException($"{where} must have exactly one of \"ids\" and \"embeddings\"");
            foreach (var property in segment.EnumerateObject())
            {
                if (property.Name is not ("ids" or "embeddings"))
                    throw new InputFileException($"{where} has an unknown field \"{property.Name}\"");
            }
            if (hasIds)
                ReadIds(where, ids, batch);
            else
                ReadEmbeddings(where, embeddings, hiddenSize, batch);
            s++;
        }
        if (batch.Count == 0)
            throw new InputFileException($"{name}: the sequence is empty");
        return batch;
    }

    private static void ReadIds(string where, JsonElement ids, TokenBatch batch)
    {
        if (ids.ValueKind != JsonValueKind.Array)
            throw new InputFileException($"{where}.ids must be an array of integers");
        int i = 0;
        foreach (var id in ids.EnumerateArray())
        {
            if (id.ValueKind != JsonValueKind.Number || !id.TryGetInt32(out int value) || value < 0)
                throw new InputFileException($"{where}.ids[{i}] must be a non-negative integer, got {id.GetRawText()}");
            batch.AddId(value);
            i++;
        }
    }

    private static void ReadEmbeddings(string where, JsonElement rows, int hiddenSize, TokenBatch batch)
    {
        if (rows.ValueKind != JsonValueKind.Array)
            throw new InputFileException($"{where}.embeddings must be an array of rows");
        int r = 0;
        foreach (var row in rows.EnumerateArray())
        {
            if (row.ValueKind != JsonValueKind.Array)
                throw new InputFileException($"{where}.embeddings[{r}] must be an array of numbers");
            int length = row.GetArrayLength();
            if (length != hiddenSize)
                throw new InputFileException($"{where}.embeddings[{r}] has {length} values; hidden_size is {hiddenSize}");
            var values = new float[length];
            int c = 0;
            foreach (var value in row.EnumerateArray())
            {
                if (value.ValueKind != JsonValueKind.Number)
                    throw new InputFileException($"{where}.embeddings[{r}][{c}] must be a number, got {value.GetRawText()}");
                values[c] = value.GetSingle();
                if (!float.IsFinite(values[c]))
                    throw new InputFileException($"{where}.embeddings[{r}][{c}] is not a finite float32");
                c++;
            }
            batch.AddEmbedding(values);
            r++;
        }
    }
}
