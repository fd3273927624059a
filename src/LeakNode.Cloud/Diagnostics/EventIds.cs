namespace LeakNode.Cloud.Diagnostics;

/// <summary>Every log event id of the cloud, in one place so that none is used twice (as YARP keeps its own).</summary>
internal static class EventIds
{
    // Host: 100s
    public const int Started = 100;
    public const int Stopping = 101;
    public const int Stopped = 102;
    public const int MasterKeyCreated = 103;
    public const int DeploymentKeyCreated = 104;
    public const int AdminKeyGenerated = 105;
    public const int AdminKeyConfigured = 106;
    public const int SchemaMigrated = 107;

    // Leaks: 1000s
    public const int LeakCreated = 1000;
    public const int LeakTransition = 1001;
    public const int LeakEdited = 1002;
    public const int RuleVersion = 1003;
    public const int TokensAdded = 1004;
    public const int RuleSignalListening = 1010;
    public const int RuleSignalFailed = 1011;
    public const int RuleSignalNotifyFailed = 1012;

    // Access: 2000s
    public const int ApiKeyCreated = 2000;
    public const int ApiKeyRejected = 2001;
    public const int ApiKeyRevoked = 2002;
    public const int AdminUserGenerated = 2010;
    public const int AdminUserConfigured = 2011;
    public const int UserCreated = 2012;
    public const int UserDeleted = 2013;

    // Nodes: 3000s
    public const int NodeEnrolled = 3000;
    public const int NodeRevoked = 3001;
    public const int NodeRefusedRules = 3002;

    // Attacks: 4000s
    public const int AttacksStored = 4000;
    public const int AttacksDropped = 4001;
    public const int AttackMaintenance = 4010;
    public const int AttackMaintenanceFailed = 4011;

    // Node protocol (Sync): 5000s
    public const int NodeConnected = 5000;
    public const int NodeDisconnected = 5001;
    public const int NodeCallRefused = 5002;
    public const int NodeStreamsEnded = 5003;
    public const int RevocationCheckFailed = 5004;
    public const int DisconnectNotRecorded = 5005;
    public const int NodeStreamFailed = 5006;
    public const int SnapshotSent = 5010;
    public const int DeltaSent = 5011;
    public const int VersionApplied = 5012;
    public const int VersionRefused = 5013;
    public const int UnexpectedAck = 5014;
    public const int AckTimedOut = 5015;
    public const int EventBatchStored = 5020;
    public const int EventsSkipped = 5021;
    public const int EventsDropped = 5022;

    // Notifications: 6000s
    public const int NotificationDelivered = 6000;
    public const int NotificationRetry = 6001;
    public const int NotificationFailed = 6002;
    public const int NotificationWorkerFailed = 6003;
    public const int IntegrationChanged = 6010;

    // Inventory: 8000s
    public const int InventoryKeyCreated = 8000;
    public const int InventoryAdded = 8001;
    public const int InventoryRemoved = 8002;
    public const int InventoryKeyHandedOut = 8003;
    public const int InventoryDigestsHandedOut = 8004;

    // Scan sources and findings: 8100s
    public const int FindingsFiled = 8100;
    public const int SourceScanStarted = 8101;
    public const int SourceScanFinished = 8102;
    public const int SourceScanFailed = 8103;
    public const int SourceClaimLost = 8104;
    public const int ScanWorkerFailed = 8105;
    public const int SourceChanged = 8110;
}
