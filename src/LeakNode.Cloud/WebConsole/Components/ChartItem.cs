using System.Globalization;

namespace LeakNode.Cloud.WebConsole.Components;

/// <summary>One segment of a donut or one bar: <see cref="Key"/> is what a click reports (a risk level, a source kind).</summary>
public sealed record ChartItem(string Key, string Label, long Value, string Color);

/// <summary>Numbers for SVG attributes: invariant, whatever the culture, or "1,5" breaks the drawing.</summary>
internal static class Svg
{
    public static string N(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
