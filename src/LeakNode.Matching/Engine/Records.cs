using System.Runtime.InteropServices;
using LeakNode.Matching.Rules;

namespace LeakNode.Matching.Engine;

/// <summary>One token as the matcher keeps it: 32 bytes, no plaintext.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal struct TokenRecord
{
    /// <summary>First 8 bytes of the truncated HMAC, as read little-endian.</summary>
    public ulong Hmac0;

    /// <summary>Last 8 bytes of the truncated HMAC.</summary>
    public ulong Hmac1;

    public int Leak;
    public int IdRef;
    public ushort Length;

    /// <summary>Offset in the token of the window of anchor 0; anchor j is the window at AnchorOffset + j.</summary>
    public ushort AnchorOffset;

    /// <summary>
    /// The low 16 bits of the hashes of the first and last anchors' windows. A candidate found through one anchor
    /// is checked against another before its HMAC: at a million tokens the 32-bit anchor hashes of traffic
    /// windows meet some anchor's hash hundreds of times a megabyte, and this check turns away all but one in
    /// 65,536 of those for two table-free window reads instead of an HMAC each.
    /// </summary>
    public ushort CheckFirst;

    /// <inheritdoc cref="CheckFirst"/>
    public ushort CheckLast;
}

/// <summary>One leak: its id, its action, and the contiguous run of its tokens.</summary>
internal struct LeakRecord
{
    public int IdRef;
    public int FirstToken;
    public int TokenCount;
    public RuleAction Action;

    /// <summary>Removed leaks stay (their anchors too) until the next compaction; hits on them are dropped.</summary>
    public bool Removed;
}
