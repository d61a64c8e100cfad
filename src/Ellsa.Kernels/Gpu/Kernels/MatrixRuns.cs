namespace Ellsa.Kernels.Gpu.Kernels;

/// <summary>
/// Where a weight matrix's rows live in its buffer of 16-byte units, as a kernel argument. A
/// matrix is up to four runs of rows, each all-bf16 or all-fp32 (merged LoRA projections are
/// fp32, the rest bf16). Every row is padded to a whole number of 8-element groups, so a group
/// is one 16-byte vector of bf16 or two of fp32 and row starts stay 16-byte aligned whatever K is.
/// </summary>
public struct MatrixRuns
{
    /// <summary>8-element groups per row: ceil(K / 8).</summary>
    public int Groups;
    /// <summary>First row of runs 1, 2, 3 (int.MaxValue when the run does not exist).</summary>
    public int Start1, Start2, Start3;
    /// <summary>Unit offset of each run's first row.</summary>
    public int Offset0, Offset1, Offset2, Offset3;
    /// <summary>Bit r set when run r holds fp32 rows.</summary>
    public int F32Bits;

    /// <summary>Whether <paramref name="row"/> is stored as fp32.</summary>
    public readonly bool IsF32(int row) => ((F32Bits >> RunOf(row)) & 1) != 0;

    /// <summary>The unit offset of <paramref name="row"/>. (No out parameter: ILGPU keeps those in local memory.)</summary>
    public readonly int Locate(int row)
    {
        int run = RunOf(row);
        int start = run == 0 ? 0 : run == 1 ? Start1 : run == 2 ? Start2 : Start3;
        int offset = run == 0 ? Offset0 : run == 1 ? Offset1 : run == 2 ? Offset2 : Offset3;
        bool f32 = ((F32Bits >> run) & 1) != 0;
        return offset + (row - start) * (f32 ? 2 * Groups : Groups);
    }

    private readonly int RunOf(int row) => (row >= Start1 ? 1 : 0) + (row >= Start2 ? 1 : 0) + (row >= Start3 ? 1 : 0);
}
