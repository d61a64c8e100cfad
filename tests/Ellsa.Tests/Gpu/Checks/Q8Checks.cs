using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Gpu;
using Ellsa.Tests.Support;

namespace Ellsa.Tests.Gpu.Checks;

/// <summary>
/// The GPU's Q8 products against the CPU backend's fp32 product of the same weights dequantised
/// (exact in fp32): the GPU kernel's definition, which keeps the activations fp32 (the CPU's int8
/// path also rounds the activations, so it is not the reference here). Decode row counts, prefill
/// row counts, gate|up with SwiGLU, odd K, several parts, bias and residual add.
/// </summary>
public static class Q8Checks
{
    public static IReadOnlyList<GpuCheck> All { get; } =
    [
        new("matmul.q8.decode", (create, seed) => MatMul(create, seed, 1, 4)),
        new("matmul.q8.prefill", (create, seed) => MatMul(create, seed, 5, 40)),
        new("gate-up-swiglu.q8", GateUpSwiGlu),
    ];

    private static void MatMul(BackendFactory create, int seed, int minRows, int maxRows)
    {
        using var data = new RandomData(seed);
        using var pair = new BackendPair(create(IlgpuOptions.Default), data);
        using var weights = new Q8TestWeights();
        using var dense = new NativeWeights();
        int t = data.Next(minRows, maxRows);
        int k = data.Next(1, 300);
        var parts = Enumerable.Range(0, data.Next(1, 3)).Select(_ => data.Next(1, 120)).ToArray();
        var (gpuWeight, cpuWeight) = Upload(pair, weights, dense, data, parts, k);
        int n = gpuWeight.Rows;
        bool bias = data.Chance(), accumulate = data.Chance();
        var biasVector = bias ? pair.Vector(data.Values(n)) : default;
        // Offset 0 with a width of whole 16-byte units takes the vector loads of x; otherwise scalar loads.
        int inOffset = data.Chance() ? 0 : 1;
        var x = pair.Tensor(t, inOffset == 0 ? (k + 3) / 4 * 4 : k + 1);
        var y = pair.Tensor(t, n + 2);
        var xg = x.Gpu.All.Columns(inOffset, k);
        var xc = x.Cpu.All.Columns(inOffset, k);
        var yg = y.Gpu.All.Columns(2, n);
        var yc = y.Cpu.All.Columns(2, n);
        if (!accumulate)
            pair.Poison(yg);
        pair.Gpu.MatMul(gpuWeight, xg, yg, biasVector.Gpu, accumulate);
        pair.Cpu.MatMul(cpuWeight, xc, yc, biasVector.Cpu, accumulate);
        pair.Compare($"MatMul q8 {t}×{k} · ({n}×{k})ᵀ, bias {bias}, accumulate {accumulate}, input offset {inOffset}", yg, yc, 1e-5);
    }

    private static void GateUpSwiGlu(BackendFactory create, int seed)
    {
        using var data = new RandomData(seed);
        using var pair = new BackendPair(create(IlgpuOptions.Default), data);
        using var weights = new Q8TestWeights();
        using var dense = new NativeWeights();
        foreach (int t in new[] { data.Next(1, 4), data.Next(5, 30) })
        {
            int k = data.Next(1, 200), ff = data.Next(1, 100);
            var (gpuWeight, cpuWeight) = Upload(pair, weights, dense, data, [ff, ff], k);
            var x = pair.Tensor(t, k);
            var y = pair.Tensor(t, ff);
            pair.Poison(y.Gpu.All);
            pair.Gpu.GateUpSwiGlu(gpuWeight, x.Gpu.All, y.Gpu.All);
            pair.Cpu.GateUpSwiGlu(cpuWeight, x.Cpu.All, y.Cpu.All);
            pair.Compare($"GateUpSwiGlu q8 {t}×{k}, ff {ff}", y.Gpu.All, y.Cpu.All, 1e-5);
        }
    }

    /// <summary>The Q8 matrix on the GPU and its dequantised values as an fp32 matrix on the CPU.</summary>
    private static (DeviceMatrix Gpu, DeviceMatrix Cpu) Upload(BackendPair pair, Q8TestWeights weights, NativeWeights dense, RandomData data,
        int[] parts, int k)
    {
        var q8 = weights.Matrix("w.q8", parts, k, data.Random, out var dequantised, out _);
        int next = 0;
        var f32 = new HostMatrix("w.dequantised", [dense.Part(WeightDtype.F32, q8.Rows, k, () => (float)dequantised[next++])]);
        var gpu = pair.Gpu.UploadMatrix(q8);
        var cpu = pair.Cpu.UploadMatrix(f32);
        pair.Keep(gpu);
        pair.Keep(cpu);
        return (gpu, cpu);
    }
}
