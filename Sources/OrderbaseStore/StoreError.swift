/// A failure below the domain: the filesystem or LevelDB.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case io, corruption, busy, notFound, invalidPath, failedState }
    public let kind: Kind
    public let message: String
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
    public var description: String { message }

    /// Classifies a LevelDB status string. LevelDB reports a LOCK file held by
    /// another process as an IO error mentioning the lock ("Resource temporarily
    /// unavailable"); that is `busy`, not an IO failure.
    static func fromLevelDB(_ text: String) -> StoreError {
        if text.hasPrefix("Corruption") { return StoreError(.corruption, text) }
        if text.contains("/LOCK") && (text.contains("temporarily unavailable") || text.contains("already held")) {
            return StoreError(.busy, "database is locked by another process")
        }
        return StoreError(.io, text)
    }
}
