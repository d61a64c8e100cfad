namespace Ellsa.Kernels; internal static class Placeholder {}
