using System.Text;

namespace Ellsa.Kernels.PtxText;

/// <summary>
/// PTX text, one statement per line, each ending in '\n'. The helpers keep the exact spelling of
/// the hand-written fragments they replaced (ldmatrix lists registers with ", ", mma with ","),
/// so that the kernels' PTX stayed byte for byte the same and any change to it is deliberate.
/// </summary>
internal sealed class Ptx
{
    private readonly StringBuilder _text = new();

    public Ptx Line(string statement)
    {
        _text.Append(statement).Append('\n');
        return this;
    }

    public override string ToString() => _text.ToString();

    /// <summary>
    /// Opens a scope whose u32 registers hold shared-memory addresses: inline-PTX operand %i (a
    /// byte offset from C#) plus the base of ILGPU's dynamic shared-memory symbol, into
    /// <paramref name="registers"/>[i]. The scope is closed with <c>Line("}")</c>.
    /// </summary>
    public static Ptx SharedAddresses(params string[] registers)
    {
        var ptx = new Ptx()
            .Line("{")
            .Line(".reg .u64 eT64;")
            .Line(".reg .u32 eBase, " + string.Join(", ", registers) + ";")
            .Line("mov.u64 eT64, __dyn_shared_alloca;")
            .Line("cvt.u32.u64 eBase, eT64;");
        for (int i = 0; i < registers.Length; i++)
            ptx.Line($"add.u32 {registers[i]}, eBase, %{i};");
        return ptx;
    }

    /// <summary>
    /// One 16-byte cp.async global → shared: %0 the shared byte offset, %1 the global address,
    /// %2 the bytes to read (0 zero-fills the chunk).
    /// </summary>
    public static string CopyChunk { get; } = new Ptx()
        .Line("{")
        .Line(".reg .u64 eT64, eSrc;")
        .Line(".reg .u32 eBase, eDst;")
        .Line("mov.u64 eT64, __dyn_shared_alloca;")
        .Line("cvt.u32.u64 eBase, eT64;")
        .Line("add.u32 eDst, eBase, %0;")
        .Line("cvta.to.global.u64 eSrc, %1;")
        .Line("cp.async.cg.shared.global [eDst], [eSrc], 16, %2;")
        .Line("}")
        .ToString();

    /// <summary><c>mov.f32 r, 0</c> for registers <paramref name="name"/>0 … <paramref name="name"/>(count−1).</summary>
    public static string Zero(string name, int count)
    {
        var ptx = new Ptx();
        for (int i = 0; i < count; i++)
            ptx.Line($"mov.f32 {name}{i}, 0f00000000;");
        return ptx.ToString();
    }

    /// <summary>The four destination registers of an <c>ldmatrix.x4</c>: <c>{name[first], …, name[first+3]}</c>.</summary>
    public static string Quad(string name, int first) => "{" + Names(name, first, 4, ", ") + "}";

    /// <summary>An mma operand of <paramref name="count"/> consecutive registers: <c>{name[first],…}</c>.</summary>
    public static string Operand(string name, int first, int count) => "{" + Names(name, first, count, ",") + "}";

    /// <summary><c>[register]</c>, or <c>[register+offset]</c>: a shared address plus a byte offset.</summary>
    public static string At(string register, int offset) => offset == 0 ? $"[{register}]" : $"[{register}+{offset}]";

    public static string LoadMatrix(string quad, string address) =>
        $"ldmatrix.sync.aligned.m8n8.x4.shared.b16 {quad}, {address};";

    public static string LoadMatrixTransposed(string quad, string address) =>
        $"ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {quad}, {address};";

    /// <summary>D += A·B on one m16n8k16 tile, bf16 operands and fp32 accumulators (four of them, D = C).</summary>
    public static string Mma(string accumulators, string a, string b) =>
        $"mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {accumulators}, {a}, {b}, {accumulators};";

    /// <summary>
    /// Stores <paramref name="tiles"/> n8 accumulator tiles (registers <paramref name="name"/>[first…])
    /// to shared memory at <paramref name="address"/>, which C# has already set to this lane's
    /// row g, column 2t. C/D layout of mma.m16n8k16: c0, c1 at row g, columns 2t, 2t+1; c2, c3
    /// eight rows further (<paramref name="eightRowsBytes"/>); tile n starts 8n floats to the right.
    /// </summary>
    public static void StoreAccumulators(Ptx ptx, string address, string name, int first, int tiles, int eightRowsBytes)
    {
        for (int n = 0; n < tiles; n++)
        {
            int column = 32 * n;
            int r = first + 4 * n;
            ptx.Line($"st.shared.f32 {At(address, column)}, {name}{r};")
               .Line($"st.shared.f32 {At(address, column + 4)}, {name}{r + 1};")
               .Line($"st.shared.f32 {At(address, eightRowsBytes + column)}, {name}{r + 2};")
               .Line($"st.shared.f32 {At(address, eightRowsBytes + column + 4)}, {name}{r + 3};");
        }
    }

    private static string Names(string name, int first, int count, string separator)
    {
        var names = new string[count];
        for (int i = 0; i < count; i++)
            names[i] = name + (first + i);
        return string.Join(separator, names);
    }
}
