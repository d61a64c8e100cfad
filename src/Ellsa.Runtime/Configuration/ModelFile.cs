namespace Ellsa.Runtime.Configuration;

/// <summary>
/// Reads a file of a model directory (a config, a tokenizer, codec assets) with a size cap and
/// only when it is a regular file. A device (<c>/dev/zero</c>) or a pipe reports length 0 and
/// then never ends, so the reader trusts the reported length, reads exactly that much and
/// refuses a file that yields one byte more: nothing is ever sized from what the file streams.
/// </summary>
public static class ModelFile
{
    /// <summary>Configs, settings, processor configs and norm stats: a few KB in every release.</summary>
    public const long MaxSettingsBytes = 16L << 20;

    /// <summary>tokenizer.json: Llama-3's is 9 MB, the largest common ones about 35 MB.</summary>
    public const long MaxTokenizerBytes = 64L << 20;

    /// <param name="fail">Builds the caller's exception from a problem ("file not found", "is 2 GB, …").</param>
    public static byte[] ReadAll(string path, long maxBytes, Func<string, Exception> fail)
    {
        if (Directory.Exists(path))
            throw fail("is a directory, not a file");
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw fail("file not found");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw fail($"cannot be read: {e.Message}");
        }
        using (stream)
        {
            long length = stream.Length;
            if (length > maxBytes)
                throw fail($"is {length} bytes, more than the {maxBytes} bytes such a file may have");
            var bytes = new byte[length];
            try
            {
                stream.ReadExactly(bytes);
                if (stream.Read(new byte[1]) != 0)
                    throw fail("is not a regular file (it yields more bytes than its size, as a device or pipe does)");
            }
            catch (EndOfStreamException)
            {
                throw fail("changed while it was read");
            }
            catch (IOException e)
            {
                throw fail($"cannot be read: {e.Message}");
            }
            return bytes;
        }
    }
}
