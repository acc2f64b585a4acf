// The uploader: a scheduler loop that uploads due spool files (options.transfers at a time) and commits upload tokens
// with batchCreate (≤ 50 per call, one call at a time), reconciling any batchCreate whose outcome is unknown.
import Foundation
import Logging
import MetadataStore
import PhotosAPI

/// Tunables of the upload pipeline.
enum UploadPolicy {
    /// Upload attempts (each after the client's own retries) before a row fails.
    static let maxAttempts: Int64 = 6
    /// Per-item batchCreate refusals before a row fails (each re-uploads the bytes).
    static let maxItemRefusals: Int64 = 3
    /// Upload tokens live a day; older ones are re-uploaded.
    static let tokenLifetime: Double = 23 * 3600
    /// Uploaded rows wait this long (on the fs clock) for company before a batchCreate, unless nothing else is coming.
    static let batchGather: Double = 2
    /// Uploaded rows wait this long even when nothing else is queued: `cp` closes the next file only after this one
    /// uploaded, and a batchCreate per file would double the API requests per photo. fsync, sync and unmount skip it.
    static let batchLinger: Double = 1
    /// Items per batchCreate.
    static let batchSize = 50

    /// Backoff before attempt `n` (1-based): 1, 2, 4 … 300 s.
    static func backoff(_ n: Int64) -> Double { min(300, pow(2, Double(max(0, n - 1)))) }
}

/// How an API failure is handled.
enum FailureClass {
    case quota, auth, transient, permanent
}

extension PhotosFS {
    /// Classifies an API error for the journal.
    func classify(_ e: PhotosAPIError) -> FailureClass {
        switch e {
        case .dailyQuotaExceeded: return .quota
        case .invalidGrant, .insufficientScopes, .notAuthorized, .unauthenticated: return .auth
        case .transport, .outcomeUnknown, .rateLimited, .uploadSessionGone, .invalidResponse, .cancelled: return .transient
        case .http(_, let h, _, _), .api(_, let h, _): return h >= 500 || h == 429 || h == 408 ? .transient : .permanent
        case .baseURLExpired, .oauth, .insecureURL, .io: return .permanent
        }
    }

    /// The loop started by startWrites: wakes on a kick or every second, starts what is due.
    func schedulerLoop() async {
        for _ in 0..<Int.max {
            if Task.isCancelled || writes.s.withLock({ $0.stopped }) { return }
            let gen = writes.kick.generation
            schedule()
            await writes.kick.wait(since: gen, timeout: 1)
        }
    }

