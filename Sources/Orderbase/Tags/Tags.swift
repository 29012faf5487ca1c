/// Tag text (docs/tags.md, "What a tag may be"): how a tag given by a caller
/// becomes the tag stored, and the key two tags are compared by.
///
/// A tag is trimmed of surrounding white space and stored in Unicode NFC, so
/// the same word typed on two keyboards is one tag; it is compared by its key
/// (the NFC of its lowercase form), so `VIP`, `vip` and `Vip` are one tag, the
/// first spelling kept. Nothing is dropped silently: a tag that breaks a rule is
/// refused with the rule named, whatever its script or length.
enum Tags {
    /// At most this many tags on one order.
    static let maxPerOrder = 250
    /// At most this many characters (Unicode code points, as JSON Schema's `maxLength`
    /// and every other text limit count them: docs/limits.md) in one tag, as given.
    static let maxCharacters = 100
    /// At most this many tags in one `orders.add_tags` / `remove_tags` call.
    static let maxPerCall = 250

    /// The stored form of a caller's tag, or `invalid_argument` on `field` naming the rule.
    static func normalize(_ raw: String, field: String) throws(OrderbaseError) -> String {
        if raw.isLonger(than: maxCharacters) {
            throw OrderbaseError.invalid("\(field) is longer than \(maxCharacters) characters", field: field)
        }
        let trimmed = raw.trimmingWhiteSpace()
        guard !trimmed.isEmpty else { throw OrderbaseError.invalid("\(field) is empty (after trimming white space)", field: field) }
        for u in trimmed.unicodeScalars {
            if u == "," { throw OrderbaseError.invalid("\(field) contains a comma (tags travel as comma-separated lists)", field: field) }
            if u.properties.generalCategory == .control {
                throw OrderbaseError.invalid("\(field) contains a control character (U+\(String(u.value, radix: 16, uppercase: true)))", field: field)
            }
        }
        return String(decoding: trimmed._nfcCodeUnits, as: UTF8.self)
    }

    /// The key a stored tag is compared and indexed by: its lowercase form, in NFC.
    static func key(_ tag: String) -> String {
        String(decoding: tag.lowercased()._nfcCodeUnits, as: UTF8.self)
    }

    /// The key of a tag as a caller wrote it in a filter or a lookup (trimmed, NFC,
    /// lowercase). A text no tag can have (a comma, a control character) has a key
    /// no tag has, so it matches nothing.
    static func lookupKey(_ raw: String) -> String {
        key(String(decoding: raw.trimmingWhiteSpace()._nfcCodeUnits, as: UTF8.self))
    }

    /// Reads a list of tags (`orders.create` / `update`'s `tags`, `add_tags`' `tags`):
    /// each normalized, duplicates (by key) kept once in their first spelling. Nil: absent.
    static func read(_ f: inout Fields, _ name: String, maxCount: Int = maxPerOrder, required: Bool = false) throws(OrderbaseError) -> [String]? {
        guard let items = try f.array(name, maxCount: maxCount, required: required) else { return nil }
        var out: [String] = []
        var seen: Set<String> = []
        for (n, item) in items.enumerated() {
            let path = "\(f.fieldPath(name))[\(n)]"
            guard case .string(let s) = item else { throw OrderbaseError.invalid("\(path) must be a string, got \(item.typeName)", field: path) }
            let tag = try normalize(s, field: path)
            if seen.insert(key(tag)).inserted { out.append(tag) }
        }
        return out
    }

    /// `tags` with `adding` appended (those whose key is not there yet) and the
    /// tags whose key is in `removing` taken out; order otherwise kept.
    static func merge(_ tags: [String], adding: [String] = [], removing: Set<String> = []) -> [String] {
        var out = tags.filter { !removing.contains(key($0)) }
        var have = Set(out.map(key))
        for t in adding where have.insert(key(t)).inserted { out.append(t) }
        return out
    }
}

extension String {
    /// Without leading and trailing Unicode white space (`Character.isWhitespace`).
    func trimmingWhiteSpace() -> String {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(self[first...last])
    }
}
