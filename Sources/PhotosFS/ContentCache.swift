// Content: base URLs, sizes (HEAD), the shared streamed download per item, readers, and the LRU content cache.
import Foundation
import MetadataStore
import PhotosAPI
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One streamed download of an item into its cache file, shared by every reader of the item.
final class Download: Sendable {
    struct State {
        var written: Int64 = 0
        var done = false
        var error: FSError?
        var waiters: [(need: Int64, continuation: CheckedContinuation<Void, Never>)] = []
    }
    let row: Int64
    let path: String
    let state = Mutex(State())

    init(row: Int64, path: String) { self.row = row; self.path = path }

    /// Bytes on disk so far.
    var written: Int64 { state.withLock { $0.written } }

    /// Records `n` more bytes on disk and wakes readers whose range is now there.
    func progress(_ n: Int) {
        let ready = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.written += Int64(n)
            let w = s.written
            let ready = s.waiters.filter { $0.need <= w }.map(\.continuation)
            s.waiters.removeAll { $0.need <= w }
            return ready
        }
        for c in ready { c.resume() }
    }

    /// Ends the download (success or `error`) and wakes everyone.
    func finish(_ error: FSError?) {
        let all = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.done = true
            s.error = error
            defer { s.waiters = [] }
            return s.waiters.map(\.continuation)
        }
        for c in all { c.resume() }
    }

    /// (bytes on disk, ended, error) when `need` bytes are on disk or the download ended; nil while still short.
    func ready(for need: Int64) -> (written: Int64, done: Bool, error: FSError?)? {
        state.withLock { s in s.done || s.written >= need ? (s.written, s.done, s.error) : nil }
    }

    /// Waits until `need` bytes are on disk or the download ended; returns (bytes on disk, ended, error).
    /// Bounded by the download itself: the client's idle timeout and retry policy end every transfer.
    func wait(for need: Int64) async -> (written: Int64, done: Bool, error: FSError?) {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.done || s.written >= need { return true }
                s.waiters.append((need, c))
                return false
            }
            if now { c.resume() }
        }
        return state.withLock { ($0.written, $0.done, $0.error) }
    }
}

/// What one batchGet for base URLs found.
struct BaseUrlBatch: Sendable {
    /// Fresh base URLs by Google id.
    var urls: [String: String] = [:]
    /// Ids Google no longer has (NOT_FOUND).
    var missing: [String] = []
    /// The call's failure.
    var error: PhotosAPIError?
}

/// A committed item open for reading: a descriptor on its cache file and, while it downloads, the download.
final class ItemReader: Sendable {
    let row: Int64
    let fd: Int32
    let download: Download?
    init(row: Int64, fd: Int32, download: Download?) { self.row = row; self.fd = fd; self.download = download }
}

extension PhotosFS {
    /// Base URLs are used for at most 55 of their 60 minutes.
    static let baseURLLifetime: Double = 55 * 60

    /// The cache file of an item.
    func contentPath(_ row: Int64) -> String { paths.content + "/\(row)" }

    /// `=d` for photos, `=dv` for videos.
    static func downloadParameters(_ item: ItemRecord) -> String { item.isVideo ? "dv" : "d" }

    /// A base URL younger than 55 minutes: the stored one, or a fresh one from batchGet (which also renews up to 49
    /// other stale base URLs in the same call). `force` renews even a young one (after a 403).
    func freshBaseUrl(_ item: ItemRecord, force: Bool = false) async throws(FSError) -> String {
        let path = pathOf(.item(item.row))
        let now = clock.now().timeIntervalSince1970
        if !force, let url = item.baseUrl, let at = item.baseUrlAt, now - at < Self.baseURLLifetime { return url }
        // Join a batchGet that is already fetching this id, or start one for it and up to 49 others not in flight.
        let fetch = tree.state.withLock { s -> Task<BaseUrlBatch, Never>? in force ? nil : s.baseUrlFetches[item.googleId] }
            ?? startBaseUrlFetch(item, now: now)
        let batch = await fetch.value
        if let error = batch.error { _ = try await api(path, { () throws(PhotosAPIError) in throw error }) as Void }
        guard let url = batch.urls[item.googleId] else {
            if batch.missing.contains(item.googleId) { throw FSError.stale(path) }
            throw FSError(EIO, "\(path): Google returned no download URL for the item")
        }
        return url
    }

