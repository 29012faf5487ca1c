#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A test hook: collects the top-level field names request readers ask for on
/// the calling thread, so a test can hold each catalogue method's declared
/// request schema to what the method really reads. Off unless a test turns it
/// on; then one relaxed atomic load per field read elsewhere (atomic: tests
/// turn it on while other threads read requests, which ThreadSanitizer saw).
public enum FieldProbe {
    static let enabled = Atomic<Bool>(false)
    private final class Box { var names: Set<String> = [] }
    nonisolated(unsafe) private static var key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()

    static func note(_ name: String) {
        guard let p = pthread_getspecific(key) else { return }
        Unmanaged<Box>.fromOpaque(p).takeUnretainedValue().names.insert(name)
    }

    /// Runs `body` without noting what it reads: a request the engine builds for a method it calls on a
    /// caller's behalf (`orders.create_from_template`, `draft_orders.place` run `orders.create`) is not the caller's.
    static func unrecorded<T>(_ body: () throws(OrderbaseError) -> T) throws(OrderbaseError) -> T {
        let saved = pthread_getspecific(key)
        pthread_setspecific(key, nil)
        defer { pthread_setspecific(key, saved) }
        return try body()
    }

    /// The top-level field names read while `body` runs on this thread.
    public static func collect(_ body: () throws -> Void) rethrows -> Set<String> {
        enabled.store(true, ordering: .relaxed)
        let box = Box()
        pthread_setspecific(key, Unmanaged.passUnretained(box).toOpaque())
        defer { pthread_setspecific(key, nil) }
        try withExtendedLifetime(box) { try body() }
        return box.names
    }
}

/// Reads a request object field by field with types, ranges and paths, and
/// rejects fields nobody read (`finish()`): an unknown field is an error, never
/// silently ignored. `null` reads as absent.
public struct Fields {
    public let object: JSONObject
    public let path: String
    /// Keys read so far. A list, not a Set: request objects are small and
    /// hashing every field name showed up as the top cost of a create.
    private var used: [String] = []
    /// A method's request object (`Fields.request`), as opposed to stored records.
    var isRequest = false

    public init(_ json: JSON, path: String = "") throws(OrderbaseError) {
        guard case .object(let o) = json else {
            throw OrderbaseError.invalid("expected a JSON object, got \(json.typeName)", field: path.isEmpty ? nil : path)
        }
        object = o
        self.path = path
    }

    public func fieldPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    public func has(_ key: String) -> Bool { object[key] != nil }
    /// Present and explicitly `null` (for updates: clear the field).
    public func isNull(_ key: String) -> Bool { object[key] == .null }

    public mutating func raw(_ key: String) -> JSON? {
        if isRequest && FieldProbe.enabled.load(ordering: .relaxed) { FieldProbe.note(key) }
        guard let v = object[key] else { return nil }
        if !used.contains(key) { used.append(key) }
        return v == .null ? nil : v
    }

    public mutating func string(_ key: String, maxLength: Int = 1024, required: Bool = false, allowEmpty: Bool = true) throws(OrderbaseError) -> String? {
        guard let v = raw(key) else {
            if required { throw OrderbaseError.invalid("\(fieldPath(key)) is required", field: fieldPath(key)) }
            return nil
        }
        guard case .string(let s) = v else {
            throw OrderbaseError.invalid("\(fieldPath(key)) must be a string, got \(v.typeName)", field: fieldPath(key))
        }
        if s.isLonger(than: maxLength) {
            throw OrderbaseError.invalid("\(fieldPath(key)) is longer than \(maxLength) characters", field: fieldPath(key))
        }
        if !allowEmpty && s.isEmpty { throw OrderbaseError.invalid("\(fieldPath(key)) must not be empty", field: fieldPath(key)) }
        return s
    }

    public mutating func int(_ key: String, in range: ClosedRange<Int64>, required: Bool = false) throws(OrderbaseError) -> Int64? {
        guard let v = raw(key) else {
            if required { throw OrderbaseError.invalid("\(fieldPath(key)) is required", field: fieldPath(key)) }
            return nil
        }
        let n: Int64
        switch v {
        case .int(let i): n = i
        // JSON Schema counts 2.0 and 1e3 as integers; so do we, while exact.
        case .double(let d) where d == d.rounded() && abs(d) <= 9_007_199_254_740_992: n = Int64(d)
        default:
            throw OrderbaseError.invalid("\(fieldPath(key)) must be an integer, got \(v.typeName)", field: fieldPath(key))
        }
        guard range.contains(n) else {
            throw OrderbaseError.invalid("\(fieldPath(key)) must be between \(range.lowerBound) and \(range.upperBound)", field: fieldPath(key))
        }
        return n
    }

