/// A custom status workflow: the states an order can be in and the
/// transitions between them, with guards, required reasons and fields, and
/// approvals. Stored as data, versioned (an update makes a new version;
/// orders keep the version they started on), compiled once per version.
/// docs/workflows.md is the guide.
public struct Workflow: Sendable {
    public struct State: Sendable, Equatable {
        public var key: String
        public var label: String
        /// open, done or cancelled: what the state means to reports and to `orders.cancel`.
        public var category: String
        public var initial = false
        public var final = false
        static let categories = ["open", "done", "cancelled"]
    }

    /// One tier of an approval: `approvers` distinct actors holding one of
    /// `roles` (any actor when empty), required only when `when` holds.
    struct ApprovalTier: Sendable {
        var name: String?
        var approvers: Int64 = 1
        var roles: [String] = []
        var when: Expression?
    }

    struct Approval: Sendable {
        var tiers: [ApprovalTier] = []
        var allowRequester = false
        var expiresAfterSeconds: Int64?
    }

    struct Transition: Sendable {
        var name: String
        /// As written: state keys, or nil for `*` (every non-final state but the target).
        var from: [String]?
        var to: String
        var guardExpression: Expression?
        var requiresReason = false
        var requiredFields: [String] = []
        var approval: Approval?
    }

    public var key: String
    public var name: String
    public var description: String?
    public var version: Int64 = 1
    public var archived = false
    var states: [State] = []
    var transitions: [Transition] = []
    /// Assignment to new orders: channels (any when nil) and a condition.
    var appliesToChannels: [String]?
    var appliesToCondition: Expression?
    var hasAssignment: Bool { appliesToChannels != nil || appliesToCondition != nil }
    var priority: Int64 = 0
    /// Expressions that did not compile while reading (reported by `validate`).
    var expressionProblems: [WorkflowProblem] = []
    var createdAt: Int64 = 0
    var createdBy: Actor = .api

    // Derived once per version.
    private(set) var stateByKey: [String: Int] = [:]
    private(set) var byPair: [String: Int] = [:]   // "from\u{0}to" → transition index

    /// Keys REST routes use as literal path segments.
    public static let reservedKeys: Set<String> = ["validate", "simulate"]
    static let keyPattern = "a lowercase letter, then up to 63 lowercase letters, digits or underscores"
    static func isKey(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard let first = b.first, first >= 0x61, first <= 0x7A, b.count <= 64 else { return false }
        return b.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
    }

    public var initialState: String { states.first { $0.initial }?.key ?? states[0].key }
    func state(_ key: String) -> State? { stateByKey[key].map { states[$0] } }
    func transition(from: String, to: String) -> Transition? { byPair[from + "\u{0}" + to].map { transitions[$0] } }
    /// Every state reachable from `from` in one transition, in definition order.
    func targets(from: String) -> [String] { states.map(\.key).filter { byPair[from + "\u{0}" + $0] != nil } }

    /// Fills the lookup tables (after reading or editing states and transitions).
    mutating func index() {
        stateByKey = [:]
        for (n, s) in states.enumerated() where stateByKey[s.key] == nil { stateByKey[s.key] = n }
        byPair = [:]
        for (n, t) in transitions.enumerated() {
            for f in expandedFrom(t) where byPair[f + "\u{0}" + t.to] == nil { byPair[f + "\u{0}" + t.to] = n }
        }
    }

    func expandedFrom(_ t: Transition) -> [String] {
        t.from ?? states.filter { !$0.final && $0.key != t.to }.map(\.key)
    }
}

// MARK: the default workflow

extension Workflow {
    public static let defaultKey = "default"

    /// The core lifecycle as data (version 1 of the `default` workflow): what
    /// every tenant and every order stored before workflows existed uses until
    /// the tenant updates `default`.
    public static let builtInDefault: Workflow = {
        var w = Workflow(key: defaultKey, name: "Default")
        w.description = "pending → confirmed → processing → completed; on_hold and back; cancelled from any open state."
        w.states = [
            State(key: "pending", label: "Pending", category: "open", initial: true),
            State(key: "confirmed", label: "Confirmed", category: "open"),
            State(key: "processing", label: "Processing", category: "open"),
            State(key: "on_hold", label: "On hold", category: "open"),
            State(key: "completed", label: "Completed", category: "done", final: true),
            State(key: "cancelled", label: "Cancelled", category: "cancelled", final: true),
        ]
        w.transitions = [
            Transition(name: "confirm", from: ["pending"], to: "confirmed"),
            Transition(name: "start_processing", from: ["confirmed"], to: "processing"),
            Transition(name: "complete", from: ["processing"], to: "completed"),
            Transition(name: "put_on_hold", from: ["pending", "confirmed", "processing"], to: "on_hold"),
            Transition(name: "resume_pending", from: ["on_hold"], to: "pending"),
            Transition(name: "resume_confirmed", from: ["on_hold"], to: "confirmed"),
            Transition(name: "resume_processing", from: ["on_hold"], to: "processing"),
            Transition(name: "cancel", from: nil, to: "cancelled"),
        ]
        w.index()
        return w
    }()
}

