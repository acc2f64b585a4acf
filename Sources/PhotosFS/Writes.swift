// The write side's state and lifecycle: the uploader task, wake-ups, fsync waiters, quota pause, auth failure, shutdown.
import Foundation
import Logging
import MetadataStore
import PhotosAPI
import Synchronization

/// A wake-up signal many tasks can wait on with a timeout (real time: it bounds latency, never decides a time rule).
final class Broadcast: Sendable {
    private struct S { var generation = 0; var next = 0; var waiters: [Int: CheckedContinuation<Void, Never>] = [:] }
    private let s = Mutex(S())

    /// The current generation (pass it to `wait` to not miss a signal sent in between).
    var generation: Int { s.withLock { $0.generation } }

    /// Wakes every waiter.
    func signal() {
        let waiting = s.withLock { s in
            s.generation += 1
            defer { s.waiters.removeAll() }
            return Array(s.waiters.values)
        }
        for c in waiting { c.resume() }
    }

    /// Returns at the next signal after `generation`, after `timeout` seconds, or when the task is cancelled.
    func wait(since generation: Int, timeout: Double) async {
        let id = s.withLock { s -> Int in s.next += 1; return s.next }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let waiting = s.withLock { s -> Bool in
                    guard s.generation == generation, !Task.isCancelled else { return false }
                    s.waiters[id] = c
                    return true
                }
                guard waiting else { c.resume(); return }
                Task {
                    try? await Task.sleep(nanoseconds: UInt64(max(0.001, min(timeout, 60)) * 1e9))
                    self.s.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
                }
            }
        } onCancel: {
            // Cancelled before the waiter was registered: the check above sees Task.isCancelled instead.
            s.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}

/// State of the write side (uploader task, fsync waiters, quota pause).
final class WriteState: Sendable {
    struct S {
        /// The scheduler loop.
        var scheduler: Task<Void, Never>?
        /// No new uploads are started (shutdown).
        var stopped = false
        /// Shutdown drain: skip the write-back delay so pending rows go now.
        var draining = false
        /// Uploads in progress, by journal id.
        var uploads: [Int64: Task<Void, Never>] = [:]
        /// The one batchCreate task (serial per account).
        var batch: Task<Void, Never>?
        /// Rows an fsync (or a sync close) waits for: committed without the write-back delay or batching wait.
        var urgent: Set<Int64> = []
        /// Since when uploaded rows wait for company with nothing else queued (UploadPolicy.batchLinger; real time,
        /// not the fs clock: it is a pause between two `cp` files, not a policy deadline).
        var lingerSince: ContinuousClock.Instant?
        /// Since when fsync'd rows that are uploaded wait for other fsync'd rows still uploading (real time).
        var urgentSince: ContinuousClock.Instant?
        /// Uploads paused until then (daily quota).
        var quotaUntil: Date?
        /// Why the account can't be used (re-authorize), nil when fine.
        var authFailure: String?
        /// Request counters already persisted to apiUsage.
        var persistedCounters: [String: Int] = [:]
    }
    let s = Mutex(S())
    /// Wakes the scheduler.
    let kick = Broadcast()
    /// Signals any journal change (fsync waiters, waitForUploads).
    let changed = Broadcast()
    init() {}
}

/// Journal states that still owe an upload.
let activeStates: [JournalState] = [.spooled, .uploading, .uploaded, .creating]

extension PhotosFS {
    /// Now, as stored in the journal (seconds since 1970 on `clock`).
    var nowSeconds: Double { clock.now().timeIntervalSince1970 }

    /// Runs a store call, mapping its error for `path`.
    func stored<T>(_ path: String, _ body: () throws(StoreError) -> T) throws(FSError) -> T {
        do { return try body() } catch { throw FSError(error, path: path) }
    }

    /// Loads the quota pause and auth failure from `facts`, resumes the journal and starts the scheduler.
    func startWrites() async {
        let quota = (try? store.fact("quotaPausedUntil")).flatMap(Double.init).map { Date(timeIntervalSince1970: $0) }
        var auth = try? store.fact("authFailure")
        if auth != nil, !options.readOnly {
            // A remount after `gphotosfs auth login`: one cheap call tells whether the account works again.
            do throws(PhotosAPIError) {
                _ = try await client.listAlbums(pageSize: 1)
                try? store.setFact("authFailure", nil)
                auth = nil
                logger.info("the account works again; uploads resume")
            } catch { logger.error("uploads stay stopped: \(auth ?? "") — re-authorize: gphotosfs auth login") }
        }
        writes.s.withLock { $0.quotaUntil = quota; $0.authFailure = auth; $0.stopped = false; $0.draining = false }
        guard !options.readOnly else { return }
        // Rows left in `writing` by a crash were never acknowledged (close() had not returned 0): finalize them now.
        for row in (try? store.journalRows(states: [.writing])) ?? [] { recoverWriting(row) }
        try? store.journalResetDelays(now: nowSeconds)
        let journaled = (try? store.journalRows(states: activeStates).count) ?? 0
        if journaled > 0 { logger.notice("resuming \(journaled) journaled uploads") }
        let task = Task { [self] in await schedulerLoop() }
        writes.s.withLock { $0.scheduler = task }
    }