    /// A JSON number (integer or fraction) inside `range`.
    public mutating func number(_ key: String, in range: ClosedRange<Double>) throws(OrderbaseError) -> Double? {
        guard let v = raw(key) else { return nil }
        let d: Double
        switch v {
        case .int(let i): d = Double(i)
        case .double(let x): d = x
        default: throw OrderbaseError.invalid("\(fieldPath(key)) must be a number, got \(v.typeName)", field: fieldPath(key))
        }
        guard range.contains(d) else {
            throw OrderbaseError.invalid("\(fieldPath(key)) must be between \(range.lowerBound) and \(range.upperBound)", field: fieldPath(key))
        }
        return d
    }

    public mutating func bool(_ key: String) throws(OrderbaseError) -> Bool? {
        guard let v = raw(key) else { return nil }
        guard case .bool(let b) = v else {
            throw OrderbaseError.invalid("\(fieldPath(key)) must be a boolean, got \(v.typeName)", field: fieldPath(key))
        }
        return b
    }

    public mutating func oneOf(_ key: String, _ allowed: [String], required: Bool = false) throws(OrderbaseError) -> String? {
        guard let s = try string(key, maxLength: 64, required: required) else { return nil }
        guard allowed.contains(s) else {
            throw OrderbaseError(.invalidArgument, "\(fieldPath(key)) must be one of \(allowed.joined(separator: ", "))",
                                 field: fieldPath(key), details: .object(["allowed": .array(allowed.map { .string($0) })]))
        }
        return s
    }

    public mutating func object(_ key: String) throws(OrderbaseError) -> Fields? {
        guard let v = raw(key) else { return nil }
        return try Fields(v, path: fieldPath(key))
    }

    public mutating func array(_ key: String, maxCount: Int, required: Bool = false) throws(OrderbaseError) -> [JSON]? {
        guard let v = raw(key) else {
            if required { throw OrderbaseError.invalid("\(fieldPath(key)) is required", field: fieldPath(key)) }
            return nil
        }
        guard case .array(let a) = v else {
            throw OrderbaseError.invalid("\(fieldPath(key)) must be an array, got \(v.typeName)", field: fieldPath(key))
        }
        if a.count > maxCount {
            throw OrderbaseError(.limitExceeded, "\(fieldPath(key)) has more than \(maxCount) entries", field: fieldPath(key))
        }
        return a
    }

    /// An array of objects, each read by `body` with its indexed path.
    public mutating func objects<T>(_ key: String, maxCount: Int, required: Bool = false,
                                    _ body: (inout Fields) throws(OrderbaseError) -> T) throws(OrderbaseError) -> [T]? {
        guard let a = try array(key, maxCount: maxCount, required: required) else { return nil }
        var out: [T] = []
        out.reserveCapacity(a.count)
        for (n, e) in a.enumerated() {
            var f = try Fields(e, path: "\(fieldPath(key))[\(n)]")
            out.append(try body(&f))
            try f.finish()
        }
        return out
    }

    /// A timestamp in RFC 3339 form, as epoch milliseconds.
    public mutating func timestamp(_ key: String) throws(OrderbaseError) -> Int64? {
        guard let s = try string(key, maxLength: 64) else { return nil }
        guard let ms = Timestamp.parse(s) else {
            throw OrderbaseError.invalid("\(fieldPath(key)) must be an RFC 3339 timestamp like 2026-11-25T10:00:00.000Z", field: fieldPath(key))
        }
        return ms
    }

    /// Fails on any field that was not read.
    public func finish() throws(OrderbaseError) {
        if object.count == used.count { return }
        let unknown = object.keys.filter { !used.contains($0) }.sorted()
        if let first = unknown.first {
            throw OrderbaseError(.invalidArgument, "unknown field \(fieldPath(first))", field: fieldPath(first),
                                 details: .object(["unknown_fields": .array(unknown.map { .string(fieldPath($0)) })]))
        }
    }
}

extension String {
    /// Whether it has more than `max` characters as JSON Schema counts them
    /// (Unicode code points, so "é" is one and an emoji one): the unit of every
    /// length limit on caller text, in the engine and in the OpenAPI document.
    /// A string of at most `max` UTF-8 bytes is never longer, so most checks
    /// count nothing.
    @inline(__always)
    public func isLonger(than max: Int) -> Bool {
        utf8.count > max && unicodeScalars.count > max
    }
}
