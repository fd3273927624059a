using System.Buffers;
using System.Text;
using LeakNode.Matching.Decoding;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace LeakNode.Node.Inspection;

/// <summary>
/// Lays out the parts of a request an API may read a credential from — the target and every header — in a
/// <see cref="ScanBlock"/>, raw and decoded as the upstream would decode them: the path percent-decoded, each
/// query value percent-decoded with <c>+</c> as space, Basic credentials base64-decoded, each cookie value
/// percent-decoded. The raw target and header lines are always there too, so an encoding we do not know still
/// matches plain occurrences.
/// </summary>
internal static class RequestParts
{
    public const string Path = "path";
    public const string Query = "query";
    public const string Target = "target";
    public const string Header = "header";
    public const string Cookie = "cookie";

    /// <summary>Adds the request target. Returns whether a percent-escape was malformed.</summary>
    public static bool AddTarget(HttpContext context, ScanBlock block)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw))
        {
            raw = context.Request.Path.ToUriComponent() + context.Request.QueryString.ToUriComponent();
        }

        var scratch = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(raw.Length));
        try
        {
            var target = scratch.AsSpan(0, Encoding.UTF8.GetBytes(raw, scratch));

            // The raw target, as one generic part: what no specific part below explains is found here.
            block.Add(target, Target, generic: true);

            var malformed = false;
            var question = target.IndexOf((byte)'?');
            var path = question < 0 ? target : target[..question];

            // The path, percent-decoded (a token may sit in a path segment, escaped or not).
            var decoded = block.Open(path.Length, out var pathStart);
            malformed |= PercentDecoder.Decode(path, decoded, out var written) == DecodeStatus.Malformed;
            block.Commit(pathStart, written, Path);

            var query = question < 0 ? [] : target[(question + 1)..];
            while (!query.IsEmpty)
            {
                var amp = query.IndexOf((byte)'&');
                var pair = amp < 0 ? query : query[..amp];
                query = amp < 0 ? [] : query[(amp + 1)..];
                if (pair.IsEmpty)
                {
                    continue;
                }
                var eq = pair.IndexOf((byte)'=');
                var name = eq < 0 ? pair : pair[..eq];
                var value = eq < 0 ? [] : pair[(eq + 1)..];

                // The name, decoded, names the value's location; the value goes in raw and decoded.
                var nameBytes = block.Open(name.Length, out var nameStart);
                malformed |= PercentDecoder.Decode(name, nameBytes, out var nameLength, plusAsSpace: true) == DecodeStatus.Malformed;
                block.Commit(nameStart, nameLength, Query, generic: true);
                block.AddNamedBy(value, Query, nameStart, nameLength);
                var valueBytes = block.Open(value.Length, out var valueStart);
                malformed |= PercentDecoder.Decode(value, valueBytes, out var valueLength, plusAsSpace: true) == DecodeStatus.Malformed;
                block.CommitNamedBy(valueStart, valueLength, Query, nameStart, nameLength);
            }
            return malformed;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>Adds every header value, Basic credentials decoded, and cookies. Returns whether base64 or a cookie's escapes were malformed.</summary>
    public static bool AddHeaders(HttpContext context, ScanBlock block)
    {
        var malformed = false;
        foreach (var (name, values) in context.Request.Headers)
        {
            foreach (var value in values)
            {
                if (value is null)
                {
                    continue;
                }
                // The raw Cookie line is generic: a token in it is better named by the cookie that holds it.
                var cookie = string.Equals(name, HeaderNames.Cookie, StringComparison.OrdinalIgnoreCase);
                block.Add(value, Header, name, generic: cookie);

                if (string.Equals(name, HeaderNames.Authorization, StringComparison.OrdinalIgnoreCase))
                {
                    malformed |= AddBasicCredentials(value, block);
                }
                else if (cookie)
                {
                    malformed |= AddCookies(value, block);
                }
            }
        }
        return malformed;
    }

    private static bool AddBasicCredentials(string value, ScanBlock block)
    {
        if (!value.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var header = Encoding.ASCII.GetBytes(value);
        var output = block.Open(Base64Decoder.GetMaxDecodedLength(header.Length), out var start);
        if (Base64Decoder.TryDecodeBasicCredentials(header, output, out var written, out var status))
        {
            block.Commit(start, written, Header, HeaderNames.Authorization);
        }
        else
        {
            block.Commit(start, 0, Header, HeaderNames.Authorization);
        }
        return status == DecodeStatus.Malformed;
    }

    private static bool AddCookies(string value, ScanBlock block)
    {
        var scratch = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(value.Length));
        try
        {
            var malformed = false;
            var text = scratch.AsSpan(0, Encoding.UTF8.GetBytes(value, scratch));
            while (!text.IsEmpty)
            {
                var semicolon = text.IndexOf((byte)';');
                var pair = (semicolon < 0 ? text : text[..semicolon]).Trim((byte)' ');
                text = semicolon < 0 ? [] : text[(semicolon + 1)..];
                var eq = pair.IndexOf((byte)'=');
                if (eq <= 0)
                {
                    continue;
                }
                var cookie = pair[(eq + 1)..].Trim((byte)'"');
                block.Add(pair[..eq], Cookie, generic: true);
                var nameStart = block.Length - eq - 2;
                block.AddNamedBy(cookie, Cookie, nameStart, eq);
                var decoded = block.Open(cookie.Length, out var start);
                malformed |= PercentDecoder.Decode(cookie, decoded, out var written) == DecodeStatus.Malformed;
                block.CommitNamedBy(start, written, Cookie, nameStart, eq);
            }
            return malformed;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }
}
