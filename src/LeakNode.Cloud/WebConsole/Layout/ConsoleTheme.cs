using MudBlazor;

namespace LeakNode.Cloud.WebConsole.Layout;

/// <summary>The console's colours: one theme for every page, the risk levels' colours in one place.</summary>
public static class ConsoleTheme
{
    public static readonly MudTheme Theme = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#1e3a5f",
            Secondary = "#c2185b",
            AppbarBackground = "#1e3a5f",
            Background = "#f5f6f8",
            DrawerBackground = "#ffffff",
        },
        LayoutProperties = new LayoutProperties { DefaultBorderRadius = "6px" },
    };

    /// <summary>A colour per risk level, from calm to alarming; the donut and the chips use the same ones.</summary>
    public static string RiskColor(string level) => level switch
    {
        "low" => "#66bb6a",
        "medium" => "#ffa726",
        "high" => "#ef5350",
        _ => "#8e24aa",
    };

    public static Color StatusColor(string status) => status switch
    {
        "open" => Color.Error,
        "closed" => Color.Success,
        _ => Color.Default,
    };
}
