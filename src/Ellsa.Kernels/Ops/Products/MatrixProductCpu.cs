using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Ellsa.Kernels.Backend;
using Ellsa.Kernels.Ops.Products;

namespace Ellsa.Kernels.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void MatrixProduct(TensorView a, TensorView b, TensorView output, float scale)
    {
        Ops.Products.MatrixProduct.Check(a, b, output);
        if (output.Count == 0)
            return;
        lock (_gate)
        {
            var job = Job<MatrixProductJob>();
            job.A = Base(a);
            job.B = Base(b);
            job.Output = Base(output);
            (job.LA, job.LB, job.LO) = (a.Layout, b.Layout, output.Layout);
            job.Scale = scale;
            _pool.Run(job, a.Dim(0) * a.Dim(1));
        }
    }
}

/// <summary>One row of one batch entry per chunk: its products with every row of b, as dot products where K has unit stride.</summary>
internal sealed unsafe class MatrixProductJob : IParallelWork
{
    public float* A, B, Output;
    public ViewLayout LA, LB, LO;
    public float Scale;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int chunk, int worker)
    {
        int z = chunk / LA.D1, i = chunk % LA.D1, n = LB.D1, k = LA.D2;
        float* row = A + LA.Offset + (long)z * LA.S0 + (long)i * LA.S1;
        float* others = B + LB.Offset + (long)z * LB.S0;
        float* o = Output + LO.Offset + (long)z * LO.S0 + (long)i * LO.S1;
        bool dense = LA.S2 == 1 && LB.S2 == 1;
        for (int j = 0; j < n; j++)
        {
            float* other = others + (long)j * LB.S1;
            float sum = 0f;
            if (dense)
                sum = TensorPrimitives.Dot(new ReadOnlySpan<float>(row, k), new ReadOnlySpan<float>(other, k));
            else
                for (int c = 0; c < k; c++)
                    sum += row[(long)c * LA.S2] * other[(long)c * LB.S2];
            o[(long)j * LO.S2] = sum * Scale;
        }
    }
}
