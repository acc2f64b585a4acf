// What a run tells the user: NDJSON events (--json), lines of text, a progress line on a terminal, a log file; and
// the run's summary, which is also what saved tasks keep as their last result.
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The result of a run.
public struct SyncSummary: Codable, Sendable, Equatable {
    /// SUCCESS, FAILED or ABORTED.
    public var state = "SUCCESS"
    /// The process exit code (rclone's meanings, man/gphotos-sync.1).
    public var exitCode: Int32 = 0
    /// Nothing was changed (--dry-run).
    public var dryRun = false
    /// push or pull.
    public var direction = ""
    /// copy, sync or move.
    public var mode = ""
    /// The source path.
    public var source = ""
    /// The destination path.
    public var dest = ""
    /// Files copied (new or replaced).
    public var copied = 0
    /// Of them, replacing a different file of the same name.
    public var replaced = 0
    /// Bytes copied.
    public var bytes: Int64 = 0
    /// Directories (albums) created.
    public var directoriesCreated = 0
    /// Files the destination already had.
    public var unchanged = 0
    /// Files Google already had under another name (its dedupe): not uploaded, remembered in the ledger.
    public var alreadyInGoogle = 0
    /// SYNC push: items removed from albums (they stay in the Google Photos library).
    public var removedFromAlbums = 0
    /// SYNC pull: local files deleted.
    public var deleted = 0
    /// MOVE: sources deleted after the destination confirmed them (push: local files; pull: items removed from albums).
    public var sourcesDeleted = 0
    /// Files skipped because they are not photos or videos.
    public var nonMedia = 0
    /// Symbolic links skipped.
    public var symlinks = 0
    /// Entries the filters left out.
    public var excluded = 0
    /// Items that failed.
    public var errors = 0
    /// Wall time.
    public var seconds = 0.0
    /// One line for people.
    public var message = ""
    /// Creates an empty summary.
    public init() {}
}

/// Where a run's events go.
public final class SyncReporter: Sendable {
    /// Output choices.
    public struct Options: Sendable {
        /// NDJSON events on standard output.
        public var json = false
        /// A progress line on standard error (when it is a terminal).
        public var progress = false
        /// Append human-readable lines here.
        public var logFile: String?
        /// Print each item (else only errors, warnings and the summary).
        public var verbose = true
        /// Creates options.
        public init(json: Bool = false, progress: Bool = false, logFile: String? = nil, verbose: Bool = true) {
            self.json = json; self.progress = progress; self.logFile = logFile; self.verbose = verbose
        }
    }

    struct State {
        var lastProgress = 0.0
        var progressShown = false
        var logFD: Int32 = -1
        var started = Date()
        var bytesAtStart: Int64 = 0
    }

    let options: Options
    let state = Mutex(State())

    /// Creates a reporter.
    public init(_ options: Options) {
        self.options = options
        if let path = options.logFile {
            let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
            state.withLock { $0.logFD = fd }
            if fd < 0 { FileHandle.standardError.write(Data("gphotos-sync: can't open the log file \(path): \(String(cString: strerror(errno)))\n".utf8)) }
        }
    }

    deinit {
        let fd = state.withLock { $0.logFD }
        if fd >= 0 { close(fd) }
    }

    /// The run starts.
    public func start(_ s: SyncSummary) {
        state.withLock { $0.started = Date() }
        event(["event": "start", "direction": s.direction, "mode": s.mode, "source": s.source, "dest": s.dest, "dryRun": s.dryRun],
              text: "\(s.dryRun ? "dry run: " : "")\(s.direction) --mode \(s.mode) \(s.source) → \(s.dest)")
    }

    /// One item was handled (`action`: copied, replaced, mkdir, removed, deleted, unchanged, skipped, …).
    public func item(_ action: String, _ path: String, dest: String? = nil, bytes: Int64? = nil, detail: String? = nil, dryRun: Bool = false) {
        var e: [String: any Sendable] = ["event": "item", "action": action, "path": path]
        if let dest { e["dest"] = dest }
        if let bytes { e["bytes"] = bytes }
        if let detail { e["detail"] = detail }
        if dryRun { e["dryRun"] = true }
        let arrow = dest.map { $0 == path ? "" : " → \($0)" } ?? ""
        let text = "\(dryRun ? "would be " : "")\(action): \(path)\(arrow)\(detail.map { " (\($0))" } ?? "")"
        event(e, text: text, show: options.verbose)
    }

