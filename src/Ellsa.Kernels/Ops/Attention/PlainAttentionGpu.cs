using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Gpu.Kernels;
using Ellsa.Kernels.Ops.Attention;
using Ellsa.Kernels.Ops.Elementwise;
using ILGPU;
using ILGPU.Runtime;

namespace Ellsa.Kernels.Gpu
{
    public sealed partial class IlgpuBackend
    {
        public void Attention(TensorView q, TensorView k, TensorView v, TensorView output, AttentionSpec spec, TensorView? bias)
        {
            PlainAttention.Check(q, k, v, output, spec, bias);
            var tq = Tensor(q.Tensor);
            var tk = Tensor(k.Tensor);
            var tv = Tensor(v.Tensor);
            var to = Tensor(output.Tensor);
            var tb = bias is { } b ? Tensor(b.Tensor) : null;
            int units = q.Dim(0) * spec.Heads;
            if (units == 0)
                return;
            var args = new PlainAttentionArgs
            {
                Spec = spec, Q = q.Layout, K = k.Layout, V = v.Layout, O = output.Layout, B = bias?.Layout ?? default,
                HasBias = tb is null ? 0 : 1, Units = units, Exchange = Exchange,
            };
            lock (_host.Gate)
            {
                var scores = _workspace.Floats("attention.scores", (long)Groups(units) * Math.Max(1, k.Dim(0)));
                Launch("Attention", (tq, tk, tv, to, tb, args, scores, dummy: _workspace.Dummy),
                    static (backend, s) => backend._kernels.PlainAttention.Value(backend._host.Stream,
                        new KernelConfig(backend.Groups(s.args.Units), backend.Threads(NormKernels.Threads)),
                        s.tq.View, s.tk.View, s.tv.View, s.to.View, s.tb?.View ?? s.dummy, s.scores, s.args),
                    static s => $"{s.args.Units / s.args.Spec.Heads} queries × {s.args.Spec.Heads} heads over {s.args.K.D0} keys");
            }
        }
    }
}

namespace Ellsa.Kernels.Gpu.Kernels
{
    public struct PlainAttentionArgs
    {
        public AttentionSpec Spec;
        public ViewLayout Q, K, V, O, B;
        public int HasBias, Units, Exchange;
    }

    /// <summary>
    /// One group per (query, head): the threads score the keys into the group's row of a global
    /// scratch, reduce max and sum, then each output column is a thread's weighted sum. Plain on
    /// purpose: these networks' attention is a small share of their work (the flash kernels serve
    /// the transformer).
    /// </summary>
    public static class PlainAttentionKernels
    {
        [GpuKernel]
        public static void Attention(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> output,
            ArrayView<float> bias, ArrayView<float> scratch, PlainAttentionArgs a)
        {
            var reducer = new WarpReducer(SharedMemory.Allocate<float>(WarpReducer.ScratchFloats), a.Exchange);
            var spec = a.Spec;
            int s = a.K.D0, d = a.Q.D2, dv = a.V.D2, group = spec.Heads / spec.KvHeads;
            int row = Grid.IdxX * s;
            for (int unit = Grid.IdxX; unit < a.Units; unit += Grid.DimX)
            {
                int t = unit / spec.Heads, h = unit - t * spec.Heads, kh = h / group;
                int qBase = a.Q.Offset + t * a.Q.S0 + h * a.Q.S1;
                float max = float.NegativeInfinity;
                for (int j = Group.IdxX; j < s; j += Group.DimX)
                {
                    int kBase = a.K.Offset + j * a.K.S0 + kh * a.K.S1;
                    float score = 0f;
                    for (int c = 0; c < d; c++)
                        score += q[qBase + c * a.Q.S2] * k[kBase + c * a.K.S2];
                    score *= spec.Scale;
                    if (a.HasBias != 0)
                        score += bias[a.B.Offset + h * a.B.S0 + t * a.B.S1 + j * a.B.S2];
                    if (!spec.Visible(t, j))
                        score = spec.MaskedScore;
                    scratch[row + j] = score;
                    max = IntrinsicMath.Max(max, score);
                }
                max = reducer.BlockMax(max);
                float sum = 0f;
                for (int j = Group.IdxX; j < s; j += Group.DimX)
                {
                    float score = scratch[row + j];
                    float e = score == float.NegativeInfinity ? 0f : OpMath.Exp(score - max);
                    scratch[row + j] = e;
                    sum += e;
                }
                float inverse = 1f / reducer.BlockSum(sum);
                for (int c = Group.IdxX; c < dv; c += Group.DimX)
                {
                    int vBase = a.V.Offset + kh * a.V.S1 + c * a.V.S2;
                    float value = 0f;
                    for (int j = 0; j < s; j++)
                        value += scratch[row + j] * v[vBase + j * a.V.S0];
                    output[a.O.Offset + t * a.O.S0 + h * a.O.S1 + c * a.O.S2] = value * inverse;
                }
                Group.Barrier();
            }
        }
    }
}
