using System.Buffers;
using System.IO.Pipelines;
using LeakNode.Matching;
using LeakNode.Matching.Decoding;
using LeakNode.Node.Configuration;
using LeakNode.Node.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace LeakNode.Node.Inspection;

/// <summary>What became of a body.</summary>
internal enum BodyOutcome
{
    /// <summary>Read whole and inspected; forwarded from <see cref="BodyBuffer"/>.</summary>
    Inspected,

    /// <summary>Larger than allowed and the policy is to reject it.</summary>
    TooLarge,

    /// <summary>Larger than allowed; its first bytes were inspected and the rest streams through.</summary>
    Prefix,
}

/// <summary>
/// Reads a request body through its <see cref="PipeReader"/> and inspects it as it arrives: the raw bytes always,
/// and, by content type, JSON with its string escapes undone or a form with its percent-escapes undone, both
/// streaming; once the body is whole, a compressed body inflated (within <c>MaxDecodedBytes</c>) and inspected
/// the same way, and a multipart body part by part. Bytes are held in a <see cref="BodyBuffer"/> to be forwarded
/// unchanged.
/// </summary>
internal static class BodyInspector
{
    private const string Body = "body";
    private const string Json = "body:json";
    private const string Form = "body:form";
    private const string Multipart = "body:multipart";

    private static readonly System.Buffers.SearchValues<byte> EscapeJson = System.Buffers.SearchValues.Create("\\"u8);
    private static readonly System.Buffers.SearchValues<byte> EscapeForm = System.Buffers.SearchValues.Create("%+"u8);