    /// A line of context (a task's script output): printed, logged, and an NDJSON "note" event.
    public func note(_ line: String) {
        event(["event": "note", "message": line], text: line, show: options.verbose)
    }

    /// A warning or a note.
    public func warning(_ message: String) {
        event(["event": "warning", "message": message], text: "NOTICE: \(message)", stderr: true)
    }

    /// An error, for one item (`path`) or the run.
    public func error(_ path: String?, _ message: String) {
        var e: [String: any Sendable] = ["event": "error", "message": message]
        if let path { e["path"] = path }
        event(e, text: "ERROR : \(path.map { "\($0): " } ?? "")\(message)", stderr: true)
    }

    /// Progress (throttled: at most twice a second on a terminal, once a second in JSON).
    public func progress(items: Int, itemsTotal: Int, bytes: Int64, bytesTotal: Int64, force: Bool = false) {
        let now = Date().timeIntervalSince1970
        let (go, started) = state.withLock { s -> (Bool, Date) in
            let gap = options.json ? 1.0 : 0.5
            if !force && now - s.lastProgress < gap { return (false, s.started) }
            s.lastProgress = now
            return (true, s.started)
        }
        guard go else { return }
        let elapsed = max(0.001, now - started.timeIntervalSince1970)
        let rate = Double(bytes) / elapsed
        if options.json {
            let eta: Any = rate > 0 && bytesTotal > bytes ? Double(bytesTotal - bytes) / rate : 0.0
            emitJSON(["event": "progress", "items": items, "itemsTotal": itemsTotal, "bytes": bytes, "bytesTotal": bytesTotal,
                      "rate": (rate * 10).rounded() / 10, "eta": ((eta as? Double ?? 0) * 10).rounded() / 10])
        }
        if options.progress {
            var ws = winsize()
            let width = ioctl(2, UInt(TIOCGWINSZ), &ws) == 0 && ws.ws_col > 20 ? Int(ws.ws_col) : 80
            let line = ProgressLine(itemsDone: items, itemsTotal: itemsTotal, bytesDone: bytes, bytesTotal: bytesTotal,
                                    rate: rate).render(width: width - 1)
            state.withLock { $0.progressShown = true }
            writeAll(2, "\r\u{1B}[K" + line)
        }
    }

    /// The run ended.
    public func summary(_ s: SyncSummary) { finish(s, message: s.message) }

    /// Another command's run started (`fields` become the NDJSON "start" event).
    public func begin(_ fields: [String: any Sendable], text: String) {
        state.withLock { $0.started = Date() }
        var e = fields
        e["event"] = "start"
        event(e, text: text)
    }

    /// Any command's run ended: `s`'s fields as the NDJSON "summary" event, or `message` as text.
    public func finish(_ s: some Encodable, message: String) {
        clearProgress()
        if options.json {
            let data = (try? JSONEncoder().encode(s)) ?? Data()
            var fields = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
            fields["event"] = "summary"
            emitJSON(fields)
        } else {
            writeAll(1, message + "\n")
        }
        log(message)
    }

    private func clearProgress() {
        let shown = state.withLock { s -> Bool in defer { s.progressShown = false }; return s.progressShown }
        if shown { writeAll(2, "\r\u{1B}[K") }
    }

    private func event(_ fields: [String: any Sendable], text: String, show: Bool = true, stderr: Bool = false) {
        if options.json {
            emitJSON(fields)
        } else if show {
            clearProgress()
            writeAll(stderr ? 2 : 1, text + "\n")
        }
        log(text)
    }

    private func emitJSON(_ fields: [String: Any]) {
        var obj = fields
        obj["time"] = Self.timestamp()
        guard let data = try? JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        let line = String(decoding: data, as: UTF8.self)
        writeAll(1, line + "\n")
    }

    private func log(_ text: String) {
        let fd = state.withLock { $0.logFD }
        guard fd >= 0 else { return }
        writeAll(fd, "\(Self.timestamp()) \(text)\n")
    }

    static func timestamp() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
    }
}

/// Writes all of `text` to `fd` (bounded: each pass writes at least one byte or stops); false when it could not.
@discardableResult
public func writeAll(_ fd: Int32, _ text: String) -> Bool {
    var bytes = Array(text.utf8)
    var off = 0
    while off < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + off, $0.count - off) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return false }
        off += n
    }
    return true
}