// MARK: reading and validating

/// One thing wrong with a workflow definition.
struct WorkflowProblem: Sendable {
    var field: String
    var message: String
}

extension Workflow {
    /// Reads a definition from a request (`stored` false) or a stored version
    /// (`stored` true, which also carries version, archived, created_at/by).
    /// Type errors throw; everything that makes a well-typed definition
    /// unusable is collected in `problems` (see `validate`).
    static func read(_ f: inout Fields, stored: Bool) throws(OrderbaseError) -> Workflow {
        var problems: [WorkflowProblem] = []
        let key = try f.string("key", maxLength: 64, required: true)!
        guard isKey(key) else { throw OrderbaseError.invalid("key must be \(keyPattern)", field: f.fieldPath("key")) }
        guard !reservedKeys.contains(key) else {
            throw OrderbaseError.invalid("\(key) is reserved (REST routes /v1/workflows/\(key))", field: f.fieldPath("key"))
        }
        var w = Workflow(key: key, name: try f.string("name", maxLength: 255, required: true, allowEmpty: false)!)
        w.description = try f.string("description", maxLength: 2000)
        w.priority = try f.int("priority", in: -1000...1000) ?? 0
        if stored {
            w.version = try f.int("version", in: 1...Int64.max, required: true)!
            w.archived = try f.bool("archived") ?? false
            w.createdAt = try f.timestamp("created_at") ?? 0
            if var a = try f.object("created_by") { w.createdBy = try Actor.read(&a); try a.finish() }
        }
        w.states = try f.objects("states", maxCount: 100, required: true) { (s: inout Fields) throws(OrderbaseError) -> State in
            let k = try s.string("key", maxLength: 64, required: true)!
            guard isKey(k) else { throw OrderbaseError.invalid("\(s.fieldPath("key")) must be \(keyPattern)", field: s.fieldPath("key")) }
            var st = State(key: k, label: try s.string("label", maxLength: 255) ?? k,
                           category: try s.oneOf("category", State.categories) ?? "open")
            st.initial = try s.bool("initial") ?? false
            st.final = try s.bool("final") ?? false
            return st
        }!
        w.transitions = try f.objects("transitions", maxCount: 500) { (t: inout Fields) throws(OrderbaseError) -> Transition in
            try readTransition(&t, stored: stored, &problems)
        } ?? []
        if var a = try f.object("applies_to") {
            if let chans = try a.array("channels", maxCount: OrderStatus.channels.count) {
                w.appliesToChannels = []
                for (n, c) in chans.enumerated() {
                    guard case .string(let s) = c, OrderStatus.channels.contains(s) else {
                        throw OrderbaseError.invalid("\(a.fieldPath("channels"))[\(n)] must be one of \(OrderStatus.channels.joined(separator: ", "))",
                                                     field: "\(a.fieldPath("channels"))[\(n)]")
                    }
                    w.appliesToChannels!.append(s)
                }
            }
            w.appliesToCondition = try readExpression(&a, "condition", stored: stored, &problems)
            try a.finish()
        }
        w.expressionProblems = problems
        w.index()
        return w
    }