    /// One scheduling pass: lift an expired quota pause, start due uploads and, when worth it, a batchCreate.
    func schedule() {
        persistUsage()
        let now = clock.now()
        let (auth, quota, draining, urgent) = writes.s.withLock { ($0.authFailure, $0.quotaUntil, $0.draining, $0.urgent) }
        if auth != nil { return }
        if let quota {
            guard now >= quota else { return }
            writes.s.withLock { $0.quotaUntil = nil }
            try? store.setFact("quotaPausedUntil", nil)
            logger.notice("the daily API quota has reset; uploads resume")
        }
        guard let rows = try? store.journalRows(states: activeStates) else { return }
        let t = now.timeIntervalSince1970
        func due(_ r: JournalRow) -> Bool { r.notBefore.map { $0 <= t } ?? true || urgent.contains(r.rowID) || (draining && r.attempts == 0) }
        // Uploads.
        let toStart: [Int64] = writes.s.withLock { s in
            guard !s.stopped else { return [] }
            var out: [Int64] = []
            for r in rows where (r.journalState == .spooled || r.journalState == .uploading) && due(r) && s.uploads[r.rowID] == nil {
                guard s.uploads.count + out.count < max(1, options.transfers) else { break }
                out.append(r.rowID)
            }
            return out
        }
        for id in toStart {
            // The entry is stored under the same lock that creates the task: a task that finished before a later
            // store would leave its entry behind for good, and four such leaks stopped every upload (seen with 2,000
            // files on 2 cores).
            writes.s.withLock { s in
                s.uploads[id] = Task { [self] in
                    await uploadOne(id)
                    writes.s.withLock { _ = $0.uploads.removeValue(forKey: id) }
                    writes.kick.signal()
                    writes.changed.signal()
                }
            }
        }
        // Commits: reconcile 'creating' rows first; batch 'uploaded' rows when a batch is full, urgent, or old enough
        // (batchGather on the fs clock while more are on their way, batchLinger of real time when nothing else is queued).
        let creating = rows.filter { $0.journalState == .creating && due($0) }
        let uploaded = rows.filter { $0.journalState == .uploaded && due($0) }
        let stillComing = rows.contains { ($0.journalState == .spooled && due($0)) || $0.journalState == .uploading }
        let oldest = uploaded.map { $0.uploadTokenAt ?? 0 }.min() ?? t   // no timestamp: treat as old
        let lingered = writes.s.withLock { s -> Bool in
            guard !uploaded.isEmpty, !stillComing else { s.lingerSince = nil; return false }
            let since = s.lingerSince ?? .now
            s.lingerSince = since
            return since.duration(to: .now) >= .seconds(UploadPolicy.batchLinger)
        }
        // fsync'd rows go at once unless more fsync'd rows are still uploading: then they wait for them (at most
        // batchLinger), so 50 concurrent fsyncs share one batchCreate instead of one call per upload that finishes.
        let urgentComing = rows.contains { urgent.contains($0.rowID) && ($0.journalState == .spooled || $0.journalState == .uploading) }
        let urgentReady = writes.s.withLock { s -> Bool in
            guard uploaded.contains(where: { urgent.contains($0.rowID) }) else { s.urgentSince = nil; return false }
            if !urgentComing { return true }
            let since = s.urgentSince ?? .now
            s.urgentSince = since
            return since.duration(to: .now) >= .seconds(UploadPolicy.batchLinger)
        }
        let worth = !creating.isEmpty || uploaded.count >= UploadPolicy.batchSize || urgentReady
            || (!uploaded.isEmpty && (draining || lingered || t - oldest >= UploadPolicy.batchGather))
        guard worth else { return }
        // Checked and set under one lock, for the same reason as the uploads above.
        writes.s.withLock { s in
            guard s.batch == nil, !s.stopped else { return }
            s.lingerSince = nil
            s.urgentSince = nil
            s.batch = Task { [self] in
                await commitAll()
                writes.s.withLock { $0.batch = nil }
                writes.kick.signal()
                writes.changed.signal()
            }
        }
    }

    /// The path of a journal row, for messages and status.
    func rowPath(_ r: JournalRow) -> String {
        let dir: NodeID = r.albumRow.map { .album($0) } ?? .uploadRoot
        return pathOf(dir) + "/" + r.name
    }

    /// The file name sent to Google for a row.
    func uploadName(_ r: JournalRow) -> String {
        Naming.decode(r.name)   // rclone's encoding undone: `a／b.jpg` uploads as "a/b.jpg"
    }

    // MARK: uploading bytes

