using System.CommandLine;
using Ellsa.Cli.Infrastructure;
using Ellsa.Runtime.Checkpoints;
using Ellsa.Runtime.Codecs.Speech;
using Ellsa.Runtime.Codecs.SpeechOut;
using Ellsa.Runtime.Duplex;
using Ellsa.Runtime.Codecs.Vision;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Moe;
using Ellsa.Runtime.Networks;
using Ellsa.Runtime.Weights;

namespace Ellsa.Cli.Commands;

/// <summary>
/// <c>ellsa inspect</c>: what the engine makes of a model directory, without loading it: the
/// configs, each tensor bound to its role, the aliases used, and what is missing or unused.
/// Exits non-zero when the checkpoint cannot be loaded, after saying everything it found.
/// </summary>
public static class InspectCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var all = new Option<bool>("--all") { Description = "List every unused tensor instead of a summary by prefix" };
        var command = new Command("inspect",
            "Read a model directory's configs and safetensors headers and report how the tensors bind to the engine's roles " +
            "(nothing is loaded into memory). Use it to fit a new checkpoint: missing tensors are named with every spelling tried.")
        {
            model, all,
        };
        command.SetAction(result => ErrorReporting.Run(() => Execute(result.GetValue(model)!, result.GetValue(all))));
        return command;
    }

    private static int Execute(DirectoryInfo directory, bool all)
    {
        var config = ModelConfig.Load(directory.FullName);
        using var store = CheckpointStore.Open(directory.FullName);
        var plan = WeightPlan.Create(store, config);
        var output = Console.Out;

        output.WriteLine($"model: {directory.FullName}");
        output.WriteLine(store.IsSharded
            ? $"checkpoint: {CheckpointStore.IndexFileName} with {store.Files.Count} shards, {store.Tensors.Count} tensors, {store.TotalBytes / 1e9:F3} GB"
            : $"checkpoint: {CheckpointStore.SingleFileName}, {store.Tensors.Count} tensors, {store.TotalBytes / 1e9:F3} GB");
        output.WriteLine();
        WriteConfigs(output, config);
        WriteBindings(output, plan);
        bool visionOk = WriteVisionTokenizer(output, directory.FullName);
        bool speechOk = WriteSpeechEncoder(output, directory.FullName);
        bool speakOk = WriteSpeechDecoder(output, directory.FullName);
        WriteSummary(output, plan, all);
        return plan.IsComplete && visionOk && speechOk && speakOk ? 0 : ErrorReporting.InputError;
    }

    /// <summary>
    /// The vision tokenizer, when the directory has one: its config and every tensor it binds. Its
    /// weights are mapped, not copied (the CPU backend uses them in place), so this stays cheap.
    /// </summary>
    private static bool WriteVisionTokenizer(TextWriter output, string directory)
    {
        if (!Directory.Exists(Path.Combine(directory, VisionTokenizer.DirectoryName)))
        {
            output.WriteLine($"{VisionTokenizer.DirectoryName}/: absent (frames must come as VQ codes)");
            return true;
        }
        output.WriteLine();
        try
        {
            using var backend = new Ellsa.Kernels.Cpu.CpuBackend(threads: 1);
            using var tokenizer = VisionTokenizer.Load(directory, backend);
            var c = tokenizer.Config;
            output.WriteLine($"{VisionTokenizer.DirectoryName}/ (Emu3 VisionVQ): ch {c.Channels}, ch_mult [{string.Join(", ", c.ChannelMultipliers)}], " +
                             $"num_res_blocks {c.ResBlocks}, attn_resolutions [{string.Join(", ", c.AttentionLevels)}], z_channels {c.ZChannels}, " +
                             $"codebook {c.CodebookSize}×{c.EmbedDim}, temporal ×{c.TemporalDownsample}, spatial ÷{c.SpatialFactor}");
            WriteComponentBindings(output, tokenizer.Bindings, tokenizer.UnusedTensors, name => name.Split('.')[0], 28);
            return true;
        }
        catch (Exception e) when (e is CheckpointException or ConfigException)
        {
            output.WriteLine($"  cannot be loaded: {e.Message}");
            output.WriteLine();
            return false;
        }
    }

    /// <summary>The speech input (fbank, Zipformer2, projector), when the directory has it: its config, its tensors and the lookahead it costs a session.</summary>
    private static bool WriteSpeechEncoder(TextWriter output, string directory)
    {
        if (!SpeechListener.IsPresent(directory))
        {
            output.WriteLine($"speech encoder: absent (no {SpeechListener.ComponentFile}, no {SpeechListener.EncoderPrefix}* tensors): audio must come as embeddings");
            return true;
        }
        try
        {
            using var backend = new Ellsa.Kernels.Cpu.CpuBackend(threads: 1);
            using var listener = SpeechListener.Load(directory, backend);
            var c = listener.Config;
            output.WriteLine($"speech encoder ({listener.Source}): SPEAR Zipformer2, {c.Stacks} stacks, layers [{string.Join(", ", c.NumEncoderLayers)}], " +
                             $"downsampling [{string.Join(", ", c.DownsamplingFactor)}], encoder_dim [{string.Join(", ", c.EncoderDim)}], " +
                             $"chunk {c.ChunkSize}, left context {c.LeftContextFrames} frames, {c.NumMelBins} mel bins, projector {c.ProjectorInput}→{c.Hidden}→{c.OutputDim}");
            var lookahead = Enumerable.Range(0, 4).Select(k =>
                (listener.Lookahead.SamplesNeeded((k + 1) * SessionFile.AudioRowsPerBlock) - (k + 1) * 16000L) / 16.0).ToArray();
            output.WriteLine($"  {listener.RowsPerSecond:G4} rows per second; lookahead past a block's end: {string.Join(", ", lookahead.Select(ms => $"{ms:G5}"))} ms (blocks 0–3)");
            // Module level: speech_expert.<module>.<part>, without a tensor's own last name.
            WriteComponentBindings(output, listener.Bindings, listener.UnusedTensors, name => string.Join('.', name.Split('.')[..^1].Take(3)), 44);
            return true;
        }
        catch (Exception e) when (e is CheckpointException or ConfigException)
        {
            output.WriteLine($"  cannot be loaded: {e.Message}");
            output.WriteLine();
            return false;
        }
    }

    /// <summary>The speech output (generator_proj, speech-token LM, flow, HiFT), when the directory has it: its config, prompt and tensors.</summary>
    private static bool WriteSpeechDecoder(TextWriter output, string directory)
    {
        if (!SpeechSpeaker.IsPresent(directory))
        {
            output.WriteLine($"speech decoder: absent (no {SpeechDecoderConfig.DefaultPromptFile} with {SpeechDecoderConfig.DefaultWeightsFile} or " +
                             $"{SpeechSpeaker.GeneratorPrefix}* tensors): the model cannot speak");
            return true;
        }
        try
        {
            using var backend = new Ellsa.Kernels.Cpu.CpuBackend(threads: 1);
            using var speaker = SpeechSpeaker.Load(directory, backend);
            var c = speaker.Config;
            var q = c.Llm.Qwen2;
            output.WriteLine($"speech decoder ({speaker.Source}): generator_proj {c.GeneratorProj.InputSize}→{c.GeneratorProj.HiddenSize}→{c.GeneratorProj.OutputSize}, " +
                             $"speech LM Qwen2 {q.Layers} layers × {q.HiddenSize} ({q.Heads} heads, {q.KvHeads} KV), {c.Llm.SpeechTokenSize} speech tokens, " +
                             $"flow {c.Flow.Encoder.OutputSize} wide, HiFT {c.Hift.BaseChannels} channels at {speaker.SampleRate} Hz ({speaker.Hift.SamplesPerFrame} samples per frame)");
            output.WriteLine($"  prompt ({speaker.Prompt.FileName}): {speaker.Prompt.Tokens.Length} tokens, {speaker.Prompt.FeatFrames} mel frames, " +
                             $"x-vector {speaker.Prompt.Embedding.Length}, {speaker.Prompt.NoiseFrames} frames of CFM noise; window step {c.Streaming.WindowStep} " +
                             $"(at least {speaker.MinimumWindowStep}), caches {c.Streaming.MelCacheLen} frames / {c.Streaming.SourceCacheLen} samples");
            // Module level: speech_expert.generator.<part>.<module> or speech_expert.generator_proj.<layer>.
            WriteComponentBindings(output, speaker.Bindings, speaker.UnusedTensors, name => string.Join('.', name.Split('.')[..^1].Take(4)), 48);
            return true;
        }
        catch (Exception e) when (e is CheckpointException or ConfigException)
        {
            output.WriteLine($"  cannot be loaded: {e.Message}");
            output.WriteLine();
            return false;
        }
    }

    /// <summary>A component network's bindings: counts by dtype, tensors per module (as <paramref name="module"/> groups names) and what nothing read.</summary>
    private static void WriteComponentBindings(TextWriter output, WeightBindings log, IReadOnlyList<string> unused, Func<string, string> module, int width)
    {
        var bindings = log.All;
        output.WriteLine($"  {bindings.Select(b => b.Name).Distinct().Count()} tensors bound, " +
                         string.Join(", ", bindings.GroupBy(b => b.Dtype).Select(g => $"{g.Select(b => b.Name).Distinct().Count()} {g.Key}")));
        foreach (var group in bindings.GroupBy(b => module(b.Name)))
            output.WriteLine($"  {(group.Key + ".*").PadRight(width)}{group.Select(b => b.Name).Distinct().Count(),5} tensors");
        output.WriteLine(unused.Count == 0 ? "  unused: none" : $"  unused: {unused.Count} ({string.Join(", ", unused.Take(8))}{(unused.Count > 8 ? ", …" : "")})");
        output.WriteLine();
    }

    private static void WriteConfigs(TextWriter output, ModelConfig config)
    {
        output.WriteLine("experts                      speech (config.json)          vision (vision_config.json)");
        void Row(string name, Func<ExpertConfig, object?> value) =>
            output.WriteLine($"  {name,-27}{Format(value(config.Speech)),-30}{Format(value(config.Vision))}");
        Row("hidden_size", c => c.HiddenSize);
        Row("num_hidden_layers", c => c.Layers);
        Row("num_attention_heads", c => c.Heads);
        Row("num_key_value_heads", c => c.KvHeads);
        Row("head_dim", c => c.HeadDim);
        Row("intermediate_size", c => c.IntermediateSize);
        Row("rms_norm_eps", c => c.RmsNormEps);
        Row("rope_theta", c => c.RopeTheta);
        Row("rope_scaling", c => c.RopeScaling is { } s
            ? $"llama3 ×{s.Factor} ({s.LowFreqFactor}..{s.HighFreqFactor}, {s.OriginalMaxPositionEmbeddings})" : "none");
        Row("vocab_size", c => c.VocabSize);
        Row("max_position_embeddings", c => c.MaxPositionEmbeddings);
        Row("qkv_bias", c => c.QkvBias);
        output.WriteLine();

        var settings = config.Settings;
        output.WriteLine(settings.FromFile ? "ellsa.json" : "ellsa.json (absent: released defaults)");
        output.WriteLine("  tokens: " + string.Join(", ", settings.Tokens.Named().Select(t => $"{t.Key} {t.Id}")));
        output.WriteLine($"  lora: r {settings.Lora.R}, alpha {settings.Lora.Alpha} (scaling {settings.Lora.Scaling:G4}), merged projections stored as {settings.Lora.MergedDtype}");
        output.WriteLine($"  image: header ids [{string.Join(", ", settings.Image.HeaderIds)}], {settings.Image.CodesPerFrame} codes per frame");
        output.WriteLine($"  weights: {WeightSettings.Name(settings.Weights.Format)} (projections and heads; --weights overrides it, but tensors stored as q8 stay q8)");
        output.WriteLine();
    }

    private static string Format(object? value) => value switch
    {
        double d => d.ToString("G6", System.Globalization.CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        _ => value?.ToString() ?? "",
    };

    private static void WriteBindings(TextWriter output, WeightPlan plan)
    {
        output.WriteLine($"bound tensors ({plan.Bindings.Count})");
        int roleWidth = Math.Max(20, plan.Bindings.Select(b => b.Role.Length).DefaultIfEmpty(0).Max() + 2);
        foreach (var binding in plan.Bindings)
        {
            var entry = binding.Tensor.Entry;
            string alias = binding.IsAlias ? "  (alias)" : "";
            string scales = binding.Q8Scales is { } q8 ? $"  (q8, scales {q8.Name})" : "";
            output.WriteLine($"  {binding.Role.PadRight(roleWidth)}{entry.Dtype,-5} {entry.ShapeText,-16} {binding.Tensor.Name}  [{binding.Tensor.FileName}]{alias}{scales}");
        }
        output.WriteLine();
    }

    private static void WriteSummary(TextWriter output, WeightPlan plan, bool all)
    {
        var aliases = plan.Bindings.Where(b => b.IsAlias).ToList();
        output.WriteLine($"aliases used ({aliases.Count})");
        foreach (var binding in aliases)
            output.WriteLine($"  {binding.Tensor.Name}  for  {binding.PrimaryName}");
        output.WriteLine();

        output.WriteLine($"missing ({plan.Missing.Count})");
        foreach (string missing in plan.Missing)
            output.WriteLine($"  {missing}");
        output.WriteLine();

        if (plan.Problems.Count > 0)
        {
            output.WriteLine($"problems ({plan.Problems.Count})");
            foreach (string problem in plan.Problems)
                output.WriteLine($"  {problem}");
            output.WriteLine();
        }

        var unused = plan.Unused.ToList();
        output.WriteLine($"unused ({unused.Count})");
        if (all)
        {
            foreach (var tensor in unused)
                output.WriteLine($"  {tensor.Name}  {tensor.Entry.Dtype} {tensor.Entry.ShapeText}  [{tensor.FileName}]");
        }
        else
        {
            foreach (var group in unused.GroupBy(t => Prefix(t.Name)).OrderBy(g => g.Key, StringComparer.Ordinal))
                output.WriteLine($"  {group.Key}*  {group.Count()} tensor{(group.Count() == 1 ? "" : "s")}, {group.Sum(t => t.Entry.ByteLength) / 1e6:F1} MB");
            if (unused.Count > 0)
                output.WriteLine("  (--all lists each one)");
        }
        output.WriteLine();

        if (plan.Notes.Count > 0)
        {
            output.WriteLine($"notes ({plan.Notes.Count})");
            foreach (string note in plan.Notes)
                output.WriteLine($"  {note}");
            output.WriteLine();
        }
        output.WriteLine(plan.IsComplete ? "status: loadable" : "status: NOT loadable (see missing/problems above)");
    }

    /// <summary>The first three dotted components: enough to tell the speech encoder from the TTS model.</summary>
    private static string Prefix(string name)
    {
        var parts = name.Split('.');
        return string.Join('.', parts.Take(Math.Min(3, parts.Length - 1))) + ".";
    }
}