    private static func readTransition(_ t: inout Fields, stored: Bool, _ problems: inout [WorkflowProblem]) throws(OrderbaseError) -> Transition {
        let name = try t.string("name", maxLength: 64, required: true)!
        guard isKey(name) else { throw OrderbaseError.invalid("\(t.fieldPath("name")) must be \(keyPattern)", field: t.fieldPath("name")) }
        var from: [String]?
        switch t.raw("from") {
        case .string("*")?: from = nil
        case .string(let s)? where isKey(s): from = [s]
        case .array(let a)? where !a.isEmpty && a.count <= 100:
            from = []
            for (n, v) in a.enumerated() {
                guard case .string(let s) = v, isKey(s) else {
                    throw OrderbaseError.invalid("\(t.fieldPath("from"))[\(n)] must be a state key: \(keyPattern)", field: "\(t.fieldPath("from"))[\(n)]")
                }
                from!.append(s)
            }
        default:
            throw OrderbaseError.invalid("\(t.fieldPath("from")) must be a state key, a list of 1 to 100 state keys, or \"*\"", field: t.fieldPath("from"))
        }
        let to = try t.string("to", maxLength: 64, required: true)!
        guard isKey(to) else { throw OrderbaseError.invalid("\(t.fieldPath("to")) must be a state key: \(keyPattern)", field: t.fieldPath("to")) }
        var tr = Transition(name: name, from: from, to: to)
        tr.guardExpression = try readExpression(&t, "guard", stored: stored, &problems)
        tr.requiresReason = try t.bool("requires_reason") ?? false
        if let fields = try t.array("required_fields", maxCount: 50) {
            for (n, v) in fields.enumerated() {
                guard case .string(let s) = v, !s.isEmpty, !s.isLonger(than: 255) else {
                    throw OrderbaseError.invalid("\(t.fieldPath("required_fields"))[\(n)] must be an order field path like \"shipping_address.postal_code\"",
                                                 field: "\(t.fieldPath("required_fields"))[\(n)]")
                }
                tr.requiredFields.append(s)
            }
        }
        if var a = try t.object("approval") {
            var ap = Approval()
            ap.allowRequester = try a.bool("allow_requester") ?? false
            ap.expiresAfterSeconds = try a.int("expires_after_seconds", in: 60...31_536_000)
            ap.tiers = try a.objects("tiers", maxCount: 5, required: true) { (g: inout Fields) throws(OrderbaseError) -> ApprovalTier in
                try ApprovalTier.read(&g, when: { (g: inout Fields) throws(OrderbaseError) in try readExpression(&g, "when", stored: stored, &problems) })
            }!
            if ap.tiers.isEmpty { throw OrderbaseError.invalid("\(a.fieldPath("tiers")) needs at least one tier", field: a.fieldPath("tiers")) }
            try a.finish()
            tr.approval = ap
        }
        return tr
    }

    /// An expression field (text or JSON-Logic), compiled; type checks come in
    /// `validate`, and so does one that does not compile (it is a problem of the
    /// definition, not a malformed request). Stored versions keep the JSON form
    /// and, beside it, `<name>_text`.
    private static func readExpression(_ f: inout Fields, _ key: String, stored: Bool,
                                       _ problems: inout [WorkflowProblem]) throws(OrderbaseError) -> Expression? {
        if stored { _ = f.raw(key + "_text") }
        guard let raw = f.raw(key) else { return nil }
        do {
            return try ExpressionService.compile(raw, check: false).0
        } catch {
            problems.append(WorkflowProblem(field: f.fieldPath(key), message: error.message))
            return nil
        }
    }

