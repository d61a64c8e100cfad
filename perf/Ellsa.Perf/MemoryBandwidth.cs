using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Ellsa.Kernels.Cpu;

namespace Ellsa.Perf;

/// <summary>
/// Read bandwidth of this machine, the floor decode is held against: every backend thread reads
/// its own buffer (far larger than the last-level cache) with the widest loads the CPU has,
/// as STREAM-like read kernels do. One sequential stream with a single dependency chain leaves
/// bandwidth unused (the old probe read about half of what the machine delivers), so each thread
/// reads several contiguous streams at once into independent accumulators, with and without
/// software prefetching ahead of each stream (the decode kernels' pattern, <see cref="DotKernels.PrefetchBytes"/>:
/// without it the probe read less than the GEMVs themselves); the figure is the best of several
/// passes over the variants tried.
/// </summary>
public sealed unsafe class MemoryBandwidth : IDisposable
{
    private readonly NativeArray<byte>[] _buffers;
    private readonly ReadJob _job;

    /// <param name="threads">Readers, one buffer each (the backend's thread count).</param>
    /// <param name="bytesPerThread">Each reader's buffer: 256 MiB is 8× a 32 MiB L3.</param>
    public MemoryBandwidth(int threads, long bytesPerThread = 256L << 20)
    {
        bytesPerThread = bytesPerThread / 4096 * 4096;
        _buffers = new NativeArray<byte>[threads];
        var pointers = new byte*[threads];
        for (int t = 0; t < threads; t++)
        {
            _buffers[t] = new NativeArray<byte>(bytesPerThread, zero: false);
            // Touch every page (and give the floats a finite value) so no pass measures page faults.
            new Span<float>(_buffers[t].Pointer, (int)(bytesPerThread / 4)).Fill(1);
            pointers[t] = _buffers[t].Pointer;
        }
        _job = new ReadJob(pointers, bytesPerThread);
    }

    public int Threads => _buffers.Length;
    public long BytesPerThread => _job.Bytes;
    /// <summary>The ways each thread reads (contiguous streams side by side, prefetching or not); the best pass over all of them is the figure.</summary>
    public static readonly (int Streams, bool Prefetch)[] Variants = [(1, false), (2, false), (4, false), (8, false), (1, true), (2, true)];
    /// <summary>Best rate for each of <see cref="Variants"/>, bytes per second, from the last <see cref="Measure"/>.</summary>
    public double[] RateByVariant { get; } = new double[Variants.Length];
    public string LoadWidth => Vector512.IsHardwareAccelerated ? "512-bit" : "256-bit";

    /// <summary>
    /// The best rate of every <see cref="Measure"/> so far, and its <see cref="Describe"/> line: the
    /// floor when the probe takes a turn in every round (the machine's read rate drifts over seconds).
    /// </summary>
    public double BestRate { get; private set; }
    public string BestLine { get; private set; } = "";

    /// <summary>The best read rate over <paramref name="passes"/> passes for each variant, in bytes per second.</summary>
    public double Measure(CpuBackend backend, int passes = 7)
    {
        if (backend.Threads != _buffers.Length)
            throw new ArgumentException($"the probe has {_buffers.Length} buffers for a backend of {backend.Threads} threads");
        double best = 0;
        for (int s = 0; s < Variants.Length; s++)
        {
            (_job.Streams, _job.Prefetch) = Variants[s];
            backend.Run(_job, _buffers.Length); // warm: wakes the workers, settles the TLB
            double rate = 0;
            for (int p = 0; p < passes; p++)
            {
                long start = Stopwatch.GetTimestamp();
                backend.Run(_job, _buffers.Length);
                double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                rate = Math.Max(rate, _job.Bytes * _buffers.Length / seconds);
            }
            RateByVariant[s] = rate;
            best = Math.Max(best, rate);
        }
        GC.KeepAlive(_job.Sink);
        if (best > BestRate)
        {
            BestRate = best;
            BestLine = Describe(best);
        }
        return best;
    }

    /// <summary>One line for a benchmark's header: the figure and how it was read.</summary>
    public string Describe(double best)
    {
        var parts = Variants.Select((v, i) => $"{v.Streams}{(v.Prefetch ? " prefetching" : "")}: {RateByVariant[i] / 1e9:F1}");
        return $"{best / 1e9:F1} GB/s ({Threads} threads × {BytesPerThread >> 20} MiB, {LoadWidth} loads, best of passes; GB/s by streams per thread {string.Join(", ", parts)})";
    }

