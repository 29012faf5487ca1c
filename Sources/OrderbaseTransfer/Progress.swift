import Orderbase
#if canImport(Glibc)
import Glibc
#endif

/// Progress of a long command on stderr: a redrawn bar on a terminal, a plain
/// line every few seconds otherwise (logs, CI), or nothing.
public final class Progress {
    public enum Mode: String, CaseIterable, Sendable { case auto, bar, lines, none }

    let mode: Mode
    let noun: String
    private var total: Int64 = 0
    private var started = 0.0
    private var lastDraw = 0.0
    private let interval: Double

    public init(mode: Mode, noun: String = "orders") {
        self.mode = mode == .auto ? (isatty(2) != 0 ? .bar : .lines) : mode
        self.noun = noun
        interval = self.mode == .bar ? 0.1 : 5
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    func begin(total: Int64) {
        self.total = total
        started = Self.now()
        lastDraw = started
    }

    func update(done: Int, offset: Int64) {
        guard mode != .none else { return }
        let t = Self.now()
        if t - lastDraw < interval { return }
        lastDraw = t
        draw(done: done, offset: offset, final: false)
    }

    func finish(done: Int, offset: Int64) {
        guard mode != .none else { return }
        draw(done: done, offset: max(offset, total), final: true)
    }

    private func draw(done: Int, offset: Int64, final: Bool) {
        let elapsed = max(Self.now() - started, 0.001)
        let fraction = total > 0 ? min(1, Double(offset) / Double(total)) : 1
        let rate = Int(Double(done) / elapsed)
        let percent = Int(fraction * 100)
        var line: String
        if mode == .bar {
            let width = 30
            let filled = Int(fraction * Double(width))
            line = "\r[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
            line += "\(percent)%  \(done) \(noun)  \(rate)/s  \(Int(elapsed))s"
            if final { line += "\n" }
        } else {
            line = "\(final ? "done" : "progress"): \(percent)% of the file, \(done) \(noun), \(rate)/s, \(Int(elapsed))s\n"
        }
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }
}
