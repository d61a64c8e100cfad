namespace Ellsa.Cli.Infrastructure;

/// <summary>Bad input from the user (a flag, a file); printed as one line, exit code 2.</summary>
public sealed class UserError(string message) : Exception(message);
