namespace Ellsa.Runtime; internal static class Placeholder {}
