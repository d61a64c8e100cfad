namespace Ellsa.Kernels.Gpu.Kernels;

/// <summary>
/// Sixteen bytes moved as one vector: eight bf16 or four fp32 values. ILGPU has no bf16 type
/// and turns a <c>ushort</c> view into 2-byte loads; a view of this struct compiles to
/// <c>ld.global.v4.b32</c>, the 16-byte load a bandwidth-bound kernel needs.
/// </summary>
public struct U4
{
    public uint X;
    public uint Y;
    public uint Z;
    public uint W;
}

/// <summary>Eight consecutive fp32 values held in registers (never indexed at run time).</summary>
public struct F8
{
    public float A0, A1, A2, A3, A4, A5, A6, A7;
}