    /// Uploads one row's spool and stores the token (or records the failure).
    func uploadOne(_ id: Int64) async {
        let now = nowSeconds
        guard let row = try? store.journalTransition([id], from: [.spooled, .uploading], to: .uploading, now: now).first else { return }
        let path = rowPath(row)
        // A token from before a restart that is still fresh: nothing to send.
        if let token = row.uploadToken, let at = row.uploadTokenAt, now - at < UploadPolicy.tokenLifetime {
            _ = try? store.journalModify(id) { r in
                guard r?.journalState == .uploading, r?.uploadToken == token else { return }
                r?.journalState = .uploaded
            }
            return
        }
        let mime = row.mimeType ?? "application/octet-stream"
        let sha = row.sha256
        do throws(PhotosAPIError) {
            var token: String?
            if let json = row.resumable, let session = try? JSONDecoder().decode(UploadSession.self, from: Data(json.utf8)),
               session.filePath == row.spoolPath, session.totalSize == row.size {
                do throws(PhotosAPIError) {
                    logger.info("resuming the upload session", metadata: ["path": "\(path)"])
                    token = try await client.resumeUpload(session)
                } catch .uploadSessionGone { token = nil }
            }
            if token == nil {
                let store = self.store
                token = try await client.upload(file: row.spoolPath, mimeType: mime, fileName: uploadName(row)) { session in
                    guard let data = try? JSONEncoder().encode(session) else { return }
                    _ = try? store.journalModify(id) { r in
                        guard r?.journalState == .uploading, r?.sha256 == sha else { return }
                        r?.resumable = String(decoding: data, as: UTF8.self)
                    }
                }
            }
            let done = nowSeconds
            let kept = (try? store.journalModify(id) { r -> Bool in
                guard r?.journalState == .uploading, r?.sha256 == sha else { return false }
                r?.journalState = .uploaded
                r?.uploadToken = token
                r?.uploadTokenAt = done
                r?.resumable = nil
                r?.updatedAt = done
                return true
            }) ?? false
            if !kept { logger.debug("upload result discarded (the file changed or was removed)", metadata: ["path": "\(path)"]) }
        } catch {
            recordFailure([row], error, path: path, back: .spooled)
        }
    }

    /// Records a failed step for rows: pause (quota), stop (auth), back off (transient) or fail (permanent).
    func recordFailure(_ rows: [JournalRow], _ e: PhotosAPIError, path: String, back: JournalState) {
        let now = nowSeconds
        let kind = classify(e)
        switch kind {
        case .quota: pauseForQuota(e)
        case .auth: recordAuthFailure(e)
        case .transient, .permanent: break
        }
        for row in rows {
            _ = try? store.journalModify(row.rowID) { r in
                guard var x = r, x.journalState == .uploading || x.journalState == .creating || x.journalState == .uploaded else { return }
                x.updatedAt = now
                x.error = e.description
                switch kind {
                case .quota, .auth:
                    x.journalState = back
                case .transient:
                    x.attempts += 1
                    if x.attempts >= UploadPolicy.maxAttempts {
                        x.journalState = .failed
                        x.error = "gave up after \(x.attempts) attempts: \(e.description)"
                    } else {
                        x.journalState = back
                        x.notBefore = now + UploadPolicy.backoff(x.attempts)
                    }
                case .permanent:
                    x.journalState = .failed
                }
                if x.journalState == .failed { logger.error("upload failed", metadata: ["path": "\(rowPath(x))", "error": "\(x.error ?? "")"]) }
                r = x
            }
        }
        if kind == .transient { logger.warning("upload step failed, will retry", metadata: ["path": "\(path)", "error": "\(e)"]) }
    }

    /// Pauses every upload until the next midnight in America/Los_Angeles (when Google resets the daily quota).
    func pauseForQuota(_ e: PhotosAPIError) {
        let until = Self.nextPacificMidnight(after: clock.now())
        let first = writes.s.withLock { s -> Bool in defer { s.quotaUntil = until }; return s.quotaUntil == nil }
        try? store.setFact("quotaPausedUntil", String(until.timeIntervalSince1970))
        if first { logger.error("daily API quota exhausted; uploads pause until \(until) (midnight Pacific time)", metadata: ["error": "\(e)"]) }
    }

    /// Stops uploading: the account needs `gphotosfs auth login`.
    func recordAuthFailure(_ e: PhotosAPIError) {
        let why = e.description
        let first = writes.s.withLock { s -> Bool in defer { s.authFailure = why }; return s.authFailure == nil }
        try? store.setFact("authFailure", why)
        if first { logger.error("authorization failed; uploads stop, the journal is kept — re-authorize: gphotosfs auth login",
                                metadata: ["error": "\(why)"]) }
    }

