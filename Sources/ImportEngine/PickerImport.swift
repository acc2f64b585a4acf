// `gphotos-sync import picker`: a Picker API session (link + terminal QR code), polling at the session's interval,
// then each picked item downloaded once (dedupe by picked id across sessions) with its capture time as mtime.
import Foundation
import PhotosAPI
import SyncEngine

/// What a picker import does.
public struct PickerRequest: Sendable {
    /// The dataset directory (created when missing).
    public var dataset: String
    /// Folder template by capture date: {year}, {month}, {day}.
    public var layout = "{year}"
    /// The most items the user may pick (Google's cap is 2000).
    public var maxItems: Int64?
    /// Stop waiting for the user after this many seconds (default: the session's own timeout).
    public var timeout: Double?
    /// Creates a request.
    public init(dataset: String) { self.dataset = dataset }
}

/// Runs picker imports.
public enum PickerImporter {
    /// Base URLs live 60 minutes: a session older than this is not resumed (its items would need fresh URLs anyway,
    /// and the session itself may be gone).
    static let resumeWindow: Double = 3600

    /// Runs `req` with `client` (which needs the photospicker.mediaitems.readonly scope); never throws.
    public static func run(_ req: PickerRequest, client: PhotosClient, reporter: SyncReporter, abort: AbortFlag = AbortFlag(),
                           showLink: @escaping @Sendable (String) -> Void) async -> ImportSummary {
        let started = Date()
        var summary = ImportSummary()
        summary.source = "picker"
        let dataset = URL(fileURLWithPath: req.dataset).standardizedFileURL.path
        summary.dataset = dataset
        reporter.begin(["source": "picker", "dataset": dataset], text: "import picker → \(dataset)")
        do throws(SyncError) {
            try await Job(req, dataset: dataset, client: client, reporter: reporter, abort: abort, showLink: showLink).run(&summary)
        } catch {
            summary.fail(error, reporter: reporter)
        }
        summary.end(started: started, reporter: reporter)
        return summary
    }

    /// Maps a client error to the sync layer's error, naming what was being done.
    static func wrap(_ e: PhotosAPIError, _ doing: String) -> SyncError {
        switch e {
        case .insufficientScopes, .notAuthorized, .invalidGrant:
            return SyncError(.fatal, "\(doing): \(e) (run gphotosfs auth login --picker to grant the Picker permission)")
        case .dailyQuotaExceeded, .rateLimited, .transport, .outcomeUnknown:
            return SyncError(.temporary, "\(doing): \(e) (run again later: saved items are kept)")
        case .api(_, let http, _) where http >= 500:
            return SyncError(.temporary, "\(doing): \(e) (run again later: saved items are kept)")
        default:
            return SyncError(.noRetry, "\(doing): \(e)")
        }
    }

    final class Job: @unchecked Sendable {   // one task uses it at a time
        let req: PickerRequest
        let client: PhotosClient
        let reporter: SyncReporter
        let abort: AbortFlag
        let staging: Staging
        let manifest: ImportManifest
        let layout: FolderLayout
        let lockFD: Int32
        let showLink: @Sendable (String) -> Void

        init(_ req: PickerRequest, dataset: String, client: PhotosClient, reporter: SyncReporter, abort: AbortFlag,
             showLink: @escaping @Sendable (String) -> Void) throws(SyncError) {
            self.req = req; self.client = client; self.reporter = reporter; self.abort = abort; self.showLink = showLink
            layout = try FolderLayout(req.layout)
            if let m = req.maxItems, !(1...2000).contains(m) { throw SyncError(.usage, "--max-items \(m): give 1 to 2000 (Google's cap)") }
            if mkdir(dataset, 0o755) != 0 && errno != EEXIST { throw SyncError.posix(errno, dataset, "can't create the dataset directory") }
            staging = Staging(dataset: dataset)
            try staging.prepare()
            lockFD = try staging.lock()
            manifest = try ImportManifest(path: staging.manifest)
        }

        deinit { close(lockFD) }

        func run(_ summary: inout ImportSummary) async throws(SyncError) {
            let session = try await session()
            let set = session.mediaItemsSet ? session : try await waitForPicks(session)
            try await save(set, &summary)
            do { try await client.deletePickingSession(set.id) } catch {
                reporter.warning("picking session \(set.id): can't delete it (\(error)); Google deletes it when it expires")
            }
            try manifest.setSession(id: set.id, created: 0, pickerUri: set.pickerUri, state: "done")
        }

