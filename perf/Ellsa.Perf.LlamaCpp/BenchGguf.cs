using Ellsa.Runtime.Configuration;
using Ellsa.Runtime.Moe;
using Ellsa.Runtime.Weights;

namespace Ellsa.Perf.LlamaCpp;

/// <summary>
/// One engine expert written as a llama-architecture GGUF that llama.cpp loads: its tensor
/// names, the metadata its llama loader reads, a SentencePiece-style vocabulary of the expert's
/// size (llama.cpp needs one to load; the benchmark feeds token ids, never text), and the
/// conversions the Hugging Face converter makes.
/// </summary>
/// <remarks>
/// The engine (like Hugging Face) rotates the two halves of each head (i with i + d/2);
/// llama.cpp's llama architecture rotates adjacent pairs (2i with 2i + 1). The converter
/// therefore reorders the rows of q and k inside every head, <see cref="RopeRowOrder"/>, which
/// leaves each q·k unchanged. Llama-3 frequency rescaling becomes the <c>rope_freqs.weight</c>
/// factors (llama.cpp divides the base frequency by them).
/// </remarks>
public static class BenchGguf
{
    public static void Write(string path, ExpertConfig config, HostExpert expert, GgmlType type)
    {
        int d = config.HiddenSize, hd = config.HeadDim, q = config.QueryWidth, kv = config.KvWidth, ff = config.IntermediateSize;
        int vocab = expert.Embedding.Rows;
        if (expert.Head.Rows != vocab)
            throw new ArgumentException($"the head has {expert.Head.Rows} rows and the embedding {vocab}; llama.cpp ties both to one vocabulary");
        var gguf = new GgufWriter();
        gguf.Add("general.architecture", "llama");
        gguf.Add("general.name", "ellsa-bench");
        gguf.Add("general.alignment", (uint)GgufWriter.Alignment);
        gguf.Add("general.file_type", type switch { GgmlType.BF16 => 32u, GgmlType.F16 => 1u, GgmlType.Q8_0 => 7u, _ => 0u });
        gguf.Add("llama.context_length", (uint)Math.Min(config.MaxPositionEmbeddings, 8192));
        gguf.Add("llama.embedding_length", (uint)d);
        gguf.Add("llama.block_count", (uint)config.Layers);
        gguf.Add("llama.feed_forward_length", (uint)ff);
        gguf.Add("llama.attention.head_count", (uint)config.Heads);
        gguf.Add("llama.attention.head_count_kv", (uint)config.KvHeads);
        gguf.Add("llama.attention.key_length", (uint)hd);
        gguf.Add("llama.attention.value_length", (uint)hd);
        gguf.Add("llama.rope.dimension_count", (uint)hd);
        gguf.Add("llama.rope.freq_base", (float)config.RopeTheta);
        gguf.Add("llama.attention.layer_norm_rms_epsilon", (float)config.RmsNormEps);
        gguf.Add("llama.vocab_size", (uint)vocab);
        AddVocabulary(gguf, vocab);

        long[] Matrix(int rows, int cols) => [cols, rows];
        gguf.AddTensor("token_embd.weight", Matrix(vocab, d), type, s => GgmlRowEncoder.Write(s, expert.Embedding, 0, vocab, type));
        var factors = RopeFactors(config);
        if (factors is not null)
            gguf.AddTensor("rope_freqs.weight", [factors.Length], GgmlType.F32, s => GgmlRowEncoder.Write(s, factors));
        for (int l = 0; l < config.Layers; l++)
        {
            var layer = expert.Layers[l];
            if (layer.QkvBias is not null)
                throw new ArgumentException("q/k/v biases are not written (the bench model has none)");
            string b = $"blk.{l}.";
            gguf.AddTensor(b + "attn_norm.weight", [d], GgmlType.F32, s => GgmlRowEncoder.Write(s, layer.InputNorm));
            gguf.AddTensor(b + "attn_q.weight", Matrix(q, d), type, s => GgmlRowEncoder.Write(s, layer.Qkv, 0, q, type, i => RopeRowOrder(i, hd)));
            gguf.AddTensor(b + "attn_k.weight", Matrix(kv, d), type, s => GgmlRowEncoder.Write(s, layer.Qkv, q, kv, type, i => RopeRowOrder(i, hd)));
            gguf.AddTensor(b + "attn_v.weight", Matrix(kv, d), type, s => GgmlRowEncoder.Write(s, layer.Qkv, q + kv, kv, type));
            gguf.AddTensor(b + "attn_output.weight", Matrix(d, q), type, s => GgmlRowEncoder.Write(s, layer.O, 0, d, type));
            gguf.AddTensor(b + "ffn_norm.weight", [d], GgmlType.F32, s => GgmlRowEncoder.Write(s, layer.PostNorm));
            // The engine's gate|up matrix holds the gate's ff rows, then the up projection's.
            gguf.AddTensor(b + "ffn_gate.weight", Matrix(ff, d), type, s => GgmlRowEncoder.Write(s, layer.GateUp, 0, ff, type));
            gguf.AddTensor(b + "ffn_up.weight", Matrix(ff, d), type, s => GgmlRowEncoder.Write(s, layer.GateUp, ff, ff, type));
            gguf.AddTensor(b + "ffn_down.weight", Matrix(d, ff), type, s => GgmlRowEncoder.Write(s, layer.Down, 0, d, type));
        }
        gguf.AddTensor("output_norm.weight", [d], GgmlType.F32, s => GgmlRowEncoder.Write(s, expert.FinalNorm));
        gguf.AddTensor("output.weight", Matrix(vocab, d), type, s => GgmlRowEncoder.Write(s, expert.Head, 0, vocab, type));
        gguf.Write(path);
    }