    /// The first midnight in America/Los_Angeles after `date`.
    static func nextPacificMidnight(after date: Date) -> Date {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "America/Los_Angeles") ?? TimeZone(secondsFromGMT: -8 * 3600)!
        let start = cal.startOfDay(for: date)
        return cal.date(byAdding: .day, value: 1, to: start) ?? date.addingTimeInterval(86_400)
    }

    /// The Pacific-time day of `date` ("2025-06-15"), the quota's day.
    static func pacificDay(_ date: Date) -> String {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "America/Los_Angeles") ?? TimeZone(secondsFromGMT: -8 * 3600)!
        let c = cal.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
    }

    // MARK: committing

    /// Reconciles unanswered batchCreates, then commits every due uploaded row, ≤ 50 per call, one call at a time.
    func commitAll() async {
        let t = nowSeconds
        let urgent = writes.s.withLock { $0.urgent }
        let draining = writes.s.withLock { $0.draining }
        func due(_ r: JournalRow) -> Bool { r.notBefore.map { $0 <= t } ?? true || urgent.contains(r.rowID) || (draining && r.attempts == 0) }
        let creating = ((try? store.journalRows(states: [.creating])) ?? []).filter(due)
        if !creating.isEmpty { await reconcile(creating) }
        for _ in 0..<1000 {   // bounded: each pass claims at least one row or stops
            if Task.isCancelled || writes.s.withLock({ $0.quotaUntil != nil || $0.authFailure != nil }) { return }
            let rows = ((try? store.journalRows(states: [.uploaded])) ?? []).filter(due)
            // Stale tokens go back to be uploaded again.
            let stale = rows.filter { t - ($0.uploadTokenAt ?? 0) >= UploadPolicy.tokenLifetime }
            if !stale.isEmpty {
                for r in stale {
                    _ = try? store.journalModify(r.rowID) { x in
                        guard x?.journalState == .uploaded else { return }
                        x?.journalState = .spooled; x?.uploadToken = nil; x?.uploadTokenAt = nil
                    }
                }
                writes.kick.signal()
            }
            let fresh = rows.filter { t - ($0.uploadTokenAt ?? 0) < UploadPolicy.tokenLifetime }
            guard let first = fresh.first else { return }
            let group = Array(fresh.filter { $0.albumRow == first.albumRow }.prefix(UploadPolicy.batchSize))
            await commitChunk(group.map(\.rowID), albumRow: first.albumRow)
        }
    }

    /// One batchCreate for rows of one directory. Rows are marked 'creating' before the call is sent.
    func commitChunk(_ ids: [Int64], albumRow: Int64?) async {
        let now = nowSeconds
        guard let claimed = try? store.journalTransition(ids, from: [.uploaded], to: .creating, now: now) else { return }
        var rows: [JournalRow] = []
        for r in claimed {
            if r.albumRow == albumRow, r.uploadToken != nil { rows.append(r); continue }
            _ = try? store.journalTransition([r.rowID], from: [.creating], to: .uploaded, now: now)   // moved meanwhile
        }
        guard !rows.isEmpty else { return }
        writes.changed.signal()
        var albumId: String?
        if let albumRow {
            guard let album = try? store.albumBrief(albumRow) else {
                for r in rows { failRow(r.rowID, "the album of \(rowPath(r)) no longer exists") }
                return
            }
            albumId = album.googleId
        }
        let items = rows.map { NewMediaItem(uploadToken: $0.uploadToken ?? "", fileName: uploadName($0)) }
        let results: [NewMediaItemResult]
        do throws(PhotosAPIError) {
            results = try await client.batchCreate(items, albumId: albumId)
        } catch {
            let kind = classify(error)
            switch kind {
            case .quota, .auth:
                recordFailure(rows, error, path: rowPath(rows[0]), back: .uploaded)
            case .permanent:
                recordFailure(rows, error, path: rowPath(rows[0]), back: .uploaded)
            case .transient:
                // The call may have been applied: find out before sending it again.
                logger.warning("batchCreate unanswered; reconciling", metadata: ["items": "\(rows.count)", "error": "\(error)"])
                await reconcile(rows, after: error)
            }
            return
        }
        for (row, result) in zip(rows, results) {
            if result.succeeded, let item = result.mediaItem {
                await commitRow(row, item)
            } else {
                refuseRow(row, result.status)
            }
        }
    }

    /// Finds out whether unanswered batchCreates were applied. Album rows: the album's items are listed and an item
    /// this mount did not know before, with the file name sent, is taken as the row's. Rows without an album (upload/)
    /// can't be searched; they are sent again, which Google's dedupe (same bytes → same item) makes harmless, as it
    /// does for album rows whose item Google renamed by dedupe. Not found → back to 'uploaded' (or 'spooled' when the
    /// token is stale), counting an attempt.
    func reconcile(_ rows: [JournalRow], after error: PhotosAPIError? = nil) async {
        let now = nowSeconds
        var notFound: [JournalRow] = []
        for (albumRow, group) in Dictionary(grouping: rows, by: \.albumRow) {
            guard let albumRow, let album = try? store.albumBrief(albumRow) else { notFound += group; continue }
            let listed: [MediaItem]
            do { listed = try await client.mediaItems(inAlbum: album.googleId).collect() } catch {
                // Can't tell yet: stay 'creating' and try again after a backoff.
                logger.warning("can't reconcile yet", metadata: ["album": "\(album.title)", "error": "\(error)"])
                for r in group {
                    _ = try? store.journalModify(r.rowID) { x in
                        guard x?.journalState == .creating else { return }
                        let n = (x?.attempts ?? 0) + 1
                        x?.attempts = n
                        x?.notBefore = now + UploadPolicy.backoff(n)
                    }
                }
                continue
            }
            var taken = Set(((try? store.knownItemIds(albumRow: albumRow)) ?? []))
            for r in group {
                let name = uploadName(r)
                if let item = listed.first(where: { $0.filename == name && !taken.contains($0.id) }) {
                    taken.insert(item.id)
                    logger.info("reconciled: the unanswered batchCreate had created the item", metadata: ["path": "\(rowPath(r))"])
                    await commitRow(r, item)
                } else {
                    notFound.append(r)
                }
            }
        }
        for r in notFound {
            _ = try? store.journalModify(r.rowID) { x in
                guard var y = x, y.journalState == .creating else { return }
                y.attempts += 1
                y.updatedAt = now
                if let error { y.error = error.description }
                if y.attempts >= UploadPolicy.maxAttempts {
                    y.journalState = .failed
                    y.error = "gave up after \(y.attempts) attempts: \(y.error ?? "batchCreate failed")"
                } else if now - (y.uploadTokenAt ?? 0) < UploadPolicy.tokenLifetime {
                    y.journalState = .uploaded
                    y.notBefore = now + (error == nil ? 0 : UploadPolicy.backoff(y.attempts))
                } else {
                    y.journalState = .spooled
                    y.uploadToken = nil
                    y.notBefore = now
                }
                x = y
            }
        }
        writes.changed.signal()
    }

    /// A per-item refusal: the bytes are uploaded again a few times (an expired or refused token), then the row fails.
    func refuseRow(_ row: JournalRow, _ status: GoogleStatus) {
        let now = nowSeconds
        _ = try? store.journalModify(row.rowID) { x in
            guard var y = x, y.journalState == .creating else { return }
            y.attempts += 1
            y.error = "Google refused the item: \(status.message.isEmpty ? "code \(status.code)" : status.message)"
            y.uploadToken = nil
            y.uploadTokenAt = nil
            y.updatedAt = now
            if y.attempts >= UploadPolicy.maxItemRefusals {
                y.journalState = .failed
                logger.error("upload failed", metadata: ["path": "\(rowPath(y))", "error": "\(y.error ?? "")"])
            } else {
                y.journalState = .spooled
                y.notBefore = now + UploadPolicy.backoff(y.attempts)
            }
            x = y
        }
    }

    /// Marks a row failed.
    func failRow(_ id: Int64, _ why: String) {
        _ = try? store.journalModify(id) { x in
            x?.journalState = .failed
            x?.error = why
            x?.updatedAt = nowSeconds
        }
        logger.error("upload failed: \(why)")
    }

    /// Records a committed item: items + albumItems rows, the journal row, the spool deleted. The item it replaced
    /// (and the new item itself when it was unlinked meanwhile) leaves the album first, so a listing never shows the
    /// old and the new item together.
    func commitRow(_ row: JournalRow, _ item: MediaItem) async {
        let committed = CommittedItem(googleId: item.id, filename: item.filename.isEmpty ? uploadName(row) : item.filename,
                                      mimeType: item.mimeType, isVideo: item.isVideo,
                                      creationTime: item.mediaMetadata.creationTime?.timeIntervalSince1970,
                                      width: item.mediaMetadata.width, height: item.mediaMetadata.height,
                                      productUrl: item.productUrl, description: item.description,
                                      baseUrl: item.baseUrl.isEmpty ? nil : item.baseUrl)
        let current = (try? store.journalRow(row.rowID)) ?? row   // a rename or unlink may have changed it since the claim
        let album = row.albumRow.flatMap { try? store.albumBrief($0) }
        let old = current.replacesItemRow.flatMap { try? store.itemBrief($0) }.flatMap { $0.googleId == item.id ? nil : $0 }
        var dropOld = false, unlinkedDone = false
        if let album {
            var ids: [String] = []
            if let old, old.albumRows.contains(album.row) { ids.append(old.googleId) }
            if current.unlinked { ids.append(item.id) }
            if !ids.isEmpty {
                do throws(PhotosAPIError) {
                    try await client.batchRemoveMediaItems(albumId: album.googleId, mediaItemIds: ids)
                    dropOld = old != nil
                    unlinkedDone = current.unlinked
                } catch {
                    logger.error("can't remove the replaced item from its album", metadata: ["path": "\(rowPath(row))", "error": "\(error)"])
                }
            }
        }
        let dir: NodeID = row.albumRow.map { .album($0) } ?? .uploadRoot
        let itemRow: Int64
        do {
            itemRow = try localChange(["media"] + (album.map { [Self.albumKey($0.googleId)] } ?? []), dirs: [dir],
                                      path: rowPath(row)) { () throws(StoreError) in
                if row.albumRow == nil, let old { try store.hideUploadDirItem(old.row) }
                return try store.journalCommit(row.rowID, item: committed, albumRow: row.albumRow, member: !unlinkedDone,
                                               dropMembers: dropOld ? old.map { [$0.row] } ?? [] : [], sha256: row.sha256,
                                               size: row.size, now: nowSeconds)
            }
        } catch {
            logger.error("can't record a committed item; it is reconciled at the next pass", metadata: ["path": "\(rowPath(row))", "error": "\(error)"])
            return
        }
        try? FileManager.default.removeItem(atPath: row.spoolPath)
        if committed.filename != uploadName(row) {
            logger.notice("Google kept an existing item for these bytes; it shows under its own name",
                          metadata: ["path": "\(rowPath(row))", "shown as": "\(committed.filename)"])
        }
        // Unlinked between the look above and the commit: the new item leaves the album now.
        if let album, !unlinkedDone, (try? store.journalRow(row.rowID))?.unlinked == true {
            do throws(PhotosAPIError) {
                try await client.batchRemoveMediaItems(albumId: album.googleId, mediaItemIds: [item.id])
                _ = try? localChange([Self.albumKey(album.googleId)], dirs: [dir], path: rowPath(row)) { () throws(StoreError) in
                    try store.removeAlbumItem(albumRow: album.row, itemRow: itemRow)
                }
            } catch {
                logger.error("can't remove an unlinked item from its album", metadata: ["path": "\(rowPath(row))", "error": "\(error)"])
            }
        }
        writes.changed.signal()
    }
}