    public static async ValueTask<BodyOutcome> InspectAsync(
        HttpContext context, TokenMatcher matcher, InspectionContext work, BodyBuffer body, InspectionOptions options, NodeMetrics metrics)
    {
        var request = context.Request;
        var max = options.MaxBodyBytes;
        var kind = KindOf(request.ContentType);
        var codings = Array.Empty<ContentCoding>();
        var codingCount = 0;
        var encoded = request.Headers.ContentEncoding.Count > 0;
        if (encoded)
        {
            codings = new ContentCoding[ContentEncodingHeader.MaxCodings];
        }
        if (encoded && !ContentEncodingHeader.TryParse(request.Headers.ContentEncoding.ToString(), codings, out codingCount))
        {
            // A coding we cannot undo: its raw bytes are all we can inspect.
            work.Malformed = true;
            metrics.MalformedEncodings.Add(1, new KeyValuePair<string, object?>("encoding", "content-encoding"));
            encoded = false;
        }
        encoded &= codingCount > 0;

        using var raw = matcher.RentScanner();
        var rawSink = new LocationSink(work.Detections, kind == BodyKind.Other ? Body : LocationOf(kind), generic: true);

        // A JSON body without a backslash, or a form without '%' or '+', reads the same decoded: the raw scan has
        // found whatever the decoded one would. Most bodies are like that, so the decoder runs afterwards over
        // the held bytes, and only when an escape was seen (it halves the work on a typical JSON body).
        var escape = kind switch
        {
            BodyKind.Json => EscapeJson,
            BodyKind.Form => EscapeForm,
            _ => default,
        };
        var escaped = false;

        var reader = request.BodyReader;
        long total = 0;
        long inspected = 0;
        var outcome = BodyOutcome.Inspected;
        while (true)
        {
            var result = await reader.ReadAsync(context.RequestAborted);
            var buffer = result.Buffer;
            foreach (var memory in buffer)
            {
                body.Append(memory.Span);
            }
            total += buffer.Length;
            reader.AdvanceTo(buffer.End);
            if (total > max)
            {
                outcome = options.BodyTooLarge == BodyTooLargePolicy.Reject ? BodyOutcome.TooLarge : BodyOutcome.Prefix;
                if (outcome == BodyOutcome.TooLarge)
                {
                    break;
                }
            }

            // The new bytes are scanned where they now sit, a 16 KiB block at a time, not segment by segment as
            // the pipe delivered them (4 KiB or less): every scanner call has a fixed cost per stride group.
            var upTo = Math.Min(total, max);
            while (inspected < upTo)
            {
                var span = body.Contiguous(inspected, upTo - inspected);
                raw.Write(span, ref rawSink);
                escaped = escaped || (escape is not null && span.IndexOfAny(escape) >= 0);
                inspected += span.Length;
            }
            if (outcome != BodyOutcome.Inspected || result.IsCompleted)
            {
                break;
            }
        }
        metrics.BytesInspected.Add(Math.Min(total, max), new KeyValuePair<string, object?>("part", "body"));
        if (outcome == BodyOutcome.TooLarge)
        {
            metrics.BodiesTooLarge.Add(1, new KeyValuePair<string, object?>("policy", "reject"));
            return outcome;
        }
        if (outcome == BodyOutcome.Prefix)
        {
            metrics.BodiesTooLarge.Add(1, new KeyValuePair<string, object?>("policy", "prefix"));
        }

        var held = body.AsSequence().Slice(0, Math.Min(body.Length, max));
        using var decoded = encoded || escaped ? matcher.RentScanner() : null;
        var decoder = decoded is null ? null : new StreamingDecoder(kind, work, decoded, metrics);
        if (encoded)
        {
            // The bytes held (for prefix: the inspected part only; a cut stream decodes as far as it goes).
            var compressed = held;
            using var inflated = matcher.RentScanner();
            var sink = new InflatedSink(decoder!, work, inflated, kind == BodyKind.Other ? Body : LocationOf(kind));
            var limits = new InflateLimits { MaxOutputBytes = options.MaxDecodedBytes, MaxRatio = options.MaxDecodedRatio };
            var status = Inflater.Inflate(codings.AsSpan(0, codingCount), compressed, limits, ref sink);
            decoder!.Write([], isFinal: true);
            metrics.BytesInspected.Add(sink.Bytes, new KeyValuePair<string, object?>("part", "decoded"));
            if (status == DecodeStatus.Malformed)
            {
                work.Malformed = true;
                metrics.MalformedEncodings.Add(1, new KeyValuePair<string, object?>("encoding", "compression"));
            }
            else if (status == DecodeStatus.LimitExceeded)
            {
                metrics.BodiesTooLarge.Add(1, new KeyValuePair<string, object?>("policy", options.BodyTooLarge == BodyTooLargePolicy.Reject ? "reject" : "prefix"));
                if (options.BodyTooLarge == BodyTooLargePolicy.Reject)
                {
                    return BodyOutcome.TooLarge;
                }
                outcome = BodyOutcome.Prefix;
            }
        }
        else if (decoder is not null)
        {
            foreach (var segment in held)
            {
                decoder.Write(segment.Span, isFinal: false);
            }
            decoder.Write([], isFinal: true);
        }

        if (kind == BodyKind.Multipart && outcome == BodyOutcome.Inspected)
        {
            await InspectMultipartAsync(request.ContentType!, body, matcher, work, options, metrics);
        }
        return outcome;
    }

