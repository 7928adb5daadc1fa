using System.ComponentModel;
using ModelContextProtocol.Server;

namespace PolicyEngine.Samples.HttpGateway;

/// <summary>The gateway's tools; the policy decides who may call them and how often.</summary>
[McpServerToolType]
public sealed class GatewayTools
{
    private static readonly string[] Skies = ["sunny", "cloudy", "rainy", "windy"];

    [McpServerTool(Name = "echo"), Description("Returns the message unchanged.")]
    public static string Echo(string message) => message;

    [McpServerTool(Name = "get_forecast"), Description("Returns a (made up) forecast for a city.")]
    public static string GetForecast(string city) =>
        $"{city}: {Skies[(int)((uint)StringComparer.Ordinal.GetHashCode(city) % Skies.Length)]}";

    [McpServerTool(Name = "export_report"), Description("Exports a report (analysts only, with a person's approval).")]
    public static string ExportReport(string name) => $"report '{name}' exported";

    [McpServerTool(Name = "transfer_funds"), Description("Transfers an amount (in cents) to an account; an approver must approve each transfer.")]
    public static string TransferFunds(string to, long amount, string? memo = null) => $"transferred {amount} to {to}";

    [McpServerTool(Name = "internal_stats"), Description("Internal statistics. Hidden by the sample policy.")]
    public static string InternalStats() => "requests: 42";
}
