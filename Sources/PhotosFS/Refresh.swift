// Refresh: listings are refreshed from the API when older than -o dir_cache_time; one refresh per key at a time.
import Foundation
import MetadataStore
import PhotosAPI

extension PhotosFS {
    /// Seconds before a failed background refresh is tried again.
    var refreshRetryDelay: Double { min(max(options.dirCacheTime, 1), 30) }

    /// Refresh keys a directory needs: `wait` ones block a first listing; `background` ones are only kept fresh.
    func refreshKeys(_ node: NodeID) -> (wait: [String], background: [String]) {
        switch node {
        case .albumRoot, .titlePrefix: return (["albums"], [])
        case .album(let row):
            guard let a = try? store.album(row: row) else { return ([], ["albums"]) }
            return ([Self.albumKey(a.googleId)], ["albums"])
        case .mediaAll, .dateRoot, .date: return (["media"], [])
        case .root, .mediaRoot, .uploadRoot, .item, .pending: return ([], [])
        }
    }

    /// When `key` was last refreshed (memoized from the `refreshes` table); nil = never.
    func refreshStamp(_ key: String) -> Double? {
        if let t = tree.state.withLock({ $0.refreshedAt[key] }) { return t.isFinite ? t : nil }
        let t = (try? store.refreshedAt(key)) ?? nil
        tree.state.withLock { $0.refreshedAt[key] = t ?? -.infinity }
        return t
    }

    /// Makes sure `node`'s data was fetched at least once (waiting for it), and starts a background refresh of
    /// anything older than -o dir_cache_time (the stale listing is served meanwhile).
    func ensureFresh(for node: NodeID) async throws(FSError) {
        let (wait, background) = refreshKeys(node)
        let now = clock.now().timeIntervalSince1970
        for key in wait + background {
            if let at = refreshStamp(key) {
                guard now - at >= options.dirCacheTime else { continue }
                let failed = tree.state.withLock { $0.failedAt[key] }
                if let failed, now - failed < refreshRetryDelay { continue }
                _ = startRefresh(key)
            } else if wait.contains(key) {
                guard let error = await startRefresh(key).value else { continue }
                // Quota or authorization trouble: browse what SQLite has (uploads pause; status says why).
                guard error.errno == EDQUOT || error.errno == EACCES else { throw error }
                logger.warning("listing from the local cache only", metadata: ["key": "\(key)", "error": "\(error)"])
            } else {
                let failed = tree.state.withLock { $0.failedAt[key] }
                if failed == nil || now - failed! >= refreshRetryDelay { _ = startRefresh(key) }
            }
        }
    }

    /// The refresh of `key` in flight, or a new one.
    @discardableResult
    func startRefresh(_ key: String) -> Task<FSError?, Never> {
        tree.state.withLock { s in
            if let r = s.refreshing[key] { return r.task }
            s.tick += 1
            let id = s.tick
            let task = Task { await self.runRefresh(key, id: id) }
            s.refreshing[key] = (id, task)
            return task
        }
    }

    /// Refreshes `node` now (setxattr user.gphotos.refresh) and waits: a directory's own key, album/ also the album
    /// list, the root everything (the album list, the library and every album listed before).
    func forceRefresh(_ node: NodeID) async throws(FSError) {
        var keys: [String]
        switch node {
        case .root:
            keys = ["albums", "media"]
            let albumKeys = ((try? store.refreshKeys()) ?? []).filter { $0.hasPrefix("album:") }.sorted()
            keys += albumKeys
        case .albumRoot, .titlePrefix: keys = ["albums"]
        case .album(let row):
            guard let a = try db(pathOf(node), { () throws(StoreError) in try store.album(row: row) }) else { throw FSError.noEntry(pathOf(node)) }
            keys = ["albums", Self.albumKey(a.googleId)]
        case .mediaRoot, .mediaAll, .dateRoot, .date, .uploadRoot: keys = ["media"]
        case .item, .pending: throw FSError.notSupported("\(pathOf(node)): user.gphotos.refresh on a file")
        }
        for key in keys {
            let running = tree.state.withLock { $0.refreshing[key]?.task }
            if let running { _ = await running.value }   // started before the user asked: may predate the change
            if let error = await startRefresh(key).value { throw error }
        }
    }

