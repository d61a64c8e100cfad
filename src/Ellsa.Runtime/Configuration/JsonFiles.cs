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
        var json = bytes.AsMemory();
        if (json.Span.StartsWith("\uFEFF"u8))
            json = json[3..];
        try
        {
            return JsonDocument.Parse(json, Options);
        }
        catch (JsonException e)
        {
            throw fail($"not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {e.Message.Split(". ")[0]}");
        }
    }
}
