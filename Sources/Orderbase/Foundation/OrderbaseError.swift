import OrderbaseStore

/// Stable error codes. Raw values are the C ABI return codes (include/orderbase.h);
/// names are the `error.code` strings of the JSON error object (docs/errors.md).
public enum ErrorCode: Int32, Sendable, CaseIterable {
    case invalidArgument = -1
    case notFound = -2
    case alreadyExists = -3
    case versionConflict = -4
    case invalidTransition = -5
    case idempotencyMismatch = -6
    case busy = -7
    case ioError = -8
    case corruption = -9
    case misuse = -10
    case limitExceeded = -11
    case `internal` = -12
    case invalidState = -13
    case onHold = -14
    case guardFailed = -15
    case notPermitted = -16

    public var name: String {
        switch self {
        case .invalidArgument: "invalid_argument"
        case .notFound: "not_found"
        case .alreadyExists: "already_exists"
        case .versionConflict: "version_conflict"
        case .invalidTransition: "invalid_transition"
        case .idempotencyMismatch: "idempotency_mismatch"
        case .busy: "busy"
        case .ioError: "io_error"
        case .corruption: "corruption"
        case .misuse: "misuse"
        case .limitExceeded: "limit_exceeded"
        case .internal: "internal"
        case .invalidState: "invalid_state"
        case .onHold: "on_hold"
        case .guardFailed: "guard_failed"
        case .notPermitted: "not_permitted"
        }
    }
}

/// An error as a value: code, message, the offending field path and details.
public struct OrderbaseError: Error, Sendable, CustomStringConvertible {
    public let code: ErrorCode
    public let message: String
    public let field: String?
    public let details: JSON?

    public init(_ code: ErrorCode, _ message: String, field: String? = nil, details: JSON? = nil) {
        self.code = code
        self.message = message
        self.field = field
        self.details = details
    }

    public static func invalid(_ message: String, field: String? = nil) -> OrderbaseError {
        OrderbaseError(.invalidArgument, message, field: field)
    }

    /// `version_conflict` on `expected_version`: `what` (`order #1001`, `note note_…`) is at `actual`.
    static func staleVersion(_ what: String, actual: Int64, expected: Int64) -> OrderbaseError {
        OrderbaseError(.versionConflict, "\(what) is at version \(actual), not \(expected)", field: "expected_version",
                       details: .object(["expected": .int(expected), "actual": .int(actual)]))
    }

    /// `limit_exceeded` because what is stored is full (`details.quota` names
    /// what, `details.limit` how many): an answer about state, not about the
    /// request (REST 409), unlike a request over a limit (422).
    public static func quota(_ what: String, limit: Int, _ message: String, field: String? = nil) -> OrderbaseError {
        OrderbaseError(.limitExceeded, message, field: field, details: .object(["quota": .string(what), "limit": .int(Int64(limit))]))
    }

    /// Whether it is a `quota` refusal.
    public var isQuota: Bool { code == .limitExceeded && details?["quota"] != nil }

    public var description: String { "\(code.name): \(message)" + (field.map { " (\($0))" } ?? "") }

    /// `{"error":{"code":...,"message":...,"field":...,"details":...}}`
    public var json: [UInt8] { json(code: nil) }

    /// The error object under another code name (the REST server's
    /// `unauthorized`, `forbidden`, … wrap an engine error's message).
    public func json(code name: String?) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("error")
        write(&w, code: name)
        w.endObject()
        return w.bytes
    }

    /// The inner `{"code","message","field","details"}` object.
    public func write(_ w: inout JSONWriter, code name: String? = nil) {
        w.beginObject()
        w.key("code"); w.string(name ?? code.name)
        w.key("message"); w.string(message)
        if let field { w.key("field"); w.string(field) }
        if let details { w.key("details"); w.value(details) }
        w.endObject()
    }

    public init(_ e: StoreError) {
        switch e.kind {
        case .io: self.init(.ioError, e.message)
        case .corruption: self.init(.corruption, e.message)
        case .busy: self.init(.busy, e.message)
        case .notFound: self.init(.notFound, e.message)
        case .invalidPath: self.init(.invalidArgument, e.message)
        case .failedState: self.init(.ioError, e.message)
        }
    }
}

/// Runs `body`, turning store failures into `OrderbaseError`s.
@inline(__always)
func store<T>(_ body: () throws(StoreError) -> T) throws(OrderbaseError) -> T {
    do { return try body() } catch { throw OrderbaseError(error) }
}
