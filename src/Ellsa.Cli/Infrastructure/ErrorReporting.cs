using Ellsa.Runtime.Backends;
using Ellsa.Runtime.Checkpoints;
using Ellsa.Runtime.Codecs.Fast;
using Ellsa.Runtime.Codecs.Text;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Codecs.Vision;
using Ellsa.Runtime.Decoding;

namespace Ellsa.Cli.Infrastructure;

/// <summary>
/// Turns exceptions into the CLI's error contract: one line on stderr naming the file, tensor or
/// field, and a non-zero exit code — never a stack trace, unless ELLSA_DEBUG=1 asks for one.
/// </summary>
public static class ErrorReporting
{
    public const int InputError = 1;
    public const int UsageError = 2;
    public const int InternalError = 3;

    public static int Run(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (Classify(e) is { } code)
        {
            Console.Error.WriteLine($"error: {Unwrap(e).Message}");
            if (Environment.GetEnvironmentVariable("ELLSA_DEBUG") == "1")
                Console.Error.WriteLine(e);
            return code;
        }
    }

    private static int? Classify(Exception e) => Unwrap(e) switch
    {
        UserError or BackendUnavailableException => UsageError,
        CheckpointException or ConfigException or InputFileException or FastCodecException or TokenizerException
            or ImageFileException
            or NotSupportedException or ArgumentException or IOException or InvalidDataException
            or UnauthorizedAccessException or InvalidOperationException or OutOfMemoryException => InputError,
        _ => InternalError,
    };

    private static Exception Unwrap(Exception e)
    {
        while (e is AggregateException { InnerExceptions.Count: 1 } aggregate)
            e = aggregate.InnerExceptions[0];
        return e;
    }
}
