using System.Text.Json;

namespace Ellsa.Runtime.Codecs.Fast;

/// <summary>Parses a small JSON file, turning I/O and syntax failures into
/// <see cref="FastCodecException"/>s that name the file (and the line for syntax errors).</summary>
internal static class JsonFile
{
    public static JsonDocument Parse(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FastCodecException($"{path}: file not found");
        }
        catch (JsonException e)
        {
            throw new FastCodecException(
                $"{path}: not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {e.Message}", e);
        }
        catch (IOException e)
        {
            throw new FastCodecException($"{path}: cannot be read: {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new FastCodecException($"{path}: cannot be read: {e.Message}", e);
        }
    }
}
