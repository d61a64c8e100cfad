using Ellsa.Kernels.Ops.Elementwise;
using Ellsa.Kernels.Ops.Norms;
using Ellsa.Kernels.Ops.Convolution;
using Ellsa.Kernels.Ops.Attention;
using Ellsa.Kernels.Ops.TransposedConvolution;

namespace Ellsa.Kernels.Backend;

/// <summary>
/// The general neural-network operations beside the SA-MoE's fused ones: what the image tokenizer,
/// the speech encoder and the speech decoder are built from. A backend lists what it has, so a
/// network can refuse to load on a backend that lacks an op instead of failing halfway.
/// </summary>
public enum NetworkOp
{
    /// <summary>destination = f(source) per element (<see cref="IUnaryFunctor"/>).</summary>
    Unary,
    /// <summary>destination = f(a, b) per element, either operand broadcast (<see cref="IBinaryFunctor"/>).</summary>
    Binary,
    /// <summary>LayerNorm, RMSNorm, GroupNorm, BiasNorm over rows (<see cref="NormSpec"/>); BatchNorm in eval is a folded scale and shift.</summary>
    Normalize,
    /// <summary>The column block of a convolution (<see cref="ConvSpec"/>); the product runs on the weight GEMM paths.</summary>
    Im2Col,
    /// <summary>Attention without a cache, with scale, mask and an optional score bias as parameters (<see cref="AttentionSpec"/>).</summary>
    Attention,
    /// <summary>The nearest codebook row of each vector from its products with the codes (a VQ quantiser).</summary>
    NearestCode,
    /// <summary>The weight product of many rows (a convolution's column block), packed for it where the backend gains by that.</summary>
    WeightGemm,
    /// <summary>A convolution of each channel with its own kernel (<see cref="Ops.Depthwise.DepthwiseConvolution"/>).</summary>
    DepthwiseConv,
    /// <summary>The batched product of two activations, a · bᵀ (<see cref="Ops.Products.MatrixProduct"/>).</summary>
    MatrixProduct,
    /// <summary>A whole convolution with its bias and an optional residual (<see cref="ConvSpec"/>): composed of the ops above, or fused.</summary>
    Convolution,
    /// <summary>The col2im of a transposed convolution: per-position weight products overlap-added into the output (<see cref="Ops.TransposedConvolution.TransposedConvolution"/>).</summary>
    OverlapAdd,
}

/// <summary>The general op layer (see <see cref="NetworkOp"/>); every op works on N-d <see cref="TensorView"/>s.</summary>
public interface INetworkOps
{
    /// <summary>Short name: cpu, cuda, ilgpu-cpu.</summary>
    string Name { get; }

    bool Supports(NetworkOp op);

    /// <summary>destination[i] = fn(source[i]); the views have one shape (source may be broadcast to it).</summary>
    void Unary<TFn>(TensorView source, TensorView destination, TFn fn) where TFn : struct, IUnaryFunctor;

    /// <summary>destination[i] = fn(a[i], b[i]); the views have one shape (a and b may be broadcast to it).</summary>
    void Binary<TFn>(TensorView a, TensorView b, TensorView destination, TFn fn) where TFn : struct, IBinaryFunctor;

    /// <summary>
    /// Normalises each row of a [rows, width] view (see <see cref="NormSpec"/>); weight and bias are
    /// per-channel vectors; <paramref name="then"/> is applied to each result (<see cref="Copy"/> for none).
    /// </summary>
    void Normalize<TFn>(TensorView source, TensorView destination, NormSpec spec, TensorView? weight, TensorView? bias, TFn then)
        where TFn : struct, IUnaryFunctor;

    /// <summary>Rows of a convolution's column block: output positions first… of an input [C, D, H, W] view, taps in weight order.</summary>
    void Im2Col(TensorView input, ConvSpec spec, int firstPosition, TensorSlice columns);

    /// <summary>q [T, H, d], k [S, Hk, d], v [S, Hk, dv] → output [T, H, dv]; bias [H, T, S] is added to the scores when given.</summary>
    void Attention(TensorView q, TensorView k, TensorView v, TensorView output, AttentionSpec spec, TensorView? bias);

    /// <summary>codes[r] = argmin over c of norms[c] − 2·products[r, c], ties to the lowest c (see <see cref="Ops.Codebook.NearestCode"/>).</summary>
    void NearestCodes(TensorSlice products, TensorView norms, Span<int> codes);

    /// <summary>output = input · weightᵀ (+ bias) for many rows: what <see cref="IComputeBackend.MatMul"/> computes, organised for a GEMM.</summary>
    void WeightGemm(DeviceMatrix weight, TensorSlice input, TensorSlice output, DeviceVector? bias);

    /// <summary>output [C, positions] = each channel of input [C, D, H, W] convolved with its row of weight [C, taps] (+ bias [C]).</summary>
    void DepthwiseConv(TensorView input, ConvSpec spec, TensorView weight, TensorView? bias, TensorView output);

    /// <summary>output [B, M, N] = scale · a [B, M, K] · b [B, N, K]ᵀ per batch entry (see <see cref="Ops.Products.MatrixProduct"/>).</summary>
    void MatrixProduct(TensorView a, TensorView b, TensorView output, float scale);

    /// <summary>
    /// output [out channels, positions] = conv(input [C, D, H, W] view) + bias (+ residual, a view of
    /// the output's shape in another tensor): see <see cref="Ops.Convolution.Convolution"/>.
    /// The workspace holds the column block where the backend materialises one.
    /// </summary>
    void Convolve(DeviceMatrix weight, DeviceVector? bias, TensorView input, ConvSpec spec, TensorView output, TensorView? residual,
        ConvWorkspace workspace);

    /// <summary>output [C, count] (positions firstOutput…) = bias + the overlap-add of columns [rows, C·k] (input positions firstInput…) as the spec spreads them.</summary>
    void OverlapAdd(TensorView columns, OverlapAddSpec spec, int firstInput, int firstOutput, TensorView? bias, TensorView output);
}

/// <summary>A backend was asked for an op it does not have.</summary>
public sealed class OpNotSupportedException(string backend, NetworkOp op, string? user)
    : NotSupportedException($"the {backend} backend has no {op} operation{(user is null ? "" : $", which {user} needs")}")
{
    public NetworkOp Op { get; } = op;
}

public static class NetworkOpsExtensions
{
    /// <summary>A normalisation with nothing after it.</summary>
    public static void Normalize(this INetworkOps backend, TensorView source, TensorView destination, NormSpec spec, TensorView? weight, TensorView? bias) =>
        backend.Normalize(source, destination, spec, weight, bias, new Copy());

    /// <summary>Throws <see cref="OpNotSupportedException"/> naming the op and who needs it unless the backend has every op listed.</summary>
    public static void Require(this INetworkOps backend, string user, params ReadOnlySpan<NetworkOp> ops)
    {
        foreach (var op in ops)
        {
            if (!backend.Supports(op))
                throw new OpNotSupportedException(backend.Name, op, user);
        }
    }
}