    /// <summary>
    /// The engine row written at llama.cpp row <paramref name="i"/> of a q or k projection: within a
    /// head, llama.cpp's dimension 2j + t is the engine's j + t·hd/2 (the converter's permute).
    /// </summary>
    public static int RopeRowOrder(int i, int headDim)
    {
        int head = i / headDim, within = i % headDim;
        return head * headDim + within % 2 * (headDim / 2) + within / 2;
    }

    /// <summary>θ^(−2i/d) ÷ the engine's frequency for each i; null when the expert does not rescale.</summary>
    public static float[]? RopeFactors(ExpertConfig config)
    {
        if (config.RopeScaling is null)
            return null;
        var plain = RopeFrequencies.Compute(config.HeadDim, config.RopeTheta, null);
        var scaled = RopeFrequencies.Compute(config.HeadDim, config.RopeTheta, config.RopeScaling);
        return plain.Select((f, i) => (float)(f / scaled[i])).ToArray();
    }

    /// <summary>Llama-2's layout: unknown, bos, eos, the 256 byte tokens, then plain pieces up to the size.</summary>
    private static void AddVocabulary(GgufWriter gguf, int size)
    {
        const int Normal = 1, Unknown = 2, Control = 3, Byte = 6;
        if (size < 3 + 256 + 1)
            throw new ArgumentException($"a vocabulary of {size} ids cannot hold the special and byte tokens");
        var tokens = new string[size];
        var scores = new float[size];
        var types = new int[size];
        tokens[0] = "<unk>"; types[0] = Unknown;
        tokens[1] = "<s>"; types[1] = Control;
        tokens[2] = "</s>"; types[2] = Control;
        for (int b = 0; b < 256; b++)
        {
            tokens[3 + b] = $"<0x{b:X2}>";
            types[3 + b] = Byte;
        }
        for (int i = 3 + 256; i < size; i++)
        {
            tokens[i] = $"\u2581t{i}";
            types[i] = Normal;
            scores[i] = -i;
        }
        gguf.Add("tokenizer.ggml.model", "llama");
        gguf.Add("tokenizer.ggml.tokens", tokens);
        gguf.Add("tokenizer.ggml.scores", scores);
        gguf.Add("tokenizer.ggml.token_type", types);
        gguf.Add("tokenizer.ggml.unknown_token_id", 0u);
        gguf.Add("tokenizer.ggml.bos_token_id", 1u);
        gguf.Add("tokenizer.ggml.eos_token_id", 2u);
    }
}