    /// Runs one refresh and records its outcome. A refresh overtaken by a local change of its key (it fetched
    /// before the change reached Google) stops writing and runs again, at most `maxRefreshRuns` times.
    private func runRefresh(_ key: String, id: UInt64) async -> FSError? {
        var failure: FSError?
        do throws(FSError) {
            for run in 1...Self.maxRefreshRuns {
                let started = refreshEpoch()
                let since = generation(key)
                let complete: Bool
                if key == "albums" {
                    complete = try await refreshAlbumList(started: started, since: since)
                } else if key == "media" {
                    complete = try await refreshLibrary(started: started, since: since)
                } else if key.hasPrefix("album:") {
                    complete = try await refreshAlbumItems(googleId: String(key.dropFirst(6)), started: started, since: since)
                } else {
                    complete = true
                }
                if complete { break }
                logger.debug("a local change overtook the refresh; its answer is outdated", metadata: ["key": "\(key)", "run": "\(run)"])
            }
            let done = clock.now().timeIntervalSince1970
            try db("refresh \(key)", { () throws(StoreError) in try store.setRefreshed(key, at: done) })
            tree.state.withLock { s in
                s.refreshedAt[key] = done
                s.failedAt[key] = nil
            }
            invalidate(dependingOn: key)
            Self.returnFreedMemory()
        } catch {
            failure = error
            logger.warning("refresh failed", metadata: ["key": "\(key)", "error": "\(error)"])
            tree.state.withLock { $0.failedAt[key] = clock.now().timeIntervalSince1970 }
        }
        tree.state.withLock { s in if s.refreshing[key]?.id == id { s.refreshing[key] = nil } }
        return failure
    }

    /// Runs of one refresh overtaken by local changes before it gives up until the next one.
    static let maxRefreshRuns = 3

    /// The refresh key of an album's items.
    static func albumKey(_ googleId: String) -> String { "album:" + googleId }

    /// The current local-change counter of refresh `key`.
    func generation(_ key: String) -> UInt64 { tree.generations.withLock { $0[key] ?? 0 } }

    /// Records in SQLite (`write`) a change Google has accepted, of what refreshes `keys` fetch and directories `dirs`
    /// list. A refresh of those keys that started earlier stops writing (its answer may predate the change), and no
    /// listing of them built while the change is written is kept: a reader never combines a cached listing from
    /// before the change with journal rows from after it.
    func localChange<T>(_ keys: [String], dirs: [NodeID], path: String, _ write: () throws(StoreError) -> T) throws(FSError) -> T {
        tree.generations.withLock { g in for k in keys { g[k, default: 0] &+= 1 } }
        tree.state.withLock { $0.changing += 1 }
        for d in dirs { invalidateListing(d) }
        defer {
            tree.state.withLock { $0.changing -= 1 }
            for d in dirs { invalidateListing(d) }
        }
        return try stored(path, write)
    }

    /// Writes part of a refresh's answer unless a local change of `key` happened since `since` (nil: not written).
    /// The check and the write hold the generation lock together, so a local change is either fully before the
    /// write (and seen) or after it (and overwrites it).
    private func refreshWrite<T>(_ key: String, since: UInt64, path: String, _ body: () throws(StoreError) -> T) throws(FSError) -> T? {
        do {
            return try tree.generations.withLock { (g: inout [String: UInt64]) throws(StoreError) -> T? in
                guard (g[key] ?? 0) == since else { return nil }
                return try body()
            }
        } catch { throw FSError(error, path: path) }
    }

    /// A refresh start (or page arrival) stamp strictly after every earlier one of this mount (rows not stamped since a
    /// refresh started are gone).
    private func refreshEpoch() -> Double {
        let now = clock.now().timeIntervalSince1970
        return tree.state.withLock { s in
            let t = max(now, s.lastEpoch + 0.001)
            s.lastEpoch = t
            return t
        }
    }

    /// Drops cached listings that depend on `key`.
    func invalidate(dependingOn key: String) {
        tree.state.withLock { s in
            s.invalidations &+= 1
            if key == "albums" { s.albumTree = nil }
            for (k, l) in s.listings where l.deps.contains(key) {
                s.cachedEntries -= l.count
                s.listings[k] = nil
            }
        }
    }

    /// albums.list: adds, retitles and (softly) removes albums. False when a local change overtook it.
    private func refreshAlbumList(started: Double, since: UInt64) async throws(FSError) -> Bool {
        var token: String?
        for _ in 0..<100_000 {   // bounded: a server that never stops paging
            let t = token
            let page = try await api("album", { () async throws(PhotosAPIError) in try await client.listAlbums(pageSize: 50, pageToken: t) })
            let upserts = page.items.filter { !$0.id.isEmpty }.map {
                AlbumUpsert(googleId: $0.id, title: $0.title, productUrl: $0.productUrl.isEmpty ? nil : $0.productUrl,
                            mediaItemsCount: $0.mediaItemsCount, isWriteable: $0.isWriteable)
            }
            guard try refreshWrite("albums", since: since, path: "album", { () throws(StoreError) in
                try store.upsertAlbums(upserts, seenAt: started)
            }) != nil else { return false }
            token = page.nextPageToken.flatMap { $0.isEmpty ? nil : $0 }
            if token == nil { break }
        }
        guard let gone = try refreshWrite("albums", since: since, path: "album", { () throws(StoreError) in
            try store.markAlbumsGone(notSeenSince: started)
        }) else { return false }
        if !gone.isEmpty { logger.info("albums no longer in Google Photos", metadata: ["count": "\(gone.count)"]) }
        return true
    }

