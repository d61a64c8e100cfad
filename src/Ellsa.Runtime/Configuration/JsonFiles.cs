namespace Ellsa.Runtime.Configuration;

public static class JsonFiles
{
    /// <summary>The file's bytes without a UTF-8 byte order mark, which System.Text.Json refuses and some editors write.</summary>
    public static ReadOnlyMemory<byte> ReadWithoutBom(string path)
    {
        var bytes = File.ReadAllBytes(path);
        return bytes.AsSpan().StartsWith("\uFEFF"u8) ? bytes.AsMemory(3) : bytes;
    }
}