    /// One batchGet for `item` and up to 49 other items whose base URL is stale or missing (and not being fetched),
    /// registered for each of its ids until it ends; stores the URLs and marks items Google no longer has.
    private func startBaseUrlFetch(_ item: ItemRecord, now: Double) -> Task<BaseUrlBatch, Never> {
        // Enough candidates to fill the call with ids no other call is fetching.
        let busy = tree.state.withLock { $0.baseUrlFetches.count }
        let candidates = (try? store.staleBaseUrlIds(before: now - Self.baseURLLifetime, excluding: item.row,
                                                     limit: 49 + min(busy, 5_000))) ?? []
        return tree.state.withLock { s in
            let others = candidates.filter { $0 != item.googleId && s.baseUrlFetches[$0] == nil }.prefix(49)
            let ids = [item.googleId] + others
            let task = Task { () async -> BaseUrlBatch in
                let batch = await self.fetchBaseUrls(ids, path: self.pathOf(.item(item.row)), now: now)
                self.tree.state.withLock { s in for id in ids { s.baseUrlFetches[id] = nil } }
                return batch
            }
            for id in ids { s.baseUrlFetches[id] = task }
            return task
        }
    }

    private func fetchBaseUrls(_ ids: [String], path: String, now: Double) async -> BaseUrlBatch {
        var out = BaseUrlBatch()
        do {
            let results = try await client.batchGetMediaItems(ids)
            for (i, r) in results.enumerated() {
                if let m = r.mediaItem, !m.baseUrl.isEmpty { out.urls[m.id] = m.baseUrl }
                else if i < ids.count, r.status?.code == 5 { out.missing.append(ids[i]) }   // NOT_FOUND: the item is gone
            }
        } catch {
            out.error = error
            return out
        }
        try? store.setBaseUrls(out.urls.map { (googleId: $0.key, baseUrl: $0.value) }, at: now)
        if !out.missing.isEmpty, let rows = try? store.markItemsGone(googleIds: out.missing), !rows.isEmpty { itemsWentAway(rows) }
        return out
    }

    /// -o size=exact: one HEAD for an item whose size is unknown (deduplicated per item), stored for good.
    /// nil when it failed (logged; the size stays unknown and the kernel asks again).
    func learnSize(_ item: ItemRecord) async -> Int64? {
        let task = tree.state.withLock { s -> Task<Int64?, Never> in
            if let t = s.sizing[item.row] { return t }
            let t = Task { () async -> Int64? in
                let n = await self.headSize(item)
                self.tree.state.withLock { $0.sizing[item.row] = nil }
                return n
            }
            s.sizing[item.row] = t
            return t
        }
        return await task.value
    }

    private func headSize(_ item: ItemRecord) async -> Int64? {
        if let known = (try? store.item(row: item.row))?.size { return known }
        let path = pathOf(.item(item.row))
        do throws(FSError) {
            var url = try await freshBaseUrl(item)
            var size: Int64 = 0
            for attempt in 0..<2 {
                do {
                    size = try await client.mediaSize(baseUrl: url, parameters: Self.downloadParameters(item))
                    break
                } catch {
                    guard case .baseURLExpired = error, attempt == 0 else { throw FSError(error, path: path) }
                    url = try await freshBaseUrl(item, force: true)
                }
            }
            try db(path, { () throws(StoreError) in try store.setItemSize(row: item.row, size: size) })
            sizeLearned(row: item.row, size: size)
            return size
        } catch {
            logger.warning("could not learn the size", metadata: ["path": "\(path)", "error": "\(error)"])
            return nil
        }
    }

    // MARK: open / read / release

