using System.Text;

namespace LeakNode.Matching.Engine;

/// <summary>
/// Leak and token ids as length-prefixed UTF-8 in shared pages: about 25 bytes an id where a <see cref="string"/>
/// would cost 60 or more, which matters at a million tokens. A string is made only when a match is reported.
/// </summary>
internal sealed class IdStore
{
    // 16 KiB pages: an id (at most 255 bytes) never straddles a page and wastes at most 1.6 % of one, and a fork
    // copies little.
    internal const int PageBits = 14;

    private readonly PagedStore<byte> _bytes;

    public IdStore() => _bytes = new PagedStore<byte>(PageBits);

    private IdStore(PagedStore<byte> bytes) => _bytes = bytes;

    public long Bytes => _bytes.Bytes;

    public IdStore Fork() => new(_bytes.Fork());

    public void Freeze() => _bytes.Freeze();

    /// <summary>Stores an id, and optionally a short text that goes with it (a token's preview), and returns its reference.</summary>
    public int Add(string id, string? attached = null)
    {
        Span<byte> buffer = stackalloc byte[2 * 256];
        var length = Encoding.UTF8.GetBytes(id, buffer[1..]);
        buffer[0] = checked((byte)length);
        var total = length + 1;
        var attachedLength = attached is null ? 0 : Encoding.UTF8.GetBytes(attached, buffer[(total + 1)..]);
        buffer[total] = checked((byte)attachedLength);
        total += attachedLength + 1;
        return _bytes.AppendContiguous(buffer[..total]);
    }

    /// <summary>The text stored with an id, or null when there is none.</summary>
    public string? GetAttached(int reference)
    {
        var at = reference + 1 + _bytes[reference];
        var length = _bytes[at];
        return length == 0 ? null : Encoding.UTF8.GetString(_bytes.Slice(at + 1, length));
    }

    /// <summary>The UTF-8 bytes of a stored id.</summary>
    public ReadOnlySpan<byte> Utf8(int reference)
    {
        var length = _bytes[reference];
        return _bytes.Slice(reference + 1, length);
    }

    public string Get(int reference) => Encoding.UTF8.GetString(Utf8(reference));

    /// <summary>A hash of an id's UTF-8 bytes, the same whether computed from a string or from the store.</summary>
    public static int Hash(ReadOnlySpan<byte> utf8)
    {
        var hash = default(HashCode);
        hash.AddBytes(utf8);
        return hash.ToHashCode();
    }

    public static int Hash(string id, Span<byte> scratch, out ReadOnlySpan<byte> utf8)
    {
        var length = Encoding.UTF8.GetBytes(id, scratch);
        utf8 = scratch[..length];
        return Hash(utf8);
    }
}
