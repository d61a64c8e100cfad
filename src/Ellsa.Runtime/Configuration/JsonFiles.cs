using System.Text.Json;

namespace Ellsa.Runtime.Configuration;

/// <summary>
/// Reads the engine's small JSON inputs (configs, index, sequences, sessions, codec assets) one way:
/// a UTF-8 byte order mark is skipped, comments and trailing commas are tolerated, a repeated key
/// is an error (a second definition must not silently win), and every failure becomes the caller's
/// exception type with a message that says what is wrong with the file.
/// </summary>
public static class JsonFiles
{
    private static readonly JsonDocumentOptions Options = new()
    {
        AllowDuplicateProperties = false,
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <param name="fail">Builds the exception from a problem description ("file not found", "not valid JSON (…)").</param>
    public static JsonDocument Parse(string path, Func<string, Exception> fail)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw fail("file not found");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw fail($"cannot be read: {e.Message}");
        }
        return Parse(bytes, fail);
    }

    /// <summary>A file of the model directory: a regular file of at most <paramref name="maxBytes"/> (see <see cref="ModelFile"/>).</summary>
    public static JsonDocument ParseModelFile(string path, long maxBytes, Func<string, Exception> fail) =>
        Parse(ModelFile.ReadAll(path, maxBytes, fail), fail);

    public static JsonDocument Parse(byte[] bytes, Func<string, Exception> fail)
    {
        var json = bytes.AsMemory();
        if (json.Span.StartsWith("\uFEFF"u8))
            json = json[3..];
        try
        {
            return JsonDocument.Parse(json, Options);
        }
        catch (JsonException e)
        {
            throw fail($"not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {FirstSentence(e.Message)}");
        }
    }

    /// <summary>System.Text.Json's messages run over several sentences and may quote the input; the first sentence says it.</summary>
    public static string FirstSentence(string message)
    {
        string first = message.Split(". ")[0];
        int newline = first.IndexOfAny(['\r', '\n']);
        return newline < 0 ? first : first[..newline];
    }
}
