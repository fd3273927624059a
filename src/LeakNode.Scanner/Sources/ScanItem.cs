using LeakNode.Scanner.Detection;

namespace LeakNode.Scanner.Sources;

/// <summary>One document to scan: its origin and its bytes.</summary>
internal readonly record struct ScanItem(DocumentOrigin Origin, byte[] Content);
