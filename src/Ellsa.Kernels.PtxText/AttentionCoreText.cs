namespace Ellsa.Kernels.PtxText;

/// <summary>
/// The PTX of <c>PtxAttentionCore</c>, the tensor-core core of <c>FlashAttentionKernels.Flash</c>
/// (head dimension 128, a warp owns 16 query vectors, 32-key tiles). Fragment layouts as in
/// <see cref="MmaCoreText"/>.
/// <para>Registers: <c>es</c> the S = Q·Kᵀ accumulators (4 key tiles of n8); <c>eo</c> the
/// O accumulators (16 dimension tiles of n8, tile n at 4n); <c>qh</c>/<c>ql</c> the Q fragments
/// of all 8 k16 steps (loaded once per block, step s at 4s); <c>kh</c>/<c>kl</c> one k16 step of
/// K for all 4 key tiles; <c>ph</c>/<c>pl</c> the two k16 steps of P; <c>vh</c>/<c>vl</c> one
/// k16 step of V for a pair of dimension tiles. h is the bf16 hi plane, l the lo plane.</para>
/// </summary>
internal static class AttentionCoreText
{
    /// <summary>The Q, K and V tiles have 256-byte rows (128 bf16): 16 rows span 4096 bytes.</summary>
    private const int SixteenRows = 4096;

    /// <summary>Lo planes follow hi planes: Q tiles are 64 rows, K and V tiles 32 rows, P tiles 16 rows of 64 bytes.</summary>
    private const int QueryLowPlane = 16384, KeyValueLowPlane = 8192, ProbabilityLowPlane = 1024;

    /// <summary>Staging rows: S has 40 floats a row (32 keys and padding), O 136 (128 dimensions and padding).</summary>
    private const int EightScoreRows = 8 * 40 * 4, EightOutputRows = 8 * 136 * 4;

    public static string Source()
    {
        var core = new CoreSource("PtxAttentionCore");
        core.Const("Declare", new Ptx()
            .Line(".reg .f32 es<16>;")
            .Line(".reg .f32 eo<64>;")
            .Line(".reg .b32 qh<32>;")
            .Line(".reg .b32 ql<32>;")
            .Line(".reg .b32 kh<8>;")
            .Line(".reg .b32 kl<8>;")
            .Line(".reg .b32 ph<8>;")
            .Line(".reg .b32 pl<8>;")
            .Line(".reg .b32 vh<4>;")
            .Line(".reg .b32 vl<4>;")
            .ToString());
        core.Const("ZeroOutput", Ptx.Zero("eo", 64));
        core.Const("ClearScores", Ptx.Zero("es", 16));
        core.Const("CopyChunk", Ptx.CopyChunk);
        core.Const("StoreScoreTile", Store("eS", "es", 4, EightScoreRows));
        core.Const("Scale", Scale());
        core.Const("ProbabilitiesFast", Probabilities(exact: false));
        core.Const("ProbabilitiesExact", Probabilities(exact: true));
        core.Const("StoreOutputTile", Store("eO", "eo", 16, EightOutputRows));
        core.IndexedByMode("public void LoadQuery(int step, uint address, bool exact)", "step", 8, "Query", "address", Query);
        core.IndexedByMode("public void Scores(int step, uint keyAddress, bool exact)", "step", 8, "Scores", "keyAddress", Scores);
        core.IndexedByMode("public void Values(int step, int pair, uint valueAddress, bool exact)", "index", 16, "Values", "valueAddress",
            (index, exact) => Values(index / 8, index % 8, exact), prologue: "int index = step * 8 + pair;");
        return core.ToString();
    }

    /// <summary>The A fragments of Q for k16 step <paramref name="step"/>, from the lane's row address %0.</summary>
    private static string Query(int step, bool exact)
    {
        var ptx = Ptx.SharedAddresses("eA");
        ptx.Line(Ptx.LoadMatrix(Ptx.Quad("qh", 4 * step), "[eA]"));
        if (exact)
            ptx.Line(Ptx.LoadMatrix(Ptx.Quad("ql", 4 * step), Ptx.At("eA", QueryLowPlane)));
        return ptx.Line("}").ToString();
    }

