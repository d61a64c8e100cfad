namespace Ellsa.Kernels.Gpu;

/// <summary>
/// How a prefill matrix product treats the fp32 activations on the bf16 tensor cores.
/// <para>Exact (default): each activation is split into two bf16 terms, hi = bf16(x) and
/// lo = bf16(x − hi), and both are multiplied (two MMAs). hi + lo carries 16 significant bits,
/// so the product is within a few fp32 ulps of an fp32 GEMM and the 1e-3 logits parity target
/// against a float64 reference holds with margin.</para>
/// <para>Fast: activations are rounded to bf16 once, as the authors' bf16 stack does. Half the
/// tensor-core work; logits then drift by bf16 rounding (~1e-3 relative), so it is a benchmark
/// choice, not the default.</para>
/// </summary>
public enum GemmPrecision
{
    Exact,
    Fast,
}

/// <summary>Tuning and debugging switches of <see cref="IlgpuBackend"/>.</summary>
public sealed record IlgpuOptions
{
    public GemmPrecision Precision { get; init; } = GemmPrecision.Exact;

    /// <summary>
    /// Store K and V as bf16 (half the cache bytes a decode step reads). Off by default: the
    /// parity target is met with fp32 keys and values.
    /// </summary>
    public bool Bf16KvCache { get; init; }

    /// <summary>Use the inline-PTX tensor-core kernels when the device is CUDA (otherwise the plain kernels).</summary>
    public bool TensorCores { get; init; } = true;

    /// <summary>
    /// Wait for the device after every operation so that an asynchronous failure is reported by
    /// the operation that caused it (slow; for debugging). Also set by ELLSA_GPU_SYNC=1.
    /// </summary>
    public bool SynchronizeEveryOperation { get; init; } = Environment.GetEnvironmentVariable("ELLSA_GPU_SYNC") == "1";

    /// <summary>
    /// On the CPU simulator, run prefill projections through the tensor-core GEMM with its C#
    /// model of ldmatrix/mma (<see cref="Kernels.EmulatedMmaCore"/>) instead of the plain GEMM:
    /// slow, for tests of the tensor-core path without a GPU.
    /// </summary>
    public bool EmulateTensorCores { get; init; }

    /// <summary>
    /// On the CPU simulator, reduce with warp shuffles (as on CUDA) instead of the simulator's
    /// cheaper shared-memory exchange (see <see cref="Kernels.WarpReducer"/>). The kernel checks
    /// run both; a shuffle costs ~0.4 ms on the simulator, so the model runs the exchange.
    /// </summary>
    public bool SimulatorShuffles { get; init; }

    /// <summary>Merge RMSNorm into the matrix-vector product that consumes it, and RoPE into the KV write.</summary>
    public bool FuseOperations { get; init; } = true;

    public static IlgpuOptions Default { get; } = new();
}
