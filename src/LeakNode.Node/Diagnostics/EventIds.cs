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
}
