namespace Ellsa.Tests.Gpu.Checks;

/// <summary>A GPU check found a difference; the message carries the shapes and the seed to replay it.</summary>
public sealed class CheckFailedException(string message) : Exception(message);