        /// The session to use: the open one an interrupted run left (if still live and young), else a new one.
        func session() async throws(SyncError) -> PickingSession {
            if let open = try manifest.openSession() {
                if Date().timeIntervalSince1970 - open.created < PickerImporter.resumeWindow {
                    do {
                        let s = try await client.getPickingSession(open.id)
                        reporter.note("resuming picking session \(open.id)")
                        if !s.mediaItemsSet { showLink(s.pickerUri) }
                        return s
                    } catch {
                        reporter.warning("the earlier picking session \(open.id) can't be resumed (\(error)): starting a new one")
                    }
                }
                try manifest.setSession(id: open.id, created: open.created, pickerUri: open.pickerUri, state: "expired")
            }
            let s: PickingSession
            do { s = try await client.createPickingSession(maxItemCount: req.maxItems) } catch {
                throw PickerImporter.wrap(error, "creating a picking session")
            }
            try manifest.setSession(id: s.id, created: Date().timeIntervalSince1970, pickerUri: s.pickerUri, state: "open")
            showLink(s.pickerUri)
            return s
        }

        /// Polls at the session's interval until the user is done, the session's timeout (or --timeout) passes, or
        /// the session expires.
        func waitForPicks(_ first: PickingSession) async throws(SyncError) -> PickingSession {
            let started = Date()
            var s = first
            let limit = min(req.timeout ?? .infinity, first.timeoutIn ?? 1800)
            for _ in 0..<100_000 {   // bounded by the deadline below
                if abort.isSet { throw SyncError(.aborted, "stopped while waiting for picks (run again within an hour to resume the session)") }
                let waited = Date().timeIntervalSince(started)
                if waited >= limit || s.timeoutIn == 0 {
                    try? await client.deletePickingSession(s.id)
                    try manifest.setSession(id: s.id, created: 0, pickerUri: s.pickerUri, state: "timed-out")
                    throw SyncError(.temporary, "nobody finished picking within \(HumanUnits.duration(waited)): run again and tap Done in the picker")
                }
                let interval = min(max(s.pollInterval ?? 5, 0.5), 60, max(0.1, limit - waited))
                var left = interval
                while left > 0 && !abort.isSet {   // sleep in short steps so a stop signal is noticed
                    try? await Task.sleep(nanoseconds: UInt64(min(left, 0.25) * 1e9))
                    left -= 0.25
                }
                do { s = try await client.getPickingSession(s.id) } catch {
                    if case .api(_, 403, _) = error {
                        try manifest.setSession(id: s.id, created: 0, pickerUri: s.pickerUri, state: "expired")
                        throw SyncError(.temporary, "the picking session expired before the picks were done: run again for a new one")
                    }
                    if case .api(_, 404, _) = error {
                        try manifest.setSession(id: s.id, created: 0, pickerUri: s.pickerUri, state: "expired")
                        throw SyncError(.temporary, "the picking session is gone (deleted or expired): run again for a new one")
                    }
                    throw PickerImporter.wrap(error, "checking the picking session")
                }
                if s.mediaItemsSet { return s }
            }
            throw SyncError(.temporary, "gave up waiting for picks")
        }

        /// Lists the picks (fresh base URLs) and saves each one not saved by an earlier session or run.
        func save(_ s: PickingSession, _ summary: inout ImportSummary) async throws(SyncError) {
            var items: [PickedMediaItem] = []
            do { for try await item in client.pickedItems(sessionId: s.id) { items.append(item) } } catch {
                throw PickerImporter.wrap((error as? PhotosAPIError) ?? .io("\(error)"), "listing the picked items")
            }
            let saved = try manifest.picked()
            summary.items = items.count
            summary.mediaFiles = items.count
            var names: [String: Set<String>] = [:]
            for (i, item) in items.enumerated() {
                if abort.isSet { throw SyncError(.aborted, "stopped after \(i) of \(items.count) items (run again within an hour to resume)") }
                if let done = saved[item.id] {
                    summary.alreadyImported += 1
                    reporter.item("unchanged", done.path, detail: "picked before")
                    continue
                }
                do throws(SyncError) {
                    let path = try await saveOne(item, names: &names, &summary)
                    try manifest.addPicked(id: item.id, session: s.id, path: path)
                    summary.imported += 1
                    reporter.item("imported", path)
                } catch {
                    if error.kind == .fatal || error.kind == .temporary { throw error }
                    summary.errors += 1
                    reporter.error(item.mediaFile?.filename, error.message)
                }
                reporter.progress(items: i + 1, itemsTotal: items.count, bytes: summary.bytes, bytesTotal: 0)
            }
        }