    /// mediaItems.list: every app-created item; items no longer returned are gone (readers get ESTALE). False when a
    /// local change overtook it.
    private func refreshLibrary(started: Double, since: UInt64) async throws(FSError) -> Bool {
        var token: String?
        for _ in 0..<100_000 {
            let t = token
            let page = try await api("media/all", { () async throws(PhotosAPIError) in
                try await client.listMediaItems(pageSize: 100, pageToken: t)
            })
            let upserts = page.items.compactMap(Self.upsert)
            guard try refreshWrite("media", since: since, path: "media/all", { () throws(StoreError) in
                try store.upsertItems(upserts, seenAt: started)
            }) != nil else { return false }
            token = page.nextPageToken.flatMap { $0.isEmpty ? nil : $0 }
            if token == nil { break }
        }
        guard let gone = try refreshWrite("media", since: since, path: "media/all", { () throws(StoreError) in
            try store.markItemsGone(notSeenSince: started)
        }) else { return false }
        if !gone.isEmpty { itemsWentAway(gone) }
        return true
    }

    /// An album's items (search by albumId), in album order; memberships no longer returned are dropped. False when
    /// a local change overtook it.
    private func refreshAlbumItems(googleId: String, started: Double, since: UInt64) async throws(FSError) -> Bool {
        guard let album = try db("album", { () throws(StoreError) in try store.albums() }).first(where: { $0.googleId == googleId }) else { return true }
        let key = Self.albumKey(googleId)
        let path = pathOf(.album(album.row))
        var token: String?
        var position = 0
        for _ in 0..<100_000 {
            let t = token
            let page: Page<MediaItem>
            do {
                page = try await client.searchMediaItems(albumId: googleId, pageSize: 100, pageToken: t)
            } catch {
                if case .api(_, let http, _) = error, http == 404 {
                    try db(path, { () throws(StoreError) in try store.markAlbumGone(row: album.row) })
                    logger.info("album no longer in Google Photos", metadata: ["path": "\(path)"])
                    invalidate(dependingOn: "albums")
                    return true
                }
                throw FSError(error, path: path)
            }
            let upserts = page.items.compactMap(Self.upsert)
            let first = position
            // Items are stamped when the page arrived, memberships with this refresh's start: a library refresh that
            // started meanwhile and did not list an item this page has (added since) must not take it for gone.
            let arrived = refreshEpoch()
            guard try refreshWrite(key, since: since, path: path, { () throws(StoreError) in
                try store.upsertItems(upserts, seenAt: arrived, album: (row: album.row, seenAt: started, firstPosition: first))
            }) != nil else { return false }
            position += upserts.count
            token = page.nextPageToken.flatMap { $0.isEmpty ? nil : $0 }
            if token == nil { break }
        }
        let done = clock.now().timeIntervalSince1970
        return try refreshWrite(key, since: since, path: path, { () throws(StoreError) in
            try store.dropAlbumMembers(album: album.row, notSeenSince: started, refreshedAt: done)
        }) != nil
    }

    /// An API media item as a row to upsert (nil for one without an id).
    static func upsert(_ m: MediaItem) -> ItemUpsert? {
        guard !m.id.isEmpty else { return nil }
        let md = m.mediaMetadata
        return ItemUpsert(googleId: m.id, filename: m.filename, mimeType: m.mimeType, isVideo: m.isVideo,
                          creationTime: md.creationTime?.timeIntervalSince1970, width: md.width == 0 ? nil : md.width,
                          height: md.height == 0 ? nil : md.height, productUrl: m.productUrl.isEmpty ? nil : m.productUrl,
                          description: m.description.isEmpty ? nil : m.description, baseUrl: m.baseUrl.isEmpty ? nil : m.baseUrl)
    }

    /// Items that vanished: open readers get ESTALE; album listings lose them.
    func itemsWentAway(_ rows: [Int64]) {
        logger.info("items no longer in Google Photos", metadata: ["count": "\(rows.count)"])
        tree.state.withLock { s in
            for r in rows where (s.openReaders[r] ?? 0) > 0 { s.goneRows.insert(r) }
            s.invalidations &+= 1
            for (k, _) in s.listings {
                if case .album = k { s.cachedEntries -= s.listings[k]!.count; s.listings[k] = nil }
            }
        }
        invalidate(dependingOn: "media")
    }
}
