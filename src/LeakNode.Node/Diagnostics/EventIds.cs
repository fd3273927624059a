namespace LeakNode.Node.Diagnostics;

/// <summary>Every log event id of the node, in one place so that none is used twice (as YARP keeps its own).</summary>
internal static class EventIds
{
    // Host: 100s
    public const int Started = 100;
    public const int Stopping = 101;
    public const int KeyCreated = 102;
    public const int Stopped = 103;

    // Rules: 1000s
    public const int RulesLoaded = 1000;
    public const int RulesRefused = 1001;
    public const int RulesFileChanged = 1002;
    public const int RulesReloadFailed = 1003;

    // Inspection: 2000s
    public const int RequestBlocked = 2000;
    public const int BodyTooLarge = 2001;
    public const int MalformedEncoding = 2002;
    public const int RefusedBeforeRules = 2003;
    public const int InspectionFailed = 2004;

    // Events: 3000s
    public const int AttackEvent = 3000;
    public const int EventsDropped = 3001;
    public const int EventsShipping = 3002;
    public const int EventsSpooled = 3003;
    public const int SpoolFull = 3004;
    public const int ShippingFailed = 3005;
    public const int SpoolDelivered = 3006;
    public const int SpoolUnreadable = 3007;
    public const int ShippingUnexpected = 3008;
    public const int SpoolWriteFailed = 3009;

    // Cloud rule sync: 4000s
    public const int CloudConnecting = 4000;
    public const int CloudConnected = 4001;
    public const int CloudDisconnected = 4002;
    public const int CloudTokenRefused = 4003;
    public const int CloudProtocolError = 4004;
    public const int RuleVersionApplied = 4005;
    public const int RuleVersionRefused = 4006;
    public const int DeploymentKeyChanged = 4007;
    public const int RuleCacheLoaded = 4008;
    public const int RuleCacheUnusable = 4009;
    public const int RuleCacheCompacted = 4010;
    public const int RuleCacheWriteFailed = 4011;
    public const int CloudRetrying = 4012;
    public const int CloudUnexpected = 4013;
    public const int RuleCacheCompactionFailed = 4014;
}
