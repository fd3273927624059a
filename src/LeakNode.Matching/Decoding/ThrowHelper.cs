using System.Diagnostics.CodeAnalysis;

namespace LeakNode.Matching.Decoding;

/// <summary>Keeps the throw sites out of the decoders' hot methods.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void DestinationTooSmall(string paramName, long needed) =>
        throw new ArgumentException($"The destination must hold at least {needed} bytes.", paramName);
}