    /// Everything that makes the definition unusable: state rules, unknown
    /// states, duplicate transitions, unreachable states and dead ends, and
    /// guards and conditions that read fields orders do not have.
    /// Every problem of the definition; expressions and required fields are checked against `shape`
    /// (what guards see, with the tenant's custom fields typed: `TenantCore.guardShape`).
    func validate(shape: DataShape = .guardData) -> [WorkflowProblem] {
        var out: [WorkflowProblem] = expressionProblems
        func problem(_ field: String, _ message: String) { out.append(WorkflowProblem(field: field, message: message)) }

        if states.isEmpty { problem("states", "a workflow needs at least one state") }
        var seen = Set<String>()
        for (n, s) in states.enumerated() {
            if !seen.insert(s.key).inserted { problem("states[\(n)].key", "state \(s.key) is defined twice") }
            if s.final && s.category == "open" { problem("states[\(n)].category", "final state \(s.key) must be in category done or cancelled") }
            if s.initial && s.final { problem("states[\(n)]", "state \(s.key) cannot be both initial and final") }
        }
        let initials = states.filter(\.initial)
        if initials.count != 1 { problem("states", "exactly one state must be initial; \(initials.count) are") }
        if !states.contains(where: \.final) { problem("states", "at least one state must be final") }

        var names = Set<String>()
        var pairs = Set<String>()
        for (n, t) in transitions.enumerated() {
            let path = "transitions[\(n)]"
            if !names.insert(t.name).inserted { problem("\(path).name", "transition \(t.name) is defined twice") }
            if stateByKey[t.to] == nil { problem("\(path).to", "transition \(t.name) goes to unknown state \(t.to)") }
            for (m, f) in (t.from ?? []).enumerated() {
                if stateByKey[f] == nil { problem("\(path).from[\(m)]", "transition \(t.name) starts from unknown state \(f)") }
                else if state(f)!.final { problem("\(path).from[\(m)]", "transition \(t.name) starts from final state \(f); final states have no way out") }
                if f == t.to { problem("\(path).from[\(m)]", "transition \(t.name) goes from \(f) to itself") }
            }
            for f in expandedFrom(t) where !pairs.insert(f + "\u{0}" + t.to).inserted {
                problem(path, "a second transition from \(f) to \(t.to) (\(t.name)); one transition per pair of states")
            }
            if let g = t.guardExpression { check(g, "\(path).guard", shape, &out) }
            for (m, p) in t.requiredFields.enumerated() {
                if case .failure(let e) = DataShape.resolve(["order"] + p.split(separator: ".", omittingEmptySubsequences: false).map(String.init), from: shape.root) {
                    problem("\(path).required_fields[\(m)]", e.message)
                }
            }
            for (m, tier) in (t.approval?.tiers ?? []).enumerated() {
                if let w = tier.when { check(w, "\(path).approval.tiers[\(m)].when", shape, &out) }
            }
        }
        if key == Self.defaultKey && hasAssignment {
            problem("applies_to", "the default workflow applies to every order no other workflow takes; it has no applies_to")
        }
        if let c = appliesToCondition { check(c, "applies_to.condition", shape, &out) }
        guard out.isEmpty else { return out }

        // Every state reachable from the initial one, and a way to a final state from each.
        var reached: Set<String> = [initialState]
        var queue = [initialState]
        while let s = queue.popLast() {
            for t in targets(from: s) where reached.insert(t).inserted { queue.append(t) }
        }
        for s in states where !reached.contains(s.key) {
            problem("states[\(stateByKey[s.key]!)]", "state \(s.key) cannot be reached from the initial state \(initialState)")
        }
        var ends = Set(states.filter(\.final).map(\.key))
        var grew = true
        while grew {
            grew = false
            for s in states where !ends.contains(s.key) && targets(from: s.key).contains(where: ends.contains) {
                ends.insert(s.key)
                grew = true
            }
        }
        for s in states where !ends.contains(s.key) {
            problem("states[\(stateByKey[s.key]!)]", "state \(s.key) has no way to a final state")
        }
        return out
    }

    private func check(_ e: Expression, _ field: String, _ shape: DataShape, _ out: inout [WorkflowProblem]) {
        do { _ = try shape.check(e) } catch {
            out.append(WorkflowProblem(field: field, message: error.message))
        }
    }
}

// MARK: writing

extension Workflow {
    func write(_ w: inout JSONWriter) {
        w.beginObject()
        w.key("key"); w.string(key)
        w.key("name"); w.string(name)
        w.key("description"); w.optionalString(description)
        w.key("version"); w.int(version)
        w.key("archived"); w.bool(archived)
        w.key("priority"); w.int(priority)
        w.key("states"); w.beginArray()
        for s in states {
            w.beginObject()
            w.key("key"); w.string(s.key)
            w.key("label"); w.string(s.label)
            w.key("category"); w.string(s.category)
            w.key("initial"); w.bool(s.initial)
            w.key("final"); w.bool(s.final)
            w.endObject()
        }
        w.endArray()
        w.key("transitions"); w.beginArray()
        for t in transitions {
            w.beginObject()
            w.key("name"); w.string(t.name)
            w.key("from")
            if let from = t.from { w.beginArray(); for f in from { w.string(f) }; w.endArray() } else { w.string("*") }
            w.key("to"); w.string(t.to)
            Self.writeExpression(t.guardExpression, "guard", &w)
            w.key("requires_reason"); w.bool(t.requiresReason)
            w.key("required_fields"); w.beginArray(); for f in t.requiredFields { w.string(f) }; w.endArray()
            w.key("approval")
            if let a = t.approval {
                w.beginObject()
                w.key("tiers"); w.beginArray()
                for tier in a.tiers { tier.write(&w) }
                w.endArray()
                w.key("allow_requester"); w.bool(a.allowRequester)
                w.key("expires_after_seconds"); if let e = a.expiresAfterSeconds { w.int(e) } else { w.null() }
                w.endObject()
            } else { w.null() }
            w.endObject()
        }
        w.endArray()
        w.key("applies_to")
        if hasAssignment {
            w.beginObject()
            w.key("channels")
            if let c = appliesToChannels { w.beginArray(); for s in c { w.string(s) }; w.endArray() } else { w.null() }
            Self.writeExpression(appliesToCondition, "condition", &w)
            w.endObject()
        } else { w.null() }
        w.key("created_at"); w.timestamp(createdAt)
        w.key("created_by"); createdBy.write(&w)
        w.endObject()
    }

