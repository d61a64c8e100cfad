using System.CommandLine;
using System.Text.Json;
using Ellsa.Cli.Infrastructure;
using Ellsa.Runtime.Moe;
using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Codecs.Fast;
using Ellsa.Runtime.Duplex;
using Spectre.Console;

namespace Ellsa.Cli.Commands;

/// <summary><c>ellsa duplex</c>: a scripted full-duplex session, one JSON line per 1-second block.</summary>
public static class DuplexCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var input = new Option<FileInfo?>("--input")
        {
            Description = "SESSION.json: {\"mode\": \"speech\"|\"act\", \"prompt_ids\": [optional], \"blocks\": [{\"audio_embeddings\": [[…] × 5], " +
                          "\"images\": [[625 codes] or \"frame.png\", …]}, …]}; with --audio, blocks give images only (optional for speech dialogue)",
        };
        var audio = new Option<FileInfo?>("--audio")
        {
            Description = "A 16 kHz WAV file heard by the session (needs the speech encoder): block k hears seconds [k, k+1), each block stepped once " +
                          "the encoder's lookahead past its end has arrived; without --input, one speech-dialogue block per started second",
        };
        var output = CommonOptions.Output("TIMELINE.jsonl to write: one line per block with block, text_ids, text, action_ids, actions, events, ms");
        var parity = new Option<bool>("--parity")
        {
            Description = "Rebuild and re-prefill the whole sequence every block, as the reference does (default: keep the cached prefix)",
        };
        var contextLimit = new Option<int?>("--context-limit")
        {
            Description = "Positions the sequence may reach before the oldest history is trimmed (default: ellsa.json, else the smaller max_position_embeddings)",
        };
        var speechOut = new Option<FileInfo?>("--speech-out")
        {
            Description = "OUT.wav: the session's speech (16-bit mono at the speech decoder's rate, 24 kHz for the release): every block's ready " +
                          "audio in order, then the open segment finished at the session's end. Needs a speech decoder in the model directory",
        };
        var speechStep = new Option<int?>("--speech-step")
        {
            Description = "Speech tokens per token-to-wave window (the evaluation's step; at least the decoder's minimum). Default: the largest step " +
                          "whose first window runs after the speech LM's first call (21 for the release), so speech starts a text_chunk of rows in",
        };
        var noSpeech = new Option<bool>("--no-speech") { Description = "Decode text only, even when the model has a speech decoder" };
        var greedy = new Option<bool>("--greedy") { Description = "Speech LM: the greedy rule instead of RAS sampling" };
        var deterministic = new Option<bool>("--deterministic") { Description = "HiFT: sine phases and additive noise zero" };
        var seed = new Option<int?>("--seed") { Description = "Seeds RAS sampling and HiFT's noise, so the speech is reproducible" };
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        var weights = CommonOptions.Weights();
        var command = new Command("duplex",
            "Run a scripted duplex session block by block: speech dialogue (an empty image slot, the no-op action chunk) or " +
            "acting with speech (two camera views, a window of 2 blocks). Prints a line per block and a summary.")
        {
            model, input, audio, output, parity, contextLimit, speechOut, speechStep, noSpeech, greedy, deterministic, seed, device, threads, weights,
        };
        command.SetAction(result => ErrorReporting.Run(() => Execute(
            result.GetValue(model)!, result.GetValue(input), result.GetValue(audio), result.GetValue(output)!, result.GetValue(parity),
            result.GetValue(contextLimit), new SpeechRequest(result.GetValue(speechOut), result.GetValue(noSpeech), new SpeakOptions
            {
                Enabled = !result.GetValue(noSpeech),
                WindowStep = result.GetValue(speechStep),
                Greedy = result.GetValue(greedy),
                Deterministic = result.GetValue(deterministic),
                Seed = result.GetValue(seed),
            }), result.GetValue(device)!, result.GetValue(threads), result.GetValue(weights))));
        return command;
    }

    private sealed record SpeechRequest(FileInfo? Out, bool Off, SpeakOptions Options);

    private static int Execute(DirectoryInfo directory, FileInfo? input, FileInfo? audio, FileInfo output, bool parity, int? contextLimit,
        SpeechRequest speech, string device, int threads, string? weights)
    {
        if (speech.Out is not null && speech.Off)
            throw new UserError("--speech-out and --no-speech: give one of them");
        if (input is null && audio is null)
            throw new UserError("give --input SESSION.json, --audio IN.wav, or both");
        if (contextLimit is < MinContextLimit)
            throw new UserError($"--context-limit {contextLimit}: must be at least {MinContextLimit}");
        using var destination = OutputFile.Open(output.FullName, (input ?? audio)!.FullName);
        using var speechFile = speech.Out is null ? null : OutputFile.Open(speech.Out.FullName, (input ?? audio)!.FullName, "--speech-out");
        using var interruption = new Interruption(destination.Discard);
        var config = ModelConfig.Load(directory.FullName);
        SaMoeModel.CheckLoadable(directory.FullName, config);
        int maxPositions = CommonOptions.MaxPositions(config);
        if (contextLimit > maxPositions)
            throw new UserError($"--context-limit {contextLimit}: must be {MinContextLimit}…{maxPositions} (max_position_embeddings)");
        var wav = audio is null ? null : WavInput.Read(audio);
        var script = input is null
            ? new SessionScript(SessionMode.Speech, null, SessionAudioFile.SpeechBlocks(wav!))
            : SessionFile.Read(input.FullName, new SessionShape(config.Speech.HiddenSize, config.Settings.Image.CodesPerFrame), audioElsewhere: wav is not null);
        using var backend = CommonOptions.CreateBackend(device, threads);
        using var loaded = Model.Load(directory.FullName, backend, new LoadProgressDisplay(), CommonOptions.WeightFormatOf(weights), speaker: !speech.Off);
        if (wav is not null && loaded.Speech is null)
            throw new UserError($"--audio: {directory.Name} has no speech encoder ({Runtime.Codecs.Speech.SpeechListener.ComponentFile}, or speech_expert.speechencoder.* in its checkpoint)");
        if (speech.Out is not null && loaded.Speaker is null)
            throw new UserError($"--speech-out: {directory.Name} has no speech decoder ({Runtime.Codecs.SpeechOut.SpeechDecoderConfig.DefaultWeightsFile} " +
                                $"or speech_expert.generator.* in its checkpoint, and {Runtime.Codecs.SpeechOut.SpeechDecoderConfig.DefaultPromptFile})");
        if (speech.Options.WindowStep is { } step && loaded.Speaker is { } speaker && step < speaker.MinimumWindowStep)
            throw new UserError($"--speech-step {step}: the speech decoder's windows take at least {speaker.MinimumWindowStep} tokens with this prompt");
        var hearing = wav is null ? null : new SessionAudioFile(wav, script.Blocks.Count);
        using var session = loaded.CreateSession(new SessionOptions
        {
            Mode = script.Mode,
            Parity = parity,
            PromptIds = script.PromptIds,
            ContextLimit = contextLimit,
            Speak = loaded.Speaker is null && !speech.Off ? null : speech.Options,
        });
        var spoken = new List<float>();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        if (Console.IsOutputRedirected)
            console.Profile.Width = 160; // Spectre assumes 80 columns when redirected and would squeeze the summary
        console.MarkupLineInterpolated(
            $"[bold]{script.Mode}[/] session, {script.Blocks.Count} blocks, {(parity ? "parity" : "incremental")} mode, context limit {session.ContextLimit}, KV cache {session.KvCacheBytes / 1e6:F1} MB");

        var results = new List<BlockResult>();
        bool live = !Console.IsErrorRedirected;
        interruption.StopAtBoundaries();
        using (var writer = new StreamWriter(destination.Stream, leaveOpen: true))
        {
            foreach (var block in script.Blocks)
            {
                if (interruption.Requested is not null)
                    break;
                if (live)
                    Console.Error.Write($"\rblock {results.Count + 1}/{script.Blocks.Count}…");
                var result = session.Step(hearing is null ? block : block with { Audio = hearing.Next(session) });
                results.Add(result);
                spoken.AddRange(result.Speech);
                writer.WriteLine(Line(result));
                // Each finished block reaches the file at once: a pipe reader sees it, and an interrupted run keeps it.
                writer.Flush();
                if (live)
                    Console.Error.Write("\r" + new string(' ', 40) + "\r");
                Console.Out.WriteLine($"  block {result.Block,3}  {result.Timings.TotalMs,7:F1} ms  {Describe(result),-40}  {Abbreviate(result.Text)}");
            }
        }
        destination.Commit();
        if (interruption.Requested is null)
            spoken.AddRange(session.FinishSpeech());
        if (speechFile is not null)
        {
            Runtime.Codecs.Speech.WavFile.WritePcm16(speechFile.Stream, spoken.ToArray(), session.SpeechSampleRate);
            speechFile.Commit();
        }
        Summary(console, results);
        if (session.Speaks)
        {
            var first = results.Select(r => r.Timings.SpeechFirstPacketMs).OfType<double>().Order().ToArray();
            console.WriteLine(
                $"speech: {spoken.Count / (double)session.SpeechSampleRate:F2} s at {session.SpeechSampleRate} Hz{(speechFile is null ? "" : $" in {speech.Out!.Name}")}, " +
                $"{results.Sum(r => r.Counters.SpeechTokens)} speech tokens from {results.Sum(r => r.Counters.SpeechRows)} rows, window step {session.SpeechWindowStep}; " +
                $"speech stage {results.Sum(r => r.Timings.SpeechMs):F0} ms in all" +
                (first.Length == 0 ? "" : $", first packet after the text: median {first[first.Length / 2]:F1} ms, max {first[^1]:F1} ms"));
        }
        if (interruption.Requested is { } signal)
        {
            Console.Error.WriteLine(
                $"error: interrupted by {signal} after {results.Count} of {script.Blocks.Count} blocks; {output.Name} has {results.Count} lines");
            return interruption.ExitCode;
        }
        return 0;
    }

    private const int MinContextLimit = 16;

    private static string Line(BlockResult result)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("block", result.Block);
            Ints(json, "text_ids", result.TextIds);
            json.WriteString("text", result.Text);
            Ints(json, "action_ids", result.ActionIds);
            if (result.Actions is { } actions)
            {
                json.WritePropertyName("actions");
                FastJson.WriteMatrix(json, actions);
            }
            json.WriteStartArray("events");
            foreach (var e in result.Events)
                json.WriteStringValue(e.ToString());
            json.WriteEndArray();
            json.WriteNumber("ms", Math.Round(result.Timings.TotalMs, 3));
            json.WriteStartObject("stages");
            json.WriteNumber("prefill_ms", Math.Round(result.Timings.PrefillMs, 3));
            json.WriteNumber("text_ms", Math.Round(result.Timings.TextMs, 3));
            json.WriteNumber("action_ms", Math.Round(result.Timings.ActionMs, 3));
            json.WriteNumber("codec_ms", Math.Round(result.Timings.CodecMs, 3));
            json.WriteNumber("trim_ms", Math.Round(result.Timings.TrimMs, 3));
            json.WriteNumber("image_ms", Math.Round(result.Timings.ImageMs, 3));
            json.WriteNumber("fbank_ms", Math.Round(result.Timings.FbankMs, 3));
            json.WriteNumber("speech_encoder_ms", Math.Round(result.Timings.SpeechEncoderMs, 3));
            json.WriteNumber("speech_ms", Math.Round(result.Timings.SpeechMs, 3));
            json.WriteNumber("speech_lm_ms", Math.Round(result.Timings.SpeechLmMs, 3));
            json.WriteNumber("speech_wave_ms", Math.Round(result.Timings.SpeechWaveMs, 3));
            if (result.Timings.SpeechFirstPacketMs is { } firstPacket)
                json.WriteNumber("speech_first_packet_ms", Math.Round(firstPacket, 3));
            json.WriteEndObject();
            json.WriteStartObject("counters");
            json.WriteNumber("sequence", result.Counters.SequenceLength);
            json.WriteNumber("prefilled", result.Counters.PrefilledPositions);
            json.WriteNumber("recomputed", result.Counters.RecomputedPositions);
            json.WriteNumber("decoded", result.Counters.DecodedPositions);
            json.WriteNumber("trim_reprefilled", result.Counters.TrimRePrefilledPositions);
            json.WriteNumber("frames_encoded", result.Counters.FramesEncoded);
            json.WriteNumber("audio_samples", result.Counters.AudioSamples);
            json.WriteNumber("audio_lookahead_ms", Math.Round(result.Counters.AudioLookaheadMs, 3));
            json.WriteNumber("speech_rows", result.Counters.SpeechRows);
            json.WriteNumber("speech_tokens", result.Counters.SpeechTokens);
            json.WriteNumber("speech_samples", result.Counters.SpeechSamples);
            json.WriteNumber("speech_dropped_samples", result.Counters.SpeechDroppedSamples);
            json.WriteEndObject();
            if (result.ActionProblems.Count > 0)
            {
                json.WriteStartArray("action_problems");
                foreach (string problem in result.ActionProblems)
                    json.WriteStringValue(problem);
                json.WriteEndArray();
            }
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Ints(Utf8JsonWriter json, string name, int[] values)
    {
        json.WriteStartArray(name);
        foreach (int value in values)
            json.WriteNumberValue(value);
        json.WriteEndArray();
    }

    private static string Describe(BlockResult result) =>
        result.Events.Count == 0 ? "-" : string.Join(", ", result.Events.Select(e => e.Kind.ToString()));

    /// <summary>One printable line: control characters (a random model emits any bytes) become spaces.</summary>
    private static string Abbreviate(string text)
    {
        text = new string(text.Select(c => char.IsControl(c) || char.IsWhiteSpace(c) || char.IsSurrogate(c) ? ' ' : c).ToArray());
        return text.Length <= 60 ? text : text[..57] + "...";
    }

    private static void Summary(IAnsiConsole console, List<BlockResult> results)
    {
        if (results.Count == 0)
        {
            console.WriteLine("no blocks");
            return;
        }
        var times = results.Select(r => r.Timings.TotalMs).Order().ToArray();
        double p95 = times[Math.Min(times.Length - 1, (int)Math.Ceiling(times.Length * 0.95) - 1)];
        var table = new Table().AddColumns("blocks", "mean ms", "p95 ms", "max ms", "prefilled", "recomputed", "decoded", "text ids", "action ids");
        table.AddRow(
            results.Count.ToString(),
            times.Average().ToString("F1"),
            p95.ToString("F1"),
            times[^1].ToString("F1"),
            results.Sum(r => r.Counters.PrefilledPositions).ToString(),
            results.Sum(r => r.Counters.RecomputedPositions).ToString(),
            results.Sum(r => r.Counters.DecodedPositions).ToString(),
            results.Sum(r => r.TextIds.Length).ToString(),
            results.Sum(r => r.ActionIds.Length).ToString());
        console.Write(table);
    }
}
