namespace Ellsa.Runtime.Weights;

/// <summary>How far loading has come; reported after each tensor.</summary>
public readonly record struct LoadProgress(long BytesDone, long BytesTotal, int TensorsDone, int TensorsTotal, TimeSpan Elapsed, string Current)
{
    public TimeSpan? Remaining => BytesDone <= 0 || BytesDone >= BytesTotal
        ? null
        : TimeSpan.FromSeconds(Elapsed.TotalSeconds * (BytesTotal - BytesDone) / BytesDone);
}
