using System.Runtime.InteropServices;

namespace Ellsa.Cli.Infrastructure;

public enum FileKind
{
    Missing,
    Regular,
    Directory,
    /// <summary>A device, FIFO or socket: it can be written, never renamed over.</summary>
    Special,
}

/// <summary>What a path names after following symlinks, as stat(2) sees it.</summary>
public static partial class FileKinds
{
    public static FileKind Of(string path)
    {
        if (OperatingSystem.IsWindows())
            return Directory.Exists(path) ? FileKind.Directory : File.Exists(path) ? FileKind.Regular : FileKind.Missing;
        // .NET exposes no file type (a device and an empty file look alike), so ask the runtime's own
        // native shim, whose FileStatus layout (Flags, Mode, …) and S_IF* values are platform-independent.
        Span<byte> status = stackalloc byte[256];
        unsafe
        {
            fixed (byte* pointer = status)
            {
                if (Stat(path, pointer) != 0)
                    return FileKind.Missing;
            }
        }
        int mode = BitConverter.ToInt32(status[4..]) & 0xF000;
        return mode switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            _ => FileKind.Special,
        };
    }

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_Stat", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Stat(string path, byte* status);
}
