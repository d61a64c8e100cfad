namespace Ellsa.Runtime.Codecs.Text;

/// <summary>
/// A tokenizer file that cannot be used, or ids that a tokenizer does not know. The message names
/// the file and the JSON field (or the id), so a host can print it alone, without a stack trace.
/// </summary>
public sealed class TokenizerException : Exception
{
    public TokenizerException(string message) : base(message) { }

    public TokenizerException(string message, Exception inner) : base(message, inner) { }
}
