using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Shapes;
using Ellsa.Runtime.Networks;

namespace Ellsa.Runtime.Codecs.Speech;

/// <summary>
/// Zipformer2 (ZF:314-447) in eval with causal chunking: the stacks in turn over the same 50 Hz
/// frames, each at its own width (convert_num_channels: cut, or zero-extend), and the output put
/// together from the most recent stack holding each channel (_get_full_dim_output). Both happen in
/// one [frames, widest] buffer: a stack works in place on its first channels and leaves the rest,
/// and widening zeroes the new channels first, so afterwards channel c holds the last stack wider
/// than c — exactly the authors' concatenation.
/// </summary>
internal sealed class ZipformerEncoder(ZipformerStack[] stacks)
{
    public IReadOnlyList<ZipformerStack> Stacks => stacks;

    public ZipformerLayer.State[][] CreateState(IComputeBackend backend) => stacks.Select(s => s.CreateState(backend)).ToArray();

    /// <summary>
    /// frames ([n, widest], the input in its first encoder_dim[0] channels) = encoder(frames) in place,
    /// for a step of whole chunks or (<paramref name="final"/>) the stream's last frames.
    /// </summary>
    public void Forward(Workspace ws, TensorSlice frames, ZipformerLayer.State[][] state, bool final, long totalFrames, SpeechTimings? timings = null)
    {
        int width = stacks[0].Dim;
        for (int i = 0; i < stacks.Length; i++)
        {
            int dim = stacks[i].Dim;
            if (dim > width)
                Shapes.Fill(ws.Backend, frames.Columns(width, dim - width), 0f);
            long start = timings?.Start() ?? 0;
            stacks[i].Forward(ws, frames.Columns(0, dim), state[i], final, totalFrames, timings);
            if (timings is not null)
                timings.StackMs[i] += timings.Since(start);
            width = dim;
        }
    }
}
