using Ellsa.Kernels.Backend;

namespace Ellsa.Kernels.Cpu;

/// <summary>
/// A Q8 weight matrix used in place (the loader's quantised buffers or a converted checkpoint's
/// mapped tensors), cut like <see cref="CpuMatrix"/> into row chunks of about 128 KB that never
/// straddle two parts and hold a multiple of 4 rows except at a part's end.
/// </summary>
internal sealed class CpuQ8Matrix : DeviceMatrix
{
    private const int ChunkBytes = 128 * 1024;

    public readonly MatrixPart[] Parts;
    public readonly int[] ChunkPart;
    public readonly int[] ChunkPartRow;
    public readonly int[] ChunkRows;
    public readonly int[] ChunkOutputRow;

    public CpuQ8Matrix(HostMatrix matrix) : base(matrix.Name, matrix.Rows, matrix.Cols, matrix.ByteSize)
    {
        Parts = matrix.Parts.ToArray();
        if (Parts.Any(p => p.Dtype != WeightDtype.Q8))
            throw new ArgumentException($"{matrix.Name}: a Q8 matrix cannot mix Q8 rows with {Parts.First(p => p.Dtype != WeightDtype.Q8).Dtype} rows");
        var part = new List<int>();
        var partRow = new List<int>();
        var rows = new List<int>();
        var outRow = new List<int>();
        int output = 0;
        int perChunk = Math.Max(4, ChunkBytes / Math.Max(1, matrix.Cols) / 4 * 4);
        for (int p = 0; p < Parts.Length; p++)
        {
            for (int r = 0; r < Parts[p].Rows; r += perChunk)
            {
                part.Add(p);
                partRow.Add(r);
                rows.Add(Math.Min(perChunk, Parts[p].Rows - r));
                outRow.Add(output + r);
            }
            output += Parts[p].Rows;
        }
        ChunkPart = part.ToArray();
        ChunkPartRow = partRow.ToArray();
        ChunkRows = rows.ToArray();
        ChunkOutputRow = outRow.ToArray();
    }

    public static bool IsQ8(HostMatrix matrix) => matrix.Parts.Any(p => p.Dtype == WeightDtype.Q8);

    public override void Dispose() { }
}
