namespace Ellsa.Kernels.Gpu;

/// <summary>
/// A device operation failed: no device, out of memory, a failed compile or launch. The message
/// names the operation and its sizes on one line, because the CLI prints exception messages as
/// one line and a bare driver code ("CUDA_ERROR_ILLEGAL_ADDRESS") says nothing about where.
/// </summary>
public sealed class GpuBackendException : Exception
{
    public GpuBackendException(string operation, string sizes, string device, Exception inner)
        : base($"{operation} ({sizes}) failed on {device}: {OneLine(inner)}", inner)
    {
        Operation = operation;
        Sizes = sizes;
    }

    public GpuBackendException(string message) : base(message)
    {
        Operation = "";
        Sizes = "";
    }

    public string Operation { get; }
    public string Sizes { get; }

    private static string OneLine(Exception e)
    {
        // ILGPU wraps driver errors (AggregateException, InternalCompilerException): the innermost message is the informative one.
        var messages = new List<string>();
        for (var current = e; current is not null; current = current.InnerException)
        {
            string text = current.Message.ReplaceLineEndings(" ").Trim();
            if (text.Length > 0 && !messages.Contains(text))
                messages.Add(text);
        }
        return string.Join(" <- ", messages);
    }
}