    /// `{"key", "version"}`: which workflow version an order or request follows.
    static func writeReference(key: String, version: Int64, _ w: inout JSONWriter) {
        w.beginObject(); w.key("key"); w.string(key); w.key("version"); w.int(version); w.endObject()
    }

    /// `"guard": <JSON-Logic>, "guard_text": "<text form>"` (both null when absent).
    static func writeExpression(_ e: Expression?, _ key: String, _ w: inout JSONWriter) {
        w.dynamicKey(key); if let e { w.value(e.json) } else { w.null() }
        w.dynamicKey(key + "_text")
        if let e, let t = try? ExpressionText.format(e.json) { w.string(t) } else { w.null() }
    }

    var json: [UInt8] {
        var w = JSONWriter()
        write(&w)
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(OrderbaseError) -> Workflow {
        do throws(OrderbaseError) {
            var f = try Fields(try JSON.parse(bytes))
            let w = try read(&f, stored: true)
            try f.finish()
            if let p = w.expressionProblems.first { throw OrderbaseError(.invalidArgument, "\(p.field): \(p.message)") }
            return w
        } catch {
            throw OrderbaseError(.corruption, "stored workflow does not decode: \(error.message)")
        }
    }
}

extension Workflow: AuditedRecord {
    static let kind = RecordKind.workflow
    /// A workflow's subject is its key (each version is a record of its own, immutable).
    var subjectID: String { key }
    var storedJSON: [UInt8] { json }
    var apiJSON: [UInt8] { json }
}

extension Workflow.ApprovalTier {
    /// `{"name"?, "approvers"? (1–20, default 1), "roles"? (≤ 20), "when"?}`, its `when` read by `readWhen`.
    static func read(_ g: inout Fields, when readWhen: (inout Fields) throws(OrderbaseError) -> Expression?) throws(OrderbaseError) -> Self {
        var tier = Self()
        tier.name = try g.string("name", maxLength: 64)
        tier.approvers = try g.int("approvers", in: 1...20) ?? 1
        if let roles = try g.array("roles", maxCount: 20) {
            for (n, r) in roles.enumerated() {
                guard case .string(let s) = r, !s.isEmpty, !s.isLonger(than: 64) else {
                    throw OrderbaseError.invalid("\(g.fieldPath("roles"))[\(n)] must be a role name of 1 to 64 characters", field: "\(g.fieldPath("roles"))[\(n)]")
                }
                tier.roles.append(s)
            }
        }
        tier.when = try readWhen(&g)
        return tier
    }

    /// A tier outside a workflow (the return policy's): as given, `when` is compiled and a bad one refused
    /// (checking it against the data it will see is the caller's); as stored, read back as it is.
    static func read(_ g: inout Fields, stored: Bool) throws(OrderbaseError) -> Self {
        try read(&g, when: { (g: inout Fields) throws(OrderbaseError) -> Expression? in
            if stored { _ = g.raw("when_text") }
            guard let raw = g.raw("when"), raw != .null else { return nil }
            if stored { return try Expression(raw) }
            do throws(OrderbaseError) { return try ExpressionService.compile(raw, check: false).0 } catch {
                throw OrderbaseError(error.code, "\(g.fieldPath("when")): \(error.message)", field: g.fieldPath("when"), details: error.details)
            }
        })
    }

    func write(_ w: inout JSONWriter) {
        w.beginObject()
        w.key("name"); w.optionalString(name)
        w.key("approvers"); w.int(approvers)
        w.key("roles"); w.beginArray(); for r in roles { w.string(r) }; w.endArray()
        Workflow.writeExpression(when, "when", &w)
        w.endObject()
    }
}