    internal static BodyKind KindOf(string? contentType)
    {
        if (contentType is null || !MediaTypeHeaderValue.TryParse(contentType, out var media) || media.MediaType.Value is not { } type)
        {
            return BodyKind.Other;
        }
        if (type.Equals("application/json", StringComparison.OrdinalIgnoreCase) || type.EndsWith("+json", StringComparison.OrdinalIgnoreCase)
            || type.Equals("text/json", StringComparison.OrdinalIgnoreCase))
        {
            return BodyKind.Json;
        }
        if (type.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            return BodyKind.Form;
        }
        if (type.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase))
        {
            return BodyKind.Multipart;
        }
        return BodyKind.Other;
    }

    private static string LocationOf(BodyKind kind) => kind switch
    {
        BodyKind.Json => Json,
        BodyKind.Form => Form,
        BodyKind.Multipart => Multipart,
        _ => Body,
    };

    private static async Task InspectMultipartAsync(
        string contentType, BodyBuffer body, TokenMatcher matcher, InspectionContext work, InspectionOptions options, NodeMetrics metrics)
    {
        var boundary = MediaTypeHeaderValue.Parse(contentType).Boundary;
        var unquoted = HeaderUtilities.RemoveQuotes(boundary).Value;
        if (string.IsNullOrEmpty(unquoted))
        {
            work.Malformed = true;
            metrics.MalformedEncodings.Add(1, new KeyValuePair<string, object?>("encoding", "multipart"));
            return;
        }

        try
        {
            using var stream = new InspectedBodyStream(body.AsSequence(), null);
            var reader = new MultipartReader(unquoted, stream) { BodyLengthLimit = options.MaxBodyBytes };
            using var scanner = matcher.RentScanner();
            using var decodedScanner = matcher.RentScanner();
            var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                for (var section = await reader.ReadNextSectionAsync(); section is not null; section = await reader.ReadNextSectionAsync())
                {
                    var name = section.AsFormDataSection()?.Name ?? section.AsFileSection()?.Name;
                    var location = string.IsNullOrEmpty(name) ? Multipart : $"{Multipart}:{name}";
                    var sink = new LocationSink(work.Detections, location, generic: false);

                    // The part's own headers (a token in a Content-Disposition filename, say), then its content,
                    // decoded by the part's own content type.
                    scanner.Reset();
                    foreach (var (header, values) in section.Headers ?? [])
                    {
                        var line = System.Text.Encoding.UTF8.GetBytes($"{header}: {values}\r\n");
                        scanner.Write(line, ref sink);
                    }
                    scanner.Reset();
                    var decoder = new StreamingDecoder(KindOf(section.ContentType), work, decodedScanner, metrics, location);
                    for (int read; (read = await section.Body.ReadAsync(chunk)) > 0;)
                    {
                        scanner.Write(chunk.AsSpan(0, read), ref sink);
                        decoder.Write(chunk.AsSpan(0, read), isFinal: false);
                    }
                    decoder.Write([], isFinal: true);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(chunk);
            }
        }
        catch (Exception error) when (error is IOException or InvalidDataException or FormatException)
        {
            // A broken multipart body: its raw bytes were inspected already.
            work.Malformed = true;
            metrics.MalformedEncodings.Add(1, new KeyValuePair<string, object?>("encoding", "multipart"));
        }
    }

    /// <summary>Undoes a body's own escapes as the bytes arrive (JSON string escapes, form percent-escapes) and scans the result.</summary>
    private sealed class StreamingDecoder(BodyKind kind, InspectionContext work, MatchScanner scanner, NodeMetrics metrics, string? location = null)
    {
        private readonly LocationSink _sink = new(work.Detections, location ?? LocationOf(kind), generic: false);
        private JsonEscapeDecoder _json;
        private PercentDecoder _form = new(plusAsSpace: true);
        private bool _malformed;

        public void Write(ReadOnlySpan<byte> bytes, bool isFinal)
        {
            if (kind is not (BodyKind.Json or BodyKind.Form))
            {
                return;
            }
            while (!bytes.IsEmpty || isFinal)
            {
                var take = Math.Min(bytes.Length, 16 * 1024);
                var output = work.ScratchFor(take + JsonEscapeDecoder.MaxPendingBytes);
                var status = kind == BodyKind.Json
                    ? _json.DecodeChunk(bytes[..take], output, out var written, isFinal)
                    : _form.DecodeChunk(bytes[..take], output, out written, isFinal);
                if (status == DecodeStatus.Malformed && !_malformed)
                {
                    _malformed = true;
                    work.Malformed = true;
                    metrics.MalformedEncodings.Add(1, new KeyValuePair<string, object?>("encoding", kind == BodyKind.Json ? "json" : "form"));
                }
                var sink = _sink;
                scanner.Write(output.AsSpan(0, written), ref sink);
                bytes = bytes[take..];
                if (isFinal)
                {
                    break;
                }
            }
        }
    }

    /// <summary>Receives an inflated body: scans it raw (under the body's location) and through its content type's decoder.</summary>
    private struct InflatedSink(StreamingDecoder decoder, InspectionContext work, MatchScanner scanner, string location) : IDecodedSink
    {
        public long Bytes;

        public void OnDecoded(ReadOnlySpan<byte> chunk)
        {
            Bytes += chunk.Length;
            var sink = new LocationSink(work.Detections, location, generic: true);
            scanner.Write(chunk, ref sink);
            decoder.Write(chunk, isFinal: false);
        }
    }
}

internal enum BodyKind
{
    Other,
    Json,
    Form,
    Multipart,
}