    public void Dispose()
    {
        foreach (var buffer in _buffers)
            buffer.Dispose();
    }

    /// <summary>Chunk c reads buffer c whole, as <see cref="Streams"/> contiguous parts read side by side.</summary>
    private sealed class ReadJob(byte*[] buffers, long bytes) : IParallelWork
    {
        public readonly long Bytes = bytes;
        public int Streams = 4;
        public bool Prefetch;
        public float Sink;

        public void Execute(int chunk, int worker)
        {
            float sum = Vector512.IsHardwareAccelerated
                ? Read<Simd512, Vector512<float>>(buffers[chunk], Bytes, Streams, Prefetch)
                : Read<Simd256, Vector256<float>>(buffers[chunk], Bytes, Streams, Prefetch);
            Sink += sum;
        }

        /// <summary>
        /// Eight vectors per step into eight accumulators, 8 / streams of them from each stream,
        /// so no add waits on another's load and every stream has loads in flight; prefetching, each
        /// vector's line <see cref="DotKernels.PrefetchBytes"/> ahead is requested too.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static float Read<TSimd, TVector>(byte* data, long bytes, int streams, bool prefetch)
            where TSimd : struct, ISimdWidth<TVector> where TVector : struct
        {
            int width = TSimd.Count * sizeof(float);
            int perStream = 8 / streams;
            long step = (long)perStream * width;
            long part = bytes / streams / step * step;
            float* p0 = Start(0), p1 = Start(1), p2 = Start(2), p3 = Start(3);
            float* p4 = Start(4), p5 = Start(5), p6 = Start(6), p7 = Start(7);
            float* end = (float*)(data + part);
            int advance = (int)(step / sizeof(float));
            var ones = TSimd.Load(Ones);
            TVector a0 = default, a1 = default, a2 = default, a3 = default;
            TVector a4 = default, a5 = default, a6 = default, a7 = default;
            for (; p0 < end; p0 += advance, p1 += advance, p2 += advance, p3 += advance, p4 += advance, p5 += advance, p6 += advance, p7 += advance)
            {
                if (prefetch && Sse.IsSupported)
                {
                    Sse.Prefetch0((byte*)p0 + DotKernels.PrefetchBytes);
                    Sse.Prefetch0((byte*)p1 + DotKernels.PrefetchBytes);
                    Sse.Prefetch0((byte*)p2 + DotKernels.PrefetchBytes);
                    Sse.Prefetch0((byte*)p3 + DotKernels.PrefetchBytes);
                    Sse.Prefetch0((byte*)p4 + DotKernels.PrefetchBytes);
                    Sse.Prefetch0((byte*)p5 + DotKernels.PrefetchBytes);
                    Sse.Prefetch0((byte*)p6 + DotKernels.PrefetchBytes);
                    Sse.Prefetch0((byte*)p7 + DotKernels.PrefetchBytes);
                }
                a0 = TSimd.MultiplyAdd(TSimd.Load(p0), ones, a0);
                a1 = TSimd.MultiplyAdd(TSimd.Load(p1), ones, a1);
                a2 = TSimd.MultiplyAdd(TSimd.Load(p2), ones, a2);
                a3 = TSimd.MultiplyAdd(TSimd.Load(p3), ones, a3);
                a4 = TSimd.MultiplyAdd(TSimd.Load(p4), ones, a4);
                a5 = TSimd.MultiplyAdd(TSimd.Load(p5), ones, a5);
                a6 = TSimd.MultiplyAdd(TSimd.Load(p6), ones, a6);
                a7 = TSimd.MultiplyAdd(TSimd.Load(p7), ones, a7);
            }
            return TSimd.Sum(a0, a1) + TSimd.Sum(a2, a3) + TSimd.Sum(a4, a5) + TSimd.Sum(a6, a7);

            // Vector j reads stream j / perStream at vector j % perStream of the step.
            float* Start(int j) => (float*)(data + j / perStream * part + j % perStream * width);
        }

        private static readonly float* Ones = MakeOnes();

        private static float* MakeOnes()
        {
            var ones = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(64, 64);
            new Span<float>(ones, 16).Fill(1);
            return ones;
        }
    }
}
