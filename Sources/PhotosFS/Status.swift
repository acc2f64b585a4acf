// The mount's status (root xattr `user.gphotos.status`, printed by `gphotosfs status`) and API usage accounting.
import Foundation
import MetadataStore
import PhotosAPI

/// What `gphotosfs status` shows: the upload queue, failures, pauses, cache use and API requests today.
public struct MountStatus: Codable, Sendable, Equatable {
    /// One file still on its way.
    public struct Pending: Codable, Sendable, Equatable {
        /// The file under the mount.
        public var path: String
        /// Its journal state.
        public var state: String
        /// Bytes written.
        public var size: Int64
        /// Upload attempts so far.
        public var attempts: Int64
        /// When the next attempt may run (ISO 8601), if delayed.
        public var nextTry: String?
        /// The last error, if any.
        public var lastError: String?
    }
    /// One failed upload.
    public struct Failure: Codable, Sendable, Equatable {
        /// The file under the mount.
        public var path: String
        /// Why it failed.
        public var error: String
        /// Attempts made.
        public var attempts: Int64
    }
    /// Journal rows per state.
    public var counts: [String: Int]
    /// Files waiting to be uploaded or committed (spooled, uploading, uploaded, creating); placeholders and files
    /// still open for writing are not counted.
    public var queued: Int
    /// Files on their way (not committed, not failed), placeholders and open files included.
    public var pending: [Pending]
    /// Failed uploads.
    public var failures: [Failure]
    /// Pending files left out of `pending` (the list keeps the first `MountStatus.listLimit`: an xattr value holds at
    /// most 64 KiB).
    public var pendingOmitted = 0
    /// Failures left out of `failures` likewise.
    public var failuresOmitted = 0
    /// Longest list kept in the status.
    public static let listLimit = 50
    /// Uploads are paused until then (daily quota), ISO 8601.
    public var quotaPausedUntil: String?
    /// Why uploads stopped (re-authorize: gphotosfs auth login).
    public var authFailure: String?
    /// Bytes in the content cache.
    public var contentCacheBytes: Int64
    /// Bytes in the spool (written, not yet committed).
    public var spoolBytes: Int64
    /// The quota day (Pacific time) and its API requests and media downloads so far.
    public var quotaDay: String
    /// API requests this quota day (of 10,000).
    public var apiRequestsToday: Int
    /// Media downloads this quota day (of 75,000).
    public var downloadsToday: Int
}

extension PhotosFS {
    /// Adds the client's request counts since the last call to today's `apiUsage` row (Pacific-time day).
    func persistUsage() {
        let snap = client.counters.snapshot
        let delta: [String: Int] = writes.s.withLock { s in
            var d: [String: Int] = [:]
            for (k, v) in snap where v != s.persistedCounters[k] { d[k] = v - (s.persistedCounters[k] ?? 0) }
            s.persistedCounters = snap
            return d
        }
        guard !delta.isEmpty else { return }
        let downloads = delta.filter { Self.isDownload($0.key) }.values.reduce(0, +)
        let requests = delta.values.reduce(0, +) - downloads
        try? store.addAPIUsage(day: Self.pacificDay(clock.now()), requests: requests, downloads: downloads)
    }

    /// Whether a counter names a base-URL fetch (counted against the media quota, not the API quota).
    static func isDownload(_ endpoint: String) -> Bool {
        endpoint.hasPrefix("media") && !endpoint.hasPrefix("mediaItems") || endpoint.hasPrefix("download")
    }

    /// The mount's status as JSON (root xattr `user.gphotos.status`, read by `gphotosfs status`).
    func mountStatusJSON() throws(FSError) -> Data {
        persistUsage()
        let rows = try stored("status") { () throws(StoreError) in try store.journalAll() }
        let iso = ISO8601DateFormatter()
        let now = nowSeconds
        var pending: [MountStatus.Pending] = []
        var failures: [MountStatus.Failure] = []
        var counts: [String: Int] = [:]
        var spoolBytes: Int64 = 0
        for r in rows {
            counts[r.state, default: 0] += 1
            if r.journalState != .committed, let a = try? FileManager.default.attributesOfItem(atPath: r.spoolPath),
               let n = a[.size] as? NSNumber { spoolBytes += n.int64Value }
            switch r.journalState {
            case .committed: continue
            case .failed: failures.append(.init(path: rowPath(r), error: r.error ?? "failed", attempts: r.attempts))
            default:
                let next = r.notBefore.flatMap { $0 > now ? iso.string(from: Date(timeIntervalSince1970: $0)) : nil }
                pending.append(.init(path: rowPath(r), state: r.state, size: r.size, attempts: r.attempts, nextTry: next,
                                     lastError: r.error))
            }
        }
        let (quota, auth) = writes.s.withLock { ($0.quotaUntil, $0.authFailure) }
        let day = Self.pacificDay(clock.now())
        let usage = (try? store.apiUsage(day: day)) ?? (requests: 0, downloads: 0)
        let queued = activeStates.map { counts[$0.rawValue] ?? 0 }.reduce(0, +)
        var status = MountStatus(counts: counts, queued: queued, pending: Array(pending.prefix(MountStatus.listLimit)),
                                 failures: Array(failures.prefix(MountStatus.listLimit)).map { f in
                                     var f = f
                                     if f.error.count > 300 { f.error = String(f.error.prefix(300)) + "…" }
                                     return f
                                 },
                                 quotaPausedUntil: quota.map { iso.string(from: $0) }, authFailure: auth,
                                 contentCacheBytes: (try? store.contentCacheBytes()) ?? 0, spoolBytes: spoolBytes,
                                 quotaDay: day, apiRequestsToday: usage.requests, downloadsToday: usage.downloads)
        status.pendingOmitted = max(0, pending.count - MountStatus.listLimit)
        status.failuresOmitted = max(0, failures.count - MountStatus.listLimit)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .prettyPrinted]
        do { return try enc.encode(status) } catch { throw FSError(EIO, "status: \(error)") }
    }
}
