using System.Text.Json;
using Ellsa.Runtime.Moe;

namespace Ellsa.Runtime.Decoding;

/// <summary>A SEQ.json that cannot be read; the message names the file and the field.</summary>
public sealed class InputFileException(string message) : Exception(message);

/// <summary>
/// Reads the CLI's sequence format (00-design.md §6):
/// <c>{"segments": [{"ids": [int, …]}, {"embeddings": [[float × hidden_size], …]}, …]}</c>, concatenated in order.
/// The file is parsed as it streams: a row of the wrong width fails at that row, and positions past
/// the model's bound are counted, not stored, so a hostile file costs at most its size bound in reading.
/// </summary>
public static class SequenceFile
{
    /// <summary>Bytes one embedding value may take in the file: the longest float32 ("-1.17549435E-38") with separator and indentation.</summary>
    public const int BytesPerValue = 40;

    /// <summary>The largest SEQ.json a valid sequence of <paramref name="maxPositions"/> can need (every position an embedding row), at least 16 MB.</summary>
    public static long MaxBytes(int hiddenSize, int maxPositions) =>
        Math.Max(16L << 20, (long)maxPositions * ((long)hiddenSize * BytesPerValue + 16) + (1 << 20));

    /// <param name="maxPositions">The model's position bound; a longer sequence is refused with its length and the bound.</param>
    public static TokenBatch Read(string path, int hiddenSize, int maxPositions = int.MaxValue)
    {
        using var input = JsonInput.Open(path, MaxBytes(hiddenSize, Math.Min(maxPositions, 1 << 20)));
        var reader = new Reader(hiddenSize, maxPositions);
        var cursor = new JsonCursor(input);
        reader.Root(ref cursor);
        cursor.ExpectEnd();
        if (reader.Positions > maxPositions)
            throw input.Error($"the sequence has {reader.Positions} positions; max_position_embeddings is {maxPositions}");
        if (reader.Batch.Count == 0)
            throw input.Error("the sequence is empty");
        return reader.Batch;
    }

    private sealed class Reader(int hiddenSize, int maxPositions)
    {
        /// <summary>Rows past the position bound are parsed into this, to be counted and dropped.</summary>
        private float[]? _overflowRow;

        public TokenBatch Batch { get; } = new();
        public long Positions { get; private set; }

        public void Root(ref JsonCursor json)
        {
            json.Next();
            if (json.TokenType != JsonTokenType.StartObject)
                throw json.Error("expected an object with a \"segments\" array");
            bool sawSegments = false;
            for (json.Next(); json.TokenType != JsonTokenType.EndObject; json.Next())
            {
                string key = json.GetString();
                json.Next();
                if (key != "segments")
                    throw json.Error($"unknown field \"{key}\" (segments)");
                if (sawSegments)
                    throw json.Error("\"segments\" appears twice");
                sawSegments = true;
                Segments(ref json);
            }
            if (!sawSegments)
                throw json.Error("expected an object with a \"segments\" array");
        }

        private void Segments(ref JsonCursor json)
        {
            if (json.TokenType != JsonTokenType.StartArray)
                throw json.Error("expected an object with a \"segments\" array");
            int s = 0;
            for (json.Next(); json.TokenType != JsonTokenType.EndArray; json.Next(), s++)
                Segment(ref json, $"segments[{s}]");
        }

        private void Segment(ref JsonCursor json, string where)
        {
            if (json.TokenType != JsonTokenType.StartObject)
                throw json.Error($"{where} must be an object with \"ids\" or \"embeddings\"");
            int fields = 0;
            for (json.Next(); json.TokenType != JsonTokenType.EndObject; json.Next())
            {
                string key = json.GetString();
                json.Next();
                if (key is not ("ids" or "embeddings"))
                    throw json.Error($"{where} has an unknown field \"{key}\"");
                if (++fields > 1)
                    throw json.Error($"{where} must have exactly one of \"ids\" and \"embeddings\"");
                if (key == "ids")
                    Ids(ref json, where);
                else
                    Embeddings(ref json, where);
            }
            if (fields == 0)
                throw json.Error($"{where} must have exactly one of \"ids\" and \"embeddings\"");
        }

        private void Ids(ref JsonCursor json, string where)
        {
            if (json.TokenType != JsonTokenType.StartArray)
                throw json.Error($"{where}.ids must be an array of integers");
            int i = 0;
            for (json.Next(); json.TokenType != JsonTokenType.EndArray; json.Next(), i++)
            {
                if (json.TokenType != JsonTokenType.Number || !json.TryGetInt32(out int value) || value < 0)
                    throw json.Error($"{where}.ids[{i}] must be a non-negative integer, got {json.Raw()}");
                if (Positions++ < maxPositions)
                    Batch.AddId(value);
            }
        }

        private void Embeddings(ref JsonCursor json, string where)
        {
            if (json.TokenType != JsonTokenType.StartArray)
                throw json.Error($"{where}.embeddings must be an array of rows");
            int r = 0;
            for (json.Next(); json.TokenType != JsonTokenType.EndArray; json.Next(), r++)
            {
                bool kept = Positions++ < maxPositions;
                var values = kept ? new float[hiddenSize] : (_overflowRow ??= new float[hiddenSize]);
                Row(ref json, $"{where}.embeddings[{r}]", values);
                if (kept)
                    Batch.AddEmbedding(values);
            }
        }

        private void Row(ref JsonCursor json, string where, float[] values)
        {
            if (json.TokenType != JsonTokenType.StartArray)
                throw json.Error($"{where} must be an array of numbers");
            int c = 0;
            for (json.Next(); json.TokenType != JsonTokenType.EndArray; json.Next(), c++)
            {
                if (c == values.Length)
                {
                    json.SkipValue();
                    throw json.Error($"{where} has {c + 1 + Remaining(ref json)} values; hidden_size is {hiddenSize}");
                }
                if (json.TokenType != JsonTokenType.Number)
                    throw json.Error($"{where}[{c}] must be a number, got {json.Raw()}");
                if (!json.TryGetFiniteSingle(out values[c]))
                    throw json.Error($"{where}[{c}] is not a finite float32");
            }
            if (c != values.Length)
                throw json.Error($"{where} has {c} values; hidden_size is {hiddenSize}");
        }

        /// <summary>Counts the rest of an overlong row without keeping it, so the error can say how long it is.</summary>
        private static long Remaining(ref JsonCursor json)
        {
            long count = 0;
            for (json.Next(); json.TokenType != JsonTokenType.EndArray; json.Next())
            {
                json.SkipValue();
                count++;
            }
            return count;
        }
    }
}