        /// Downloads one item (=d or =dv, Bearer) into staging, then links it to LAYOUT/NAME with its capture time.
        func saveOne(_ item: PickedMediaItem, names: inout [String: Set<String>], _ summary: inout ImportSummary) async throws(SyncError) -> String {
            guard let file = item.mediaFile, !file.baseUrl.isEmpty else {
                throw SyncError(.noRetry, "picked item \(item.id): Google sent no download address")
            }
            let name = FolderNames.safe(file.filename.isEmpty ? item.id : file.filename)
            let taken = item.createTime.map { Int64($0.timeIntervalSince1970) }
            let dir = layout.render(time: taken, year: nil)
            let staged = try await download(item, label: name)
            summary.bytes += staged.size
            let object = staging.object(staged.sha)
            defer { unlink(object) }
            if let taken { try Staging.setDate(object, taken) }
            var inDir = names[dir] ?? []
            let candidate = FolderNames.free(name) { inDir.contains($0) || access(staging.dataset + "/" + dir + "/" + $0, F_OK) == 0 }
            inDir.insert(candidate)
            names[dir] = inDir
            let rel = dir + "/" + candidate
            try staging.makeParents(rel)
            try Staging.linkOrCopy(object, staging.dataset + "/" + rel)
            return rel
        }

        /// Streams one item's bytes into a staged object.
        func download(_ item: PickedMediaItem, label: String) async throws(SyncError) -> (sha: String, size: Int64) {
            let stream = ChunkPipe()
            let param = item.type == "VIDEO" ? "dv" : "d"
            let baseUrl = item.mediaFile?.baseUrl ?? ""
            let client = self.client
            let fetch = Task { () -> Result<Int64, PhotosAPIError> in
                do throws(PhotosAPIError) {
                    let n = try await client.download(baseUrl: baseUrl, parameters: param, bearer: true, endpoint: "picker.media") { chunk in
                        try stream.put(chunk)
                    }
                    stream.finish(ok: true)
                    return .success(n)
                } catch {
                    stream.finish(ok: false)
                    return .failure(error)
                }
            }
            let staging = self.staging, abort = self.abort
            let result = await onThread { () -> Result<(String, Int64), SyncError> in
                do {
                    let r = try staging.stage(label, abort: abort) { feed in try stream.drain(feed) }
                    return .success((r.sha, r.size))
                } catch {
                    stream.cancel()
                    return .failure((error as? SyncError) ?? SyncError(.other, "\(label): \(error)"))
                }
            }
            if case .failure(let e) = await fetch.value { throw PickerImporter.wrap(e, "downloading \(label)") }
            switch result {
            case .success(let r): return (r.0, r.1)
            case .failure(let e): throw e
            }
        }
    }
}

/// A bounded hand-over of downloaded chunks from the HTTP callback to the thread that writes them (at most 8 MiB
/// waiting, so memory stays flat whatever the file size).
final class ChunkPipe: @unchecked Sendable {   // all state under `cond`
    private let cond = NSCondition()
    private var chunks: [Data] = []
    private var queued = 0
    private var finished = false
    private var ok = true
    private var cancelled = false
    private static let maxQueued = 8 << 20

    /// Called by the downloader: blocks while the queue is full; throws once the writer gave up.
    func put(_ chunk: UnsafeRawBufferPointer) throws {
        cond.lock(); defer { cond.unlock() }
        while queued >= Self.maxQueued && !cancelled { cond.wait() }
        if cancelled { throw CancellationError() }
        chunks.append(Data(chunk))
        queued += chunk.count
        cond.broadcast()
    }

    /// The download ended; `ok` false makes `drain` throw, so a partial file is never stored.
    func finish(ok: Bool) { cond.lock(); finished = true; self.ok = ok; cond.broadcast(); cond.unlock() }

    /// The writer gave up.
    func cancel() { cond.lock(); cancelled = true; cond.broadcast(); cond.unlock() }

    /// Feeds every chunk to `body` until the download ends.
    func drain(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        while true {
            cond.lock()
            while chunks.isEmpty && !finished { cond.wait() }
            if chunks.isEmpty && finished {
                let ok = self.ok
                cond.unlock()
                if ok { return }
                throw SyncError(.temporary, "the download failed")
            }
            let c = chunks.removeFirst()
            queued -= c.count
            cond.broadcast()
            cond.unlock()
            try c.withUnsafeBytes { try body($0) }
        }
    }
}