    /// <summary>
    /// S += Q·Kᵀ for k16 step <paramref name="step"/>: the K fragments of the 32 keys (two
    /// ldmatrix.x4 of 16 keys each, %0 the lane's key row address), then one product per 8-key tile.
    /// </summary>
    private static string Scores(int step, bool exact)
    {
        var ptx = Ptx.SharedAddresses("eK");
        ptx.Line(Ptx.LoadMatrix(Ptx.Quad("kh", 0), "[eK]"))
           .Line(Ptx.LoadMatrix(Ptx.Quad("kh", 4), Ptx.At("eK", SixteenRows)));
        if (exact)
        {
            ptx.Line(Ptx.LoadMatrix(Ptx.Quad("kl", 0), Ptx.At("eK", KeyValueLowPlane)))
               .Line(Ptx.LoadMatrix(Ptx.Quad("kl", 4), Ptx.At("eK", KeyValueLowPlane + SixteenRows)));
        }
        ptx.Line("}");
        for (int n = 0; n < 4; n++)
            Product(ptx, Ptx.Operand("es", 4 * n, 4), "q", 4 * step, "k", 2 * n, exact);
        return ptx.ToString();
    }

    /// <summary>P for both k16 steps of the 32-key tile: %0 and %1 the lane's rows in the two steps.</summary>
    private static string Probabilities(bool exact)
    {
        var ptx = Ptx.SharedAddresses("eP0", "eP1");
        ptx.Line(Ptx.LoadMatrix(Ptx.Quad("ph", 0), "[eP0]"))
           .Line(Ptx.LoadMatrix(Ptx.Quad("ph", 4), "[eP1]"));
        if (exact)
        {
            ptx.Line(Ptx.LoadMatrix(Ptx.Quad("pl", 0), Ptx.At("eP0", ProbabilityLowPlane)))
               .Line(Ptx.LoadMatrix(Ptx.Quad("pl", 4), Ptx.At("eP1", ProbabilityLowPlane)));
        }
        return ptx.Line("}").ToString();
    }

    /// <summary>
    /// O += P·V for k16 step <paramref name="step"/> and dimension tiles 2·pair and 2·pair+1: V is
    /// the B operand, so ldmatrix.trans of its [key][dim] rows (%0) gives the column fragments.
    /// </summary>
    private static string Values(int step, int pair, bool exact)
    {
        var ptx = Ptx.SharedAddresses("eV");
        ptx.Line(Ptx.LoadMatrixTransposed(Ptx.Quad("vh", 0), "[eV]"));
        if (exact)
            ptx.Line(Ptx.LoadMatrixTransposed(Ptx.Quad("vl", 0), Ptx.At("eV", KeyValueLowPlane)));
        ptx.Line("}");
        for (int half = 0; half < 2; half++)
            Product(ptx, Ptx.Operand("eo", 8 * pair + 4 * half, 4), "p", 4 * step, "v", 2 * half, exact);
        return ptx.ToString();
    }

    /// <summary>
    /// D += A·B for fragments <paramref name="a"/>h/l[aFirst…] and <paramref name="b"/>h/l[bFirst…];
    /// exact mode adds hi·lo and lo·hi, which makes the product ≈fp32.
    /// </summary>
    private static void Product(Ptx ptx, string accumulators, string a, int aFirst, string b, int bFirst, bool exact)
    {
        ptx.Line(Ptx.Mma(accumulators, Ptx.Operand(a + "h", aFirst, 4), Ptx.Operand(b + "h", bFirst, 2)));
        if (exact)
        {
            ptx.Line(Ptx.Mma(accumulators, Ptx.Operand(a + "h", aFirst, 4), Ptx.Operand(b + "l", bFirst, 2)))
               .Line(Ptx.Mma(accumulators, Ptx.Operand(a + "l", aFirst, 4), Ptx.Operand(b + "h", bFirst, 2)));
        }
    }

    /// <summary>O rows g and g+8 times the softmax rescale factors %0 and %1 (c0, c1 are row g; c2, c3 row g+8).</summary>
    private static string Scale()
    {
        var ptx = new Ptx();
        for (int i = 0; i < 64; i++)
            ptx.Line($"mul.f32 eo{i}, eo{i}, %{i / 2 % 2};");
        return ptx.ToString();
    }

    /// <summary>Accumulator tiles to the staging rows at %0.</summary>
    private static string Store(string address, string accumulators, int tiles, int eightRowsBytes)
    {
        var ptx = Ptx.SharedAddresses(address);
        Ptx.StoreAccumulators(ptx, address, accumulators, 0, tiles, eightRowsBytes);
        return ptx.Line("}").ToString();
    }
}
