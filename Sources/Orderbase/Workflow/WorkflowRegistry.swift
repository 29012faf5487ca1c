import OrderbaseStore

/// A tenant's workflows in memory: each key's head (latest version, archived)
/// and every version compiled so far. Versions are immutable once written, so
/// a compiled version is cached for the life of the tenant; heads change only
/// under the tenant write lock, through `WriteContext.onStaged`.
final class WorkflowRegistry: @unchecked Sendable {
    struct Head: Sendable, Equatable {
        var version: Int64
        var archived: Bool
    }

    private let lock = Mutex()
    private var heads: [String: Head]?          // nil until first loaded
    private var compiled: [String: Workflow] = [:]
    /// Latest versions that assign themselves to new orders, in the order they are tried.
    private var assigners: [Workflow]?

    /// Every head, loading them from the database the first time.
    func heads(_ core: TenantCore) throws(OrderbaseError) -> [String: Head] {
        if let h = lock.withLock({ heads }) { return h }
        var loaded: [String: Head] = [:]
        try core.scan(from: [Keyspace.workflowHead], to: [Keyspace.workflowHead + 1]) { k, v throws(OrderbaseError) in
            var r = KeyReader(Array(k))
            guard let key = r.string(), case .object(let o)? = try? JSON.parse(Array(v)),
                  case .int(let version)? = o["version"], case .bool(let archived)? = o["archived"] else {
                throw OrderbaseError(.corruption, "workflow head does not decode")
            }
            loaded[key] = Head(version: version, archived: archived)
            return true
        }
        return lock.withLock {
            if heads == nil { heads = loaded }
            return heads!
        }
    }

    /// The head of `key`; the default workflow always has one (built-in version 1).
    func head(_ core: TenantCore, _ key: String) throws(OrderbaseError) -> Head? {
        if let h = try heads(core)[key] { return h }
        return key == Workflow.defaultKey ? Head(version: 1, archived: false) : nil
    }

    /// One version, compiled (read through the committer, so a version staged
    /// by an earlier command is found before it is on disk).
    func version(_ core: TenantCore, _ key: String, _ version: Int64) throws(OrderbaseError) -> Workflow {
        let id = key + "\u{0}" + String(version)
        if let w = lock.withLock({ compiled[id] }) { return w }
        let w: Workflow
        if let bytes = try store({ () throws(StoreError) in try core.committer.read(Keyspace.workflowKey(key, version)) }) {
            w = try Workflow.decode(bytes)
        } else if key == Workflow.defaultKey && version == 1 {
            w = Workflow.builtInDefault
        } else {
            throw OrderbaseError(.notFound, "no workflow \(key) version \(version)", field: "key")
        }
        lock.withLock { compiled[id] = w }
        return w
    }

    func latest(_ core: TenantCore, _ key: String) throws(OrderbaseError) -> Workflow {
        guard let h = try head(core, key) else { throw OrderbaseError(.notFound, "no workflow \(key)", field: "key") }
        var w = try version(core, key, h.version)
        w.archived = h.archived
        return w
    }

    /// The workflows tried, in order, for a new order: not archived, not the
    /// default, with `applies_to`; higher priority first, then by key.
    func assigners(_ core: TenantCore) throws(OrderbaseError) -> [Workflow] {
        if let a = lock.withLock({ assigners }) { return a }
        var out: [Workflow] = []
        for (key, h) in try heads(core) where !h.archived && key != Workflow.defaultKey {
            let w = try version(core, key, h.version)
            if w.hasAssignment { out.append(w) }
        }
        out.sort { ($0.priority, $1.key) > ($1.priority, $0.key) }
        lock.withLock { assigners = out }
        return out
    }

    /// Records a new head (called from `onStaged`).
    func setHead(_ key: String, _ head: Head, compiled w: Workflow?) {
        lock.withLock {
            heads?[key] = head
            if let w { compiled[key + "\u{0}" + String(w.version)] = w }
            assigners = nil
        }
    }
}
