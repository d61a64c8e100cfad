namespace Ellsa.Runtime.Checkpoints;

/// <summary>
/// A checkpoint that cannot be used, described in one line that names the file, the tensor (when
/// there is one) and the rule it breaks.
/// </summary>
public sealed class CheckpointException : Exception
{
    public CheckpointException(string file, string? tensor, string problem)
        : base(Format(file, tensor, problem))
    {
        File = file;
        Tensor = tensor;
        Problem = problem;
    }

    public string File { get; }
    public string? Tensor { get; }
    public string Problem { get; }

    private static string Format(string file, string? tensor, string problem) =>
        tensor is null ? $"{file}: {problem}" : $"{file}: tensor '{tensor}': {problem}";
}
