namespace LeakNode.Scanner.Detection;

/// <summary>Shannon entropy in bits a character, the measure gitleaks' <c>entropy</c> field thresholds.</summary>
public static class ShannonEntropy
{
    /// <summary>The entropy of <paramref name="text"/>'s character distribution; 0 for an empty string.</summary>
    public static double Of(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return 0;
        }

        // Secrets are ASCII in practice: a 128-slot table counts them without a dictionary; the rest share a map.
        Span<int> ascii = stackalloc int[128];
        Dictionary<char, int>? other = null;
        foreach (var c in text)
        {
            if (c < 128)
            {
                ascii[c]++;
            }
            else
            {
                other ??= [];
                other[c] = other.GetValueOrDefault(c) + 1;
            }
        }

        double length = text.Length;
        var entropy = 0.0;
        foreach (var count in ascii)
        {
            if (count > 0)
            {
                var p = count / length;
                entropy -= p * Math.Log2(p);
            }
        }
        if (other is not null)
        {
            foreach (var count in other.Values)
            {
                var p = count / length;
                entropy -= p * Math.Log2(p);
            }
        }
        return entropy;
    }
}
