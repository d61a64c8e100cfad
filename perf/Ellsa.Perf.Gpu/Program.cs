using Ellsa.Kernels.Gpu;
using Ellsa.Kernels.Gpu.Platform;
using Ellsa.Perf.Gpu;

// ellsa-perf-gpu: the CUDA self-tests and the benchmarks of the ILGPU backend, built to run on a
// GPU machine without .NET (self-contained publish, perf/gpu/run.sh).
PerfOptions options;
try
{
    options = PerfOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

Directory.CreateDirectory(options.Output);
using var logFile = new StreamWriter(Path.Combine(options.Output, "log.txt"), append: true) { AutoFlush = true };
void Log(string line)
{
    string stamped = $"[{DateTime.UtcNow:HH:mm:ss}] {line}";
    Console.WriteLine(stamped);
    logFile.WriteLine(stamped);
}

Func<IlgpuOptions, IlgpuBackend> create = options.Device == "cuda"
    ? o => IlgpuBackend.CreateCuda(o)
    : o => IlgpuBackend.CreateCpuSimulator(o);

try
{
    int failures = 0;
    double warmUpSeconds = 0;
    if (options.Command is "all" or "selftest" or "bench")
    {
        // First thing: the compile and load cost of every kernel (ILGPU codegen + driver JIT), as a cold process pays it.
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using (var exact = create(IlgpuOptions.Default))
            exact.WarmUp();
        using (var fast = create(IlgpuOptions.Default with { Precision = GemmPrecision.Fast }))
            fast.WarmUp();
        warmUpSeconds = watch.Elapsed.TotalSeconds;
        Log($"kernels compiled and loaded in {warmUpSeconds:F1} s on {options.Device}");
    }
    if (options.Command is "all" or "ptx")
    {
        string directory = Path.Combine(options.Output, "ptx");
        Directory.CreateDirectory(directory);
        foreach (var kernel in PtxCompiler.CompileForHopper())
            File.WriteAllText(Path.Combine(directory, PtxFileName(kernel.Name)), kernel.Assembly);
        Log($"PTX of every kernel written to {directory}");
    }
    if (options.Command is "all" or "selftest")
    {
        var (passed, failed, lines) = SelfTest.Run(create, Log);
        File.WriteAllLines(Path.Combine(options.Output, "selftest.txt"), lines.Append($"{passed} passed, {failed} failed"));
        Log($"self-test: {passed} passed, {failed} failed");
        failures += failed;
    }
    if (options.Command is "all" or "bench")
    {
        string markdown = BenchRun.Run(options, create, warmUpSeconds, Log);
        Console.WriteLine();
        Console.WriteLine(markdown);
    }
    if (options.Command is "all" or "speech")
    {
        Console.WriteLine();
        Console.WriteLine(SpeechBench.Run(options, create, Log));
    }
    if (options.Command is "all" or "speech-out")
    {
        Console.WriteLine();
        Console.WriteLine(SpeechOutBench.Run(options, create, Log));
    }
    if (options.Command is "all" or "vision")
    {
        Console.WriteLine();
        Console.WriteLine(VisionBench.Run(options, create, Log));
    }
    return failures == 0 ? 0 : 1;
}
catch (Exception e)
{
    Log($"error: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
    Log(e.StackTrace ?? "");
    return 1;
}

static string PtxFileName(string kernel) => new string(kernel.Select(c => char.IsLetterOrDigit(c) || c == '.' ? c : '_').ToArray()) + ".ptx";
