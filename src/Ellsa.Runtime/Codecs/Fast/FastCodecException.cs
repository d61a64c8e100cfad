namespace Ellsa.Runtime.Codecs.Fast;

/// <summary>
/// Unusable FAST assets or input: a missing or malformed processor_config.json or norm-stats file
/// (named with the field or key), or actions that cannot be encoded (named by row and column).
/// Malformed ids are not an exception: <see cref="FastActionCodec.Decode"/> reports them and
/// returns the safe chunk.
/// </summary>
public sealed class FastCodecException : Exception
{
    public FastCodecException(string message) : base(message) { }

    public FastCodecException(string message, Exception inner) : base(message, inner) { }
}
