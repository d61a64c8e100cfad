namespace Ellsa.Cli.Infrastructure;

/// <summary>
/// The <c>--output</c> of a command, opened before any work so that a bad path fails at once.
/// A regular file (or a new one) is written through a temporary sibling unique to this process and
/// renamed over the target on <see cref="Commit"/>, so a failed run leaves nothing half-written and
/// concurrent runs on one output each finish (the last rename wins). A symlink is followed and its
/// target replaced, keeping the link. A device, FIFO or anything under /dev or /proc (<c>/dev/stdout</c>)
/// is written in place, because renaming over it would replace it with a regular file.
/// </summary>
public sealed class OutputFile : IDisposable
{
    private readonly string? _temporary;
    private readonly string _target;
    private bool _committed;

    private OutputFile(string target, string? temporary, Stream stream)
    {
        _target = target;
        _temporary = temporary;
        Stream = stream;
    }

    public Stream Stream { get; }

    /// <param name="input">The command's <c>--input</c>, which the output must not overwrite.</param>
    /// <param name="flag">The option that named the path, for messages (a command may write several outputs).</param>
    public static OutputFile Open(string path, string? input, string flag = "--output")
    {
        string full = Path.GetFullPath(path);
        var kind = FileKinds.Of(full);
        if (kind == FileKind.Directory)
            throw new UserError($"{flag} {path}: is a directory");
        string target = RealPath.Of(full);
        if (input is not null && string.Equals(target, RealPath.Of(Path.GetFullPath(input)), StringComparison.Ordinal))
            throw new UserError($"{flag} {path}: is the same file as --input; writing it would destroy the input");
        if (kind == FileKind.Special || IsSystemPath(full))
            return new OutputFile(full, null, Open(flag, path, () => new FileStream(full, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1 << 16)));

        string directory = Path.GetDirectoryName(target)!;
        if (!Directory.Exists(directory))
            throw new UserError($"{flag} {path}: directory {directory} does not exist");
        string temporary = $"{target}.{Environment.ProcessId}.{Guid.NewGuid().ToString("N")[..8]}.partial";
        var stream = Open(flag, path, () => new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16));
        return new OutputFile(target, temporary, stream);
    }

    private static bool IsSystemPath(string full) => full.StartsWith("/dev/", StringComparison.Ordinal) || full.StartsWith("/proc/", StringComparison.Ordinal);

    private static Stream Open(string flag, string path, Func<Stream> open)
    {
        try
        {
            return open();
        }
        catch (UnauthorizedAccessException)
        {
            throw new UserError($"{flag} {path}: not writable (permission denied)");
        }
        catch (IOException e)
        {
            throw new UserError($"{flag} {path}: cannot be written: {e.Message}");
        }
    }

    /// <summary>Puts the finished output in place; without it, <see cref="Dispose"/> discards a temporary.</summary>
    public void Commit()
    {
        Stream.Flush();
        Stream.Dispose();
        if (_temporary is not null)
            File.Move(_temporary, _target, overwrite: true);
        _committed = true;
    }

    public void Dispose()
    {
        Stream.Dispose();
        if (!_committed)
            Discard();
    }

    /// <summary>Removes the temporary, also from another thread while the command is being terminated.</summary>
    public void Discard()
    {
        if (_temporary is not null)
            File.Delete(_temporary);
    }

    /// <summary>Where the output ends up, for messages.</summary>
    public string Target => _target;

    /// <summary>Writes the whole output through <paramref name="write"/> and commits it.</summary>
    public static void Write(string path, string? input, Action<Stream> write)
    {
        using var output = Open(path, input);
        write(output.Stream);
        output.Commit();
    }
}

/// <summary>A path with every symlink along it resolved, also when its last part does not exist yet.</summary>
public static class RealPath
{
    private const int MaxLinks = 40;

    public static string Of(string fullPath) => Resolve(fullPath, 0);

    private static string Resolve(string fullPath, int links)
    {
        string root = Path.GetPathRoot(fullPath)!;
        string current = root;
        foreach (string part in fullPath[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            string next = Path.Combine(current, part);
            string? target = LinkTarget(next);
            if (target is not null && links < MaxLinks)
                next = Resolve(Path.GetFullPath(target, current), links + 1);
            current = next;
        }
        return current;
    }

    private static string? LinkTarget(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
