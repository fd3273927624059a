using Grpc.Core;
using LeakNode.Protocol;
using LeakNode.Protocol.V1;

namespace LeakNode.Cloud.Sync;

/// <summary>
/// Every status the node protocol ends a call with. The messages are written for the log of the node that gets
/// them: each says what is wrong and what to do, and none carries the token.
/// </summary>
internal static class NodeSyncErrors
{
    public static RpcException MissingToken() => new(new Status(StatusCode.Unauthenticated,
        "node token unknown: the call carries no 'authorization: Bearer <node token>' metadata; "
        + "set Cloud:Token to the token from POST /api/v1/nodes"));

    public static RpcException UnknownToken() => new(new Status(StatusCode.Unauthenticated,
        "node token unknown: no node of this cloud has this token; enrol the node with POST /api/v1/nodes and set Cloud:Token to the token it answers"));

    public static RpcException RevokedToken(NodeIdentity node) => new(new Status(StatusCode.PermissionDenied,
        $"node token revoked: node '{node.Name}' ({node.Id}) may no longer connect; enrol it again with POST /api/v1/nodes for a new token"));

    public static RpcException RevokedWhileConnected(NodeIdentity node) => new(new Status(StatusCode.PermissionDenied,
        $"node token revoked: node '{node.Name}' ({node.Id}) was revoked while connected; enrol it again with POST /api/v1/nodes for a new token"));

    public static RpcException UnknownWhileConnected(NodeIdentity node) => new(new Status(StatusCode.Unauthenticated,
        $"node token unknown: the token of node '{node.Name}' ({node.Id}) stopped being valid while connected; enrol the node again with POST /api/v1/nodes"));

    public static RpcException HelloFirst(RulesRequest.KindOneofCase got) => new(new Status(StatusCode.InvalidArgument,
        $"SyncRules starts with a NodeHello; the first message was {Describe(got)}"));

    public static RpcException SecondHello() => new(new Status(StatusCode.InvalidArgument,
        "SyncRules takes one NodeHello, at the start; this stream had it already (reconnect to start over)"));

    public static RpcException EmptyRequest() => new(new Status(StatusCode.InvalidArgument,
        "a RulesRequest with neither hello nor ack"));

    public static RpcException BadHello(string problem) => new(new Status(StatusCode.InvalidArgument, $"NodeHello: {problem}"));

    public static RpcException AckTimeout(long version, TimeSpan timeout) => new(new Status(StatusCode.DeadlineExceeded,
        $"no ack or nack of rule version {version} within {timeout}; reconnect and say in the hello which rule version is in force"));

    public static RpcException ShuttingDown() => new(new Status(StatusCode.Unavailable,
        "the cloud is shutting down; reconnect (to another replica, or to this one once it is back)"));

    public static RpcException Unavailable(string what) => new(new Status(StatusCode.Unavailable,
        $"the cloud failed: {what}; reconnect after a backoff (the cloud's log has the cause)"));

    public static RpcException BatchTooLarge(ulong batchId, int count) => new(new Status(StatusCode.InvalidArgument,
        $"event batch {batchId} has {count} events; a batch holds at most {EventBatchLimits.MaxEventsPerBatch} (EventBatchLimits.MaxEventsPerBatch): send it in smaller batches"));

    private static string Describe(RulesRequest.KindOneofCase kind) => kind switch
    {
        RulesRequest.KindOneofCase.Ack => "an ack",
        _ => "empty",
    };
}
