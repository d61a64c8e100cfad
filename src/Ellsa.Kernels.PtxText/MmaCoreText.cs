namespace Ellsa.Kernels.PtxText;

/// <summary>
/// The PTX of <c>PtxMmaCore</c>, the tensor-core core of <c>MmaGemmKernels.Gemm</c>: a warp's
/// 64 × 32 tile is 4 m16 tiles × 4 n8 tiles, m16n8k16 bf16 products with fp32 accumulators.
/// <para>Fragment layout (PTX ISA, mma.m16n8k16 .bf16): lane L = 4g + t holds A rows g and g+8,
/// k pairs 2t and 2t+8; B column g, k pairs 2t and 2t+8; C/D rows g and g+8, columns 2t, 2t+1.
/// <c>ldmatrix.x4</c> on the swizzled tiles delivers exactly these fragments.</para>
/// <para>Registers: <c>ea</c> the accumulators, tile (m, n) at 16m + 4n; <c>eh</c>/<c>el</c> the
/// A fragments of the hi/lo operand planes, four per m tile; <c>eb</c> the B fragments, two per
/// n tile.</para>
/// </summary>
internal static class MmaCoreText
{
    /// <summary>Shared tiles have 64-byte rows (32 bf16 of K): 16 rows, one ldmatrix.x4, span 1024 bytes.</summary>
    private const int SixteenRows = 1024;

    /// <summary>In exact mode the A lo tile follows the 128-row A hi tile.</summary>
    private const int LowPlane = 8192;

    /// <summary>The epilogue staging has rows of MmaGemmKernels.StagingRowFloats = 40 floats.</summary>
    private const int EightStagingRows = 8 * 40 * 4;

    public static string Source()
    {
        var core = new CoreSource("PtxMmaCore");
        core.Const("Declare", new Ptx()
            .Line(".reg .f32 ea<64>;")
            .Line(".reg .b32 eh<16>;")
            .Line(".reg .b32 el<16>;")
            .Line(".reg .b32 eb<8>;")
            .ToString());
        core.Const("Zero", Ptx.Zero("ea", 64));
        core.Const("CopyChunk", Ptx.CopyChunk);
        core.Const("LoadFast", Load(exact: false));
        core.Const("LoadExact", Load(exact: true));
        core.Const("MultiplyHi", Multiply("eh"));
        core.Const("MultiplyLo", Multiply("el"));
        core.Indexed("public void StoreTile(int mTile, uint stagingOffset)", "mTile", 4, "Store", "stagingOffset", Store);
        return core.ToString();
    }

    /// <summary>One k16 step's fragments: %0 the warp's A rows (4 m tiles), %1 its B rows (4 n tiles, two per ldmatrix).</summary>
    private static string Load(bool exact)
    {
        var ptx = Ptx.SharedAddresses("eA", "eB");
        for (int m = 0; m < 4; m++)
            ptx.Line(Ptx.LoadMatrix(Ptx.Quad("eh", 4 * m), Ptx.At("eA", m * SixteenRows)));
        if (exact)
        {
            for (int m = 0; m < 4; m++)
                ptx.Line(Ptx.LoadMatrix(Ptx.Quad("el", 4 * m), Ptx.At("eA", LowPlane + m * SixteenRows)));
        }
        for (int n = 0; n < 2; n++)
            ptx.Line(Ptx.LoadMatrix(Ptx.Quad("eb", 4 * n), Ptx.At("eB", n * SixteenRows)));
        return ptx.Line("}").ToString();
    }

    /// <summary>All 16 tile products of one k16 step with the A fragments <paramref name="a"/> (hi or lo).</summary>
    private static string Multiply(string a)
    {
        var ptx = new Ptx();
        for (int m = 0; m < 4; m++)
        {
            for (int n = 0; n < 4; n++)
                ptx.Line(Ptx.Mma(Ptx.Operand("ea", 16 * m + 4 * n, 4), Ptx.Operand(a, 4 * m, 4), Ptx.Operand("eb", 2 * n, 2)));
        }
        return ptx.ToString();
    }

    /// <summary>The four n8 tiles of m tile <paramref name="m"/> to the staging rows at %0.</summary>
    private static string Store(int m)
    {
        var ptx = new Ptx()
            .Line("{")
            .Line(".reg .u64 eT64;")
            .Line(".reg .u32 eS;")
            .Line("mov.u64 eT64, __dyn_shared_alloca;")
            .Line("cvt.u32.u64 eS, eT64;")
            .Line("add.u32 eS, eS, %0;");
        Ptx.StoreAccumulators(ptx, "eS", "ea", 16 * m, 4, EightStagingRows);
        return ptx.Line("}").ToString();
    }
}
