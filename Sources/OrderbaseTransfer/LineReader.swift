import CZlib
#if canImport(Glibc)
import Glibc
#endif

/// Reads a file line by line, gzip or plain (zlib reads both), in 64 KiB
/// chunks: memory stays flat whatever the file's size. Lines end at `\n`; a
/// trailing `\r` is dropped. A line longer than `maxLineBytes` is an error.
final class LineReader {
    private let file: gzFile
    private var buffer: [UInt8] = []
    private var start = 0
    private var eof = false
    let path: String
    /// The file's size on disk (compressed size for gzip), for progress.
    let size: Int64
    private(set) var lineNumber = 0
    let maxLineBytes: Int

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init(path: String, maxLineBytes: Int = 16 << 20) throws {
        var st = stat()
        guard stat(path, &st) == 0 else { throw Failure(description: "cannot read \(path): \(String(cString: strerror(errno)))") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw Failure(description: "\(path) is not a regular file") }
        guard let f = gzopen(path, "rb") else { throw Failure(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        gzbuffer(f, 1 << 16)
        file = f
        self.path = path
        size = Int64(st.st_size)
        self.maxLineBytes = maxLineBytes
    }

    deinit { gzclose(file) }

    /// Bytes of the file consumed so far (compressed offset for gzip).
    var offset: Int64 { Int64(gzoffset(file)) }

    /// The next line without its terminator, or nil at the end.
    func next() throws -> ArraySlice<UInt8>? {
        while true {
            if let nl = buffer[start...].firstIndex(of: 0x0A) {
                var end = nl
                if end > start && buffer[end - 1] == 0x0D { end -= 1 }
                let line = buffer[start..<end]
                start = nl + 1
                lineNumber += 1
                return line
            }
            if buffer.count - start > maxLineBytes {
                throw Failure(description: "\(path): line \(lineNumber + 1) is longer than \(maxLineBytes) bytes")
            }
            if eof {
                guard start < buffer.count else { return nil }
                var end = buffer.count
                if buffer[end - 1] == 0x0D { end -= 1 }
                let line = buffer[start..<end]
                start = buffer.count
                lineNumber += 1
                return line
            }
            try fill()
        }
    }

    private func fill() throws {
        if start > 0 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        let n = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
        if n < 0 {
            var errnum: Int32 = 0
            let msg = gzerror(file, &errnum).map { String(cString: $0) } ?? "read error"
            throw Failure(description: "cannot read \(path): \(msg)")
        }
        if n == 0 { eof = true; return }
        buffer.append(contentsOf: chunk[0..<Int(n)])
    }
}

/// RFC 4180 fields of one CSV record: commas separate, double quotes enclose,
/// `""` inside quotes is a quote. Returns nil when a quoted field is left open
/// (the record continues on the next line).
func csvFields(_ line: ArraySlice<UInt8>) -> [String]? {
    var fields: [String] = []
    var field: [UInt8] = []
    var inQuotes = false
    var i = line.startIndex
    while i < line.endIndex {
        let c = line[i]
        if inQuotes {
            if c == UInt8(ascii: "\"") {
                if i + 1 < line.endIndex && line[i + 1] == UInt8(ascii: "\"") {
                    field.append(c)
                    i += 1
                } else {
                    inQuotes = false
                }
            } else {
                field.append(c)
            }
        } else if c == UInt8(ascii: ",") {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
        } else if c == UInt8(ascii: "\"") && field.isEmpty {
            inQuotes = true
        } else {
            field.append(c)
        }
        i += 1
    }
    if inQuotes { return nil }
    fields.append(String(decoding: field, as: UTF8.self))
    return fields
}
