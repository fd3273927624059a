using System.Text;
using LeakNode.Matching;

namespace LeakNode.Node.Inspection;

/// <summary>
/// Masks every leaked token in a text that goes into an event or a log (a request's host or path can hold one),
/// replacing it with its preview in brackets. Only called when an event is made.
/// </summary>
internal static class Redactor
{
    public static string Redact(TokenMatcher matcher, string text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text;
        }
        var bytes = Encoding.UTF8.GetBytes(text);
        var matches = matcher.FindAll(bytes);
        if (matches.Count == 0)
        {
            return text;
        }

        // Mark every byte any match covers (matches may overlap), then copy the rest and one mask per run.
        var covered = new int[bytes.Length];
        Array.Fill(covered, -1);
        foreach (var match in matches)
        {
            for (var i = match.Offset; i < match.Offset + match.Length; i++)
            {
                covered[i] = match.Token;
            }
        }
        var output = new StringBuilder();
        for (var i = 0; i < bytes.Length;)
        {
            if (covered[i] < 0)
            {
                var end = i;
                while (end < bytes.Length && covered[end] < 0)
                {
                    end++;
                }
                output.Append(Encoding.UTF8.GetString(bytes, i, end - i));
                i = end;
                continue;
            }
            var token = covered[i];
            output.Append('[').Append(matcher.GetTokenPreview(token) ?? "…").Append(']');
            while (i < bytes.Length && covered[i] >= 0)
            {
                i++;
            }
        }
        return output.ToString();
    }
}