    /// Opens a committed item for reading: the complete cache file, or the item's one shared download.
    func treeOpenItem(_ row: Int64, flags: OpenFlags) async throws(FSError) -> OpenReply {
        let item = try liveItem(row)
        let path = pathOf(.item(row))
        let file = contentPath(row)
        let now = clock.now().timeIntervalSince1970
        tree.state.withLock { $0.openReaders[row, default: 0] += 1 }
        var pinned = true
        defer { if pinned { unpin(row) } }

        // Cache hit: a complete file of the recorded length.
        if let d = tree.state.withLock({ $0.downloads[row] }) {
            return try openReader(row: row, file: file, download: d, sizeKnown: item.size != nil, unpin: &pinned)
        }
        let entry = try db(path, { () throws(StoreError) in try store.contentEntry(item: row) })
        if let entry, entry.complete, let st = try? FileManager.default.attributesOfItem(atPath: entry.path),
           (st[.size] as? NSNumber)?.int64Value == entry.size {
            try? store.touchContent(item: row, at: now)
            return try openReader(row: row, file: entry.path, download: nil, sizeKnown: true, unpin: &pinned)
        }
        // Start the download (or join one that started meanwhile). The file exists before any reader opens it.
        let (d, isNew) = tree.state.withLock { s -> (Download, Bool) in
            if let d = s.downloads[row] { return (d, false) }
            let d = Download(row: row, path: file)
            s.downloads[row] = d
            return (d, true)
        }
        if isNew {
            let fd = Glibc.open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                let e = FSError.posix(errno, path, "can't create the cache file \(file)")
                tree.state.withLock { $0.downloads[row] = nil }
                d.finish(e)
                throw e
            }
            do {
                try store.putContent(ContentRecord(itemRow: row, path: file, size: 0, complete: false), lastUsed: now)
            } catch {
                Glibc.close(fd)
                tree.state.withLock { $0.downloads[row] = nil }
                let e = FSError(error, path: path)
                d.finish(e)
                throw e
            }
            Task { await self.runDownload(d, item: item, fd: fd) }
        }
        return try openReader(row: row, file: file, download: d, sizeKnown: item.size != nil, unpin: &pinned)
    }

    private func openReader(row: Int64, file: String, download: Download?, sizeKnown: Bool, unpin pinned: inout Bool) throws(FSError) -> OpenReply {
        let fd = Glibc.open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FSError.posix(errno, pathOf(.item(row)), "can't open the cache file \(file)") }
        pinned = false   // the reader holds the pin until release
        let h = handles.insert(.reader(ItemReader(row: row, fd: fd, download: download)))
        // Size unknown (-o size=lazy, or a failed HEAD): direct I/O so the kernel reads to the real end of file.
        return OpenReply(handle: h, directIO: !sizeKnown, keepCache: sizeKnown)
    }

    /// The range of `size` bytes at `offset` of the cache file, waiting only until they are on disk.
    func treeRead(_ reader: ItemReader, offset: Int64, size: Int) async throws(FSError) -> ReadReply {
        if let reply = try treeReadNow(reader, offset: offset, size: size) { return reply }
        _ = await reader.download?.wait(for: offset + Int64(size))
        return try treeReadNow(reader, offset: offset, size: size) ?? .bytes(Data())   // the download ended or has the range
    }

    /// The range of `size` bytes at `offset` when they are on disk already (or the download ended); nil when the
    /// caller has to wait for the download. The FUSE adapter answers such reads on its own thread, without a Task.
    func treeReadNow(_ reader: ItemReader, offset: Int64, size: Int) throws(FSError) -> ReadReply? {
        let path = pathOf(.item(reader.row))
        guard offset >= 0, size >= 0 else { throw FSError(EINVAL, "\(path): negative offset or size") }
        if tree.state.withLock({ $0.goneRows.contains(reader.row) }) { throw FSError.stale(path) }
        var limit = Int64.max
        if let d = reader.download {
            guard let (written, done, error) = d.ready(for: offset + Int64(size)) else { return nil }
            if let error { throw FSError(error.errno, error.message) }
            if done { limit = written }
        }
        let want = Int(max(0, min(Int64(size), limit - offset)))
        guard want > 0 else { return .bytes(Data()) }
        return .file(fd: reader.fd, offset: offset, count: want)
    }

    /// The last close of a reader.
    func treeRelease(_ reader: ItemReader) {
        close(reader.fd)
        unpin(reader.row)
        Task { await self.evictIfNeeded() }
    }

    private func unpin(_ row: Int64) {
        tree.state.withLock { s in
            let n = (s.openReaders[row] ?? 1) - 1
            if n <= 0 { s.openReaders[row] = nil; s.goneRows.remove(row) } else { s.openReaders[row] = n }
        }
    }

    // MARK: downloads

    private func acquireTransfer() async {
        let limit = max(1, options.transfers)
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let go = tree.state.withLock { s -> Bool in
                if s.activeTransfers < limit { s.activeTransfers += 1; return true }
                s.transferWaiters.append(c)
                return false
            }
            if go { c.resume() }
        }
    }

    private func releaseTransfer() {
        let next = tree.state.withLock { s -> CheckedContinuation<Void, Never>? in
            if !s.transferWaiters.isEmpty { return s.transferWaiters.removeFirst() }   // the slot passes on
            s.activeTransfers -= 1
            return nil
        }
        next?.resume()
    }

    /// Streams the item into its cache file (resuming with a Range after a broken transfer, renewing the base URL
    /// once after a 403); on success stores the real length as the item's size, on failure removes the partial file.
    private func runDownload(_ d: Download, item: ItemRecord, fd: Int32) async {
        await acquireTransfer()
        let path = pathOf(.item(item.row))
        var failure: FSError?
        do throws(FSError) {
            var url = try await freshBaseUrl(item)
            for attempt in 0..<2 {
                let start = d.written
                do {
                    _ = try await client.download(baseUrl: url, parameters: Self.downloadParameters(item),
                                                  range: start > 0 ? ByteRange(start: start) : nil) { chunk in
                        let off = d.written
                        let n = { (buf: UnsafeRawBufferPointer) -> Int in
                            var done = 0
                            while done < buf.count {   // bounded: each pass writes at least one byte or fails
                                let w = pwrite(fd, buf.baseAddress! + done, buf.count - done, off_t(off) + off_t(done))
                                if w < 0 { if errno == EINTR { continue }; return -Int(errno) }
                                if w == 0 { return -Int(EIO) }
                                done += w
                            }
                            return done
                        }(chunk)
                        if n < 0 { throw PhotosAPIError.io(String(cString: strerror(Int32(-n)))) }
                        d.progress(n)
                    }
                    break
                } catch {
                    guard case .baseURLExpired = error, attempt == 0 else { throw FSError(error, path: path) }
                    logger.debug("base URL refused, renewing", metadata: ["path": "\(path)"])
                    url = try await freshBaseUrl(item, force: true)
                }
            }
            let size = d.written
            try db(path, { () throws(StoreError) in try store.completeContent(item: item.row, size: size, at: clock.now().timeIntervalSince1970) })
            sizeLearned(row: item.row, size: size)
        } catch {
            failure = error
        }
        close(fd)
        if let failure {
            let e = failure.errno == ENOSPC || failure.errno == ESTALE ? failure : FSError(EIO, "download failed: \(failure.message)")
            logger.error("download failed", metadata: ["path": "\(path)", "error": "\(failure)"])
            _ = Glibc.unlink(d.path)
            try? store.removeContent(item: item.row)
            tree.state.withLock { $0.downloads[item.row] = nil }
            d.finish(e)
        } else {
            tree.state.withLock { $0.downloads[item.row] = nil }
            d.finish(nil)
        }
        releaseTransfer()
        await evictIfNeeded()
    }

    /// LRU eviction down to -o cache_max_size; files an open reader or a download uses are never evicted.
    func evictIfNeeded() async {
        let start = tree.state.withLock { s -> Bool in
            if s.evicting { return false }
            s.evicting = true
            return true
        }
        guard start else { return }
        defer { tree.state.withLock { $0.evicting = false } }
        guard var total = try? store.contentBytes(), total > options.cacheMaxSize else { return }
        guard let candidates = try? store.contentLRU(limit: 10_000) else { return }
        for c in candidates where total > options.cacheMaxSize {
            let busy = tree.state.withLock { ($0.openReaders[c.itemRow] ?? 0) > 0 || $0.downloads[c.itemRow] != nil }
            if busy { continue }
            _ = Glibc.unlink(c.path)
            try? store.removeContent(item: c.itemRow)
            total -= c.size
            logger.debug("evicted from the content cache", metadata: ["item": "\(c.itemRow)", "bytes": "\(c.size)"])
        }
    }
}
