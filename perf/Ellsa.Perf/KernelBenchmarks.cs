using BenchmarkDotNet.Attributes;
using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Cpu;
using Ellsa.Runtime.Moe;

namespace Ellsa.Perf;

/// <summary>
/// CPU kernels at bench-model sizes. The memory diagnoser must report 0 B allocated: these are
/// the operations a decode step is made of.
/// </summary>
[MemoryDiagnoser]
[WarmupCount(3)]
[IterationCount(10)]
public class KernelBenchmarks : IDisposable
{
    private CpuBackend _backend = null!;
    private SaMoeModel _model = null!;
    private SequenceState _state = null!;
    private DeviceTensor _x = null!, _y = null!, _wide = null!;
    private DeviceMatrix _down = null!, _gateUp = null!, _qkv = null!;

    [Params(0, 1, 2)]
    public int IsaLevel { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _backend = new CpuBackend(0, (CpuIsa)IsaLevel);
        _model = BenchModel.Create(_backend, BenchModel.Config(layers: 1));
        var layer = _model.Speech.Layers[0];
        _qkv = layer.Qkv;
        _gateUp = layer.GateUp;
        _down = layer.Down;
        _x = _backend.AllocateTensor(1, _model.Config.Speech.HiddenSize);
        _y = _backend.AllocateTensor(1, _qkv.Rows);
        _wide = _backend.AllocateTensor(1, _model.Config.Speech.IntermediateSize);
        _backend.Upload(Enumerable.Repeat(0.01f, _x.Cols).ToArray(), _x.All);
        _backend.Upload(Enumerable.Repeat(0.01f, _wide.Cols).ToArray(), _wide.All);
        _state = _model.CreateSequence(4096);
        var prompt = new TokenBatch();
        for (int i = 0; i < 2000; i++)
            prompt.AddId(i % 100);
        _state.Append(prompt);
    }

    /// <summary>q|k|v of one layer: 2048 → 3072, 12.6 MB of bf16.</summary>
    [Benchmark]
    public void QkvGemv() => _backend.MatMul(_qkv, _x.All, _y.All, null, accumulate: false);

    /// <summary>gate|up with SiLU·mul: 2048 → 2×5632, 46 MB.</summary>
    [Benchmark]
    public void GateUpSwiGluGemv() => _backend.GateUpSwiGlu(_gateUp, _x.All, _wide.All);

    /// <summary>down with the residual add: 5632 → 2048, 23 MB.</summary>
    [Benchmark]
    public void DownGemvResidual() => _backend.MatMul(_down, _wide.All, _x.All, null, accumulate: true);

    /// <summary>One whole decode step of a 1-layer model at 2000 tokens of context (attention included).</summary>
    [Benchmark]
    public int DecodeStepAt2000Context()
    {
        _state.Truncate(2000);
        _state.Step(7, Expert.Speech);
        return _state.ArgMax(Expert.Speech);
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _state.Dispose();
        _x.Dispose();
        _y.Dispose();
        _wide.Dispose();
        _model.Dispose();
        _backend.Dispose();
        GC.SuppressFinalize(this);
    }
}