    /// Stops taking new work, gives pending uploads `grace` seconds, leaves the rest journaled; returns how many remain.
    func stopWrites(grace: Double) async -> Int {
        let running = writes.s.withLock { s -> Bool in s.draining = true; return s.scheduler != nil }
        writes.kick.signal()
        let deadline = Date().addingTimeInterval(max(0, grace))   // real time: how long unmount may block
        while running, Date() < deadline {
            let gen = writes.changed.generation
            let (blocked, busy) = writes.s.withLock { ($0.quotaUntil != nil || $0.authFailure != nil, !$0.uploads.isEmpty || $0.batch != nil) }
            let left = (try? store.journalRows(states: activeStates).count) ?? 0
            if left == 0 || (blocked && !busy) { break }
            await writes.changed.wait(since: gen, timeout: min(0.5, deadline.timeIntervalSinceNow))
        }
        let (scheduler, tasks) = writes.s.withLock { s in
            s.stopped = true
            return (s.scheduler, Array(s.uploads.values) + (s.batch.map { [$0] } ?? []))
        }
        scheduler?.cancel()
        for t in tasks { t.cancel() }
        await scheduler?.value
        for t in tasks { await t.value }
        writes.s.withLock { $0.scheduler = nil; $0.uploads = [:]; $0.batch = nil }
        persistUsage()
        let left = (try? store.journalRows(states: activeStates + [.writing]).count) ?? 0
        if left > 0 { logger.notice("\(left) uploads left journaled for the next mount") }
        return left
    }

    /// Fails a mutation with EROFS (-o ro) or EACCES (the account needs re-authorization).
    func checkMutable(_ path: String) throws(FSError) {
        if options.readOnly { throw FSError.readOnly(path) }
        if let why = writes.s.withLock({ $0.authFailure }) {
            throw FSError(EACCES, "\(path): the account's authorization failed (\(why)) — re-authorize: gphotosfs auth login")
        }
    }

    /// Waits for one row's outcome: nil when committed (or removed), its error when failed. Bounded by `timeout`.
    func waitForCommit(_ id: Int64, path: String, timeout: Double = 600) async throws(FSError) {
        writes.s.withLock { _ = $0.urgent.insert(id) }
        defer { writes.s.withLock { _ = $0.urgent.remove(id) } }
        writes.kick.signal()
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let gen = writes.changed.generation
            guard let row = try stored(path, { () throws(StoreError) in try store.journalRow(id) }) else { return }
            switch row.journalState {
            case .committed, .placeholder: return
            case .failed: throw uploadFailure(row, path: path)
            case .writing: throw FSError(EBUSY, "\(path): the file is open for writing again")
            default: break
            }
            let (quota, auth) = writes.s.withLock { ($0.quotaUntil, $0.authFailure) }
            if let auth { throw FSError(EACCES, "\(path): not uploaded yet (\(auth)) — re-authorize: gphotosfs auth login; the file stays journaled") }
            if let quota, clock.now() < quota {
                throw FSError(EDQUOT, "\(path): the daily Google Photos API quota is used up; the upload waits until \(quota) (journaled)")
            }
            if Date() >= deadline { throw FSError(ETIMEDOUT, "\(path): not committed after \(Int(timeout)) s; it stays journaled") }
            await writes.changed.wait(since: gen, timeout: 0.5)
        }
    }

    /// The errno a failed row reports.
    func uploadFailure(_ row: JournalRow, path: String) -> FSError {
        let why = row.error ?? "the upload failed"
        if why.contains("not a photo or video") { return FSError(EMEDIUMTYPE, "\(path): \(why)") }
        return FSError(EIO, "\(path): \(why)")
    }
}

extension PhotosFS {
    /// Waits until no upload is pending (committed or failed), at most `timeout` seconds; ETIMEDOUT otherwise.
    public func waitForUploads(timeout: Double) async throws(FSError) {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let gen = writes.changed.generation
            let left = try stored("uploads", { () throws(StoreError) in try store.journalRows(states: activeStates) })
            if left.isEmpty { return }
            let (quota, auth) = writes.s.withLock { ($0.quotaUntil, $0.authFailure) }
            if let auth { throw FSError(EACCES, "\(left.count) uploads wait: \(auth) — re-authorize: gphotosfs auth login") }
            if let quota, clock.now() < quota { throw FSError(EDQUOT, "\(left.count) uploads wait for the daily quota to reset at \(quota)") }
            if Date() >= deadline { throw FSError(ETIMEDOUT, "\(left.count) uploads still pending after \(Int(timeout)) s") }
            await writes.changed.wait(since: gen, timeout: 0.5)
        }
    }
}
