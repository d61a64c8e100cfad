using System.Runtime.CompilerServices;
using System.Diagnostics;
using System.Runtime.Intrinsics;
using Ellsa.Kernels.Cpu;

namespace Ellsa.Perf;

/// <summary>
/// Read bandwidth of this machine, measured the way decode reads weights: all of the backend's
/// threads streaming through a buffer far larger than the last-level cache, with wide loads.
/// </summary>
public sealed unsafe class MemoryBandwidth : IDisposable
{
    private readonly NativeArray<float> _buffer;
    private readonly ReadJob _job;

    public MemoryBandwidth(long bytes = 1L << 30)
    {
        _buffer = new NativeArray<float>(bytes / 4);
        new Span<float>(_buffer.Pointer, (int)Math.Min(int.MaxValue, _buffer.Length)).Fill(1);
        for (long i = 0; i < _buffer.Length; i += 1024)
            _buffer.Pointer[i] = 1;
        _job = new ReadJob(_buffer.Pointer, _buffer.Length);
    }

    /// <summary>Best of several full passes, in bytes per second.</summary>
    public double Measure(CpuBackend backend, int passes = 7)
    {
        double best = 0;
        for (int p = 0; p < passes; p++)
        {
            var clock = Stopwatch.StartNew();
            backend.Run(_job, ReadJob.Chunks);
            double seconds = clock.Elapsed.TotalSeconds;
            best = Math.Max(best, _buffer.ByteSize / seconds);
        }
        GC.KeepAlive(_job.Sink);
        return best;
    }

    public void Dispose() => _buffer.Dispose();

    private sealed class ReadJob(float* data, long count) : IParallelWork
    {
        public const int Chunks = 256;
        public float Sink;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int chunk, int worker)
        {
            long begin = count * chunk / Chunks / 64 * 64, end = count * (chunk + 1) / Chunks / 64 * 64;
            var a = Vector256<float>.Zero;
            var b = Vector256<float>.Zero;
            var c = Vector256<float>.Zero;
            var d = Vector256<float>.Zero;
            for (long i = begin; i < end; i += 32)
            {
                a += Vector256.Load(data + i);
                b += Vector256.Load(data + i + 8);
                c += Vector256.Load(data + i + 16);
                d += Vector256.Load(data + i + 24);
            }
            Sink += Vector256.Sum(a + b + c + d);
        }
    }
}
