using System.Globalization;
using LeakNode.Cloud.Attacks;

namespace LeakNode.Cloud.WebConsole.Components;

/// <summary>Attempts over a time range as chart bars: hourly up to two days, daily beyond, at most 90 bars.</summary>
internal static class AttemptHistogram
{
    private const int MaxBars = 90;

    public static async Task<IReadOnlyList<ChartItem>> LoadAsync(AttackStore store, AttackFilter filter, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var hourly = to - from <= TimeSpan.FromHours(48);
        var slot = hourly ? TimeSpan.FromHours(1) : TimeSpan.FromDays(1);
        var start = new DateTimeOffset(from.UtcTicks - from.UtcTicks % slot.Ticks, TimeSpan.Zero);
        var count = (int)Math.Clamp(Math.Ceiling((to - start) / slot), 1, MaxBars);
        if ((to - start) / slot > MaxBars)
        {
            start = to - slot * count;
        }
        var counts = await store.HistogramAsync(filter, start, slot, count, cancellationToken);
        var format = hourly ? "HH:mm" : "MM-dd";
        return counts.Select((value, i) =>
        {
            var at = start + slot * i;
            var label = at.UtcDateTime.ToString(format, CultureInfo.InvariantCulture);
            return new ChartItem(at.ToString("O", CultureInfo.InvariantCulture), label, value, "#e53935");
        }).ToList();
    }
}
