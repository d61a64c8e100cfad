using System.Diagnostics;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Ellsa.Perf.LlamaCpp;

/// <summary>
/// llama.cpp through LLamaSharp on one GGUF: prefill a prompt of ids, then greedy single-token
/// decode steps, each step a <c>llama_decode</c> of one token and an argmax of its logits.
/// </summary>
public sealed class LlamaRunner : IDisposable
{
    private static readonly List<string> NativeLog = [];
    private readonly LLamaWeights _weights;
    private readonly ModelParams _parameters;
    private readonly LLamaBatch _batch = new();
    private LLamaContext? _context;
    private int _position;

    /// <summary>Routes llama.cpp's log to a buffer (errors to stderr); call before any other LLamaSharp use.</summary>
    public static void ConfigureNative()
    {
        NativeLibraryConfig.All.WithLogCallback((level, message) =>
        {
            lock (NativeLog)
                NativeLog.Add(message.TrimEnd());
            if (level == LLamaLogLevel.Error)
                Console.Error.Write($"llama.cpp: {message}");
        });
    }

    /// <summary>llama.cpp's own description of the CPU features its loaded build uses.</summary>
    public static string SystemInfo()
    {
        try
        {
            return System.Runtime.InteropServices.Marshal.PtrToStringAnsi(NativeApi.llama_print_system_info())?.Trim() ?? "";
        }
        catch (Exception e)
        {
            return $"(unavailable: {e.Message})";
        }
    }

    /// <summary>Log lines matching <paramref name="fragment"/>, for the report (which CPU backend loaded, the flash-attention choice).</summary>
    public static IEnumerable<string> LogLines(string fragment)
    {
        lock (NativeLog)
            return NativeLog.Where(l => l.Contains(fragment, StringComparison.OrdinalIgnoreCase)).ToArray();
    }

    public LlamaRunner(string gguf, int threads, int contextSize)
    {
        _parameters = new ModelParams(gguf)
        {
            ContextSize = (uint)contextSize,
            BatchSize = (uint)contextSize,
            UBatchSize = (uint)contextSize,
            Threads = threads,
            BatchThreads = threads,
            GpuLayerCount = 0,
        };
        _weights = LLamaWeights.LoadFromFile(_parameters);
        VocabSize = _weights.Vocab.Count;
    }

    public int VocabSize { get; }

    /// <summary>A fresh context (empty KV cache) holding <paramref name="prompt"/>; returns the last position's greedy id.</summary>
    public int Prefill(ReadOnlySpan<int> prompt, Span<float> logits = default)
    {
        _context?.Dispose();
        _context = _weights.CreateContext(_parameters);
        _batch.Clear();
        for (int i = 0; i < prompt.Length; i++)
            _batch.Add(prompt[i], i, LLamaSeqId.Zero, i == prompt.Length - 1);
        Decode();
        _position = prompt.Length;
        return Greedy(logits);
    }

    /// <summary>One decode step of <paramref name="id"/> at the next position; returns the greedy next id.</summary>
    public int Step(int id, Span<float> logits = default)
    {
        _batch.Clear();
        _batch.Add(id, _position, LLamaSeqId.Zero, true);
        Decode();
        _position++;
        return Greedy(logits);
    }

    /// <summary>Greedy steps after the prompt: per-step milliseconds, sorted.</summary>
    public double[] Time(ReadOnlySpan<int> prompt, int warmUp, int steps)
    {
        int token = Prefill(prompt);
        for (int i = 0; i < warmUp; i++)
            token = Step(token);
        var times = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            long start = Stopwatch.GetTimestamp();
            token = Step(token);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return times;
    }

    private void Decode()
    {
        var result = _context!.Decode(_batch);
        if (result != DecodeResult.Ok)
            throw new InvalidOperationException($"llama_decode returned {result}");
    }

    /// <summary>Lowest id among the largest logits (the engine's tie rule), copying the row out when asked.</summary>
    private int Greedy(Span<float> copy)
    {
        var row = _context!.NativeHandle.GetLogitsIth(_batch.TokenCount - 1);
        if (!copy.IsEmpty)
            row[..copy.Length].CopyTo(copy);
        int best = 0;
        for (int i = 1; i < row.Length; i++)
        {
            if (row[i] > row[best])
                best = i;
        }
        return best;
    }

    public void Dispose()
    {
        _context?.Dispose();
        _weights.Dispose();
    }
}
