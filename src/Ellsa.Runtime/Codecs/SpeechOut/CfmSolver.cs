using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Elementwise;
using Ellsa.Kernels.Ops.Shapes;

namespace Ellsa.Runtime.Codecs.SpeechOut;

/// <summary>
/// CausalConditionalCFM's inference (cv/flow/flow_matching.py:L187-217) and solve_euler (L71-122):
/// from the frozen noise x at t = 0, 10 Euler steps on the schedule t_k = 1 − cos(π/2 · k/10)
/// (or k/10), each step's velocity the classifier-free mix (1 + w)·v(x, μ, speaker, condition) −
/// w·v(x, 0, 0, 0) of two estimator passes at the same t. t and dt are summed in double exactly as
/// the authors' loop does (t += dt; dt = t_{k+1} − t).
/// </summary>
internal sealed class CfmSolver(Estimator estimator, CfmConfig config)
{
    /// <summary>t_0 … t_n of the schedule.</summary>
    public static double[] Schedule(int steps, bool cosine)
    {
        var span = new double[steps + 1];
        for (int k = 0; k <= steps; k++)
        {
            double t = (double)k / steps;
            span[k] = cosine ? 1 - Math.Cos(t * 0.5 * Math.PI) : t;
        }
        return span;
    }

    /// <summary>
    /// Integrates in place: <paramref name="conditioned"/> and <paramref name="unconditioned"/> are
    /// the two [F, 320] estimator inputs, their first 80 columns x (the conditioned one holds the
    /// start noise, and the result), the rest [μ | speaker | condition] and zeros. With a
    /// <paramref name="prefix"/> of the prompt's first rows the passes compute only the frames after
    /// it (recording it first, from these inputs' first rows, if it is new); x of the prefix's rows
    /// is then left as it was, as nothing after it reads them.
    /// </summary>
    public void Solve(FlowPass pass, TensorSlice conditioned, TensorSlice unconditioned, EstimatorPrefix? prefix = null)
    {
        if (prefix is null)
        {
            Integrate(pass, conditioned, unconditioned, null, recording: false);
            return;
        }
        int rows = prefix.Rows, frames = conditioned.Rows - rows;
        if (!prefix.Recorded)
        {
            Integrate(pass, conditioned.RowRange(0, rows), unconditioned.RowRange(0, rows), prefix, recording: true);
            prefix.Complete();
        }
        Integrate(pass, conditioned.RowRange(rows, frames), unconditioned.RowRange(rows, frames), prefix, recording: false);
    }

    /// <summary>The Euler steps over the given rows; with a prefix, each pass records or replays it.</summary>
    private void Integrate(FlowPass pass, TensorSlice conditioned, TensorSlice unconditioned, EstimatorPrefix? prefix, bool recording)
    {
        var backend = pass.Backend;
        int frames = conditioned.Rows, mel = FlowConfig.MelChannels;
        var x = conditioned.Columns(0, mel);
        var velocity = pass.Rows("cfm.velocity", frames, mel);
        var unguided = pass.Rows("cfm.unguided", frames, mel);
        var timeRows = pass.Rows("cfm.time-rows", estimator.Resnets, estimator.Channels);
        float w = (float)config.InferenceCfgRate, guided = (float)(1.0 + config.InferenceCfgRate);
        var span = Schedule(FlowConfig.Timesteps, config.CosineSchedule);
        double t = span[0], dt = span[1] - span[0];
        for (int step = 1; step < span.Length; step++)
        {
            estimator.TimeRows(pass, t, timeRows);
            Shapes.Copy(backend, x, unconditioned.Columns(0, mel));
            pass.Prefix = prefix?.Begin(2 * (step - 1), recording);
            estimator.Forward(pass, conditioned, timeRows, velocity);
            if (step == 1)
                pass.Tap("estimator.cond", velocity);
            pass.Prefix = prefix?.Begin(2 * (step - 1) + 1, recording);
            estimator.Forward(pass, unconditioned, timeRows, unguided);
            pass.Prefix = null;
            if (step == 1)
                pass.Tap("estimator.uncond", unguided);
            backend.Unary(velocity, velocity, new Affine(guided, 0f));
            backend.Unary(unguided, unguided, new Affine(w, 0f));
            backend.Binary(velocity, unguided, velocity, new Subtract());
            backend.Unary(velocity, velocity, new Affine((float)dt, 0f));
            backend.Binary(x, velocity, x, new Add());
            t += dt;
            if (step < span.Length - 1)
                dt = span[step + 1] - t;
        }
    }

    /// <summary>Estimator passes per call: two (conditioned, unconditioned) per Euler step.</summary>
    public static int Passes => 2 * FlowConfig.Timesteps;
}
