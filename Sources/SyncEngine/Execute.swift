// Executing a plan: directories first, then N parallel copies (each on a thread of its own: reads and writes through
// the mount may block), then — pushing into the mount — one confirmation pass (fsync, then the xattrs) whose fsyncs
// share batchCreate calls, then the ledger, MOVE's source deletions, and SYNC's removals.
import CXattr
import Foundation
import Crypto
#if canImport(Glibc)
import Glibc
#endif

/// A finished copy.
struct CopyResult: Sendable {
    var action: PlannedAction
    var sha256: String
    var bytes: Int64
}

extension Job {
    func execute(_ plan: SyncPlan, _ s: inout SyncSummary) async throws(SyncError) {
        let pushToMount = req.direction == .push && dest.inMount
        if !FileManager.default.fileExists(atPath: dest.path) && !dest.inMount {
            do { try FileManager.default.createDirectory(atPath: dest.path, withIntermediateDirectories: true) } catch {
                throw SyncError(.fatal, "\(dest.path): can't create the destination directory: \(error.localizedDescription)")
            }
        }
        // 1. Directories (albums), parents first.
        var failedDirs: Set<String> = []
        for a in plan.actions where a.kind == .mkdir {
            if abort.isSet { break }
            let path = a.dest.isEmpty ? dest.path : dest.path + "/" + a.dest
            let rc = await onThread { mkdir(path, 0o755) == 0 ? 0 : errno }
            if rc == 0 || rc == EEXIST {
                s.directoriesCreated += rc == 0 ? 1 : 0
                reporter.item(dest.inMount ? "album created" : "mkdir", a.dest.isEmpty ? dest.relative : a.dest)
            } else {
                failedDirs.insert(a.dest)
                reporter.error(a.dest, SyncError.posix(rc, path, "can't create the directory").message)
                s.errors += 1
            }
        }

        // 2. Copies, N at a time.
        let copies = plan.copies.filter { a in !failedDirs.contains { d in a.dest == d || a.dest.hasPrefix(d.isEmpty ? "" : d + "/") } }
        let totalBytes = copies.reduce(Int64(0)) { $0 + $1.bytes }
        var done: [CopyResult] = []
        var copyFailed: Set<String> = []
        await withTaskGroup(of: (PlannedAction, Result<CopyResult, SyncError>).self) { group in
            var next = 0
            func startNext() {
                guard next < copies.count, !abort.isSet else { return }
                let a = copies[next]
                next += 1
                group.addTask { (a, await self.copy(a, totalItems: copies.count, totalBytes: totalBytes)) }
            }
            for _ in 0..<req.transfers { startNext() }
            while let (a, r) = await group.next() {
                switch r {
                case .success(let c):
                    done.append(c)
                    if !pushToMount { reporter.item(a.kind == .replace ? "replaced" : "copied", a.source ?? "", dest: a.dest, bytes: c.bytes) }
                case .failure(let e):
                    copyFailed.insert(a.source ?? a.dest)
                    if e.kind != .aborted { reporter.error(a.source, e.message); s.errors += 1 }
                }
                startNext()
            }
        }
        let counted = counters.withLock { $0 }
        reporter.progress(items: counted.items, itemsTotal: copies.count, bytes: counted.bytes, bytesTotal: totalBytes, force: true)

        // 3. Confirmation (pushes into the mount): every copy is committed with the source's hash.
        var confirmed: [CopyResult] = []
        var elsewhere: [String: String] = [:]   // source → the name Google kept
        var confirmedInFlight: Set<String> = []
        if pushToMount {
            // Uploads an earlier run left in flight are confirmed the same way (they were counted unchanged).
            let earlier = plan.inFlight.map {
                CopyResult(action: PlannedAction(kind: .copy, source: $0.source, dest: $0.dest), sha256: $0.sha256, bytes: 0)
            }
            let (all, mapped, failures) = await confirm(done + earlier)
            let earlierSources = Set(plan.inFlight.map(\.source))
            confirmedInFlight = Set(all.compactMap(\.action.source).filter { earlierSources.contains($0) })
            let ok = all.filter { !earlierSources.contains($0.action.source ?? "") }
            confirmed = ok
            elsewhere = mapped
            for c in ok {
                let dp = mapped[c.action.source ?? ""] ?? c.action.dest
                reporter.item(c.action.kind == .replace ? "replaced" : "copied", c.action.source ?? "", dest: dp, bytes: c.bytes,
                              detail: mapped[c.action.source ?? ""] != nil ? "Google already had these bytes: kept as \(dp)" : nil)
            }
            for (c, e) in failures { reporter.error(c.action.source, e.message); s.errors += 1; copyFailed.insert(c.action.source ?? "") }
        } else {
            confirmed = done
        }
        for c in confirmed {
            s.copied += 1; s.bytes += c.bytes
            if c.action.kind == .replace { s.replaced += 1 }
            if elsewhere[c.action.source ?? ""] != nil { s.alreadyInGoogle += 1 }
        }
        s.unchanged = plan.unchanged.count
        s.alreadyInGoogle += plan.elsewhere.count
        for e in plan.elsewhere { reporter.item("already in Google Photos", e.source, dest: e.dest, detail: "same bytes, the name Google kept") }

        // 4. Ledger (pushes): hashes learned, and where the bytes are.
        if let store, req.direction == .push, dest.folder != .upload {
            var rows: [String: LedgerEntry] = [:]
            for e in plan.ledgerUpdates { rows[e.path] = e }
            for u in plan.unchanged + plan.elsewhere {
                if var e = rows[u.source] { e.destPath = u.dest; rows[u.source] = e }
            }
            for c in confirmed {
                guard let src = c.action.source, let f = plan.sourceFiles[src] else { continue }
                rows[src] = LedgerEntry(path: src, size: f.size, mtimeNs: f.mtimeNs, sha256: c.sha256, destPath: elsewhere[src] ?? c.action.dest)
            }
            try store.record(source: source.path, dest: dest.path, Array(rows.values))
        }

        // 5. MOVE: delete each source the destination confirmed.
        if req.mode == .move && !abort.isSet {
            var deletable = confirmed.compactMap(\.action.source)
            deletable += plan.verified.filter { !copyFailed.contains($0) }
            deletable += confirmedInFlight
            for p in Set(deletable).sorted() {
                let path = source.path + "/" + p
                let rc = await onThread { unlink(path) == 0 ? 0 : errno }
                if rc == 0 {
                    s.sourcesDeleted += 1
                    reporter.item(source.inMount ? "removed from album" : "deleted source", p)
                } else {
                    reporter.error(p, SyncError.posix(rc, path, source.inMount ? "can't remove the item from its album" : "can't delete the source").message); s.errors += 1
                }
            }
            if let store, req.direction == .push { try store.forget(source: source.path, dest: dest.path, paths: Array(Set(deletable))) }
        }

        // 6. SYNC: removals, after the copies (a failed copy never loses the destination's file).
        if req.mode == .sync && !abort.isSet {
            for a in plan.actions where a.kind == .remove || a.kind == .rmdir {
                if abort.isSet { break }
                let path = dest.path + "/" + a.dest
                let rc = await onThread { (a.kind == .rmdir ? rmdir(path) : unlink(path)) == 0 ? 0 : errno }
                if rc == 0 {
                    if a.kind == .rmdir { reporter.item("rmdir", a.dest); continue }
                    if dest.inMount { s.removedFromAlbums += 1; reporter.item("removed from album", a.dest) }
                    else { s.deleted += 1; reporter.item("deleted", a.dest) }
                } else if a.kind == .rmdir && rc == ENOTEMPTY {
                    continue   // something the filters left out is still there: the directory stays
                } else {
                    reporter.error(a.dest, SyncError.posix(rc, path, dest.inMount ? "can't remove the item from its album" : "can't delete").message)
                    s.errors += 1
                }
            }
        }
    }

    /// Copies one file (on a thread of its own), hashing the bytes on the way.
    func copy(_ a: PlannedAction, totalItems: Int, totalBytes: Int64) async -> Result<CopyResult, SyncError> {
        let src = source.path + "/" + (a.source ?? "")
        let dst = dest.path + "/" + a.dest
        let direct = req.direction == .push && dest.inMount   // the mount's close is atomic: write the final name
        let sourceMtime = req.direction == .pull ? captureTime(src) : nil
        let schedule = req.bwlimit
        let pushing = req.direction == .push
        return await onThread { () -> Result<CopyResult, SyncError> in
            do throws(SyncError) {
                let (bytes, sha) = try self.copyBytes(src, dst, direct: direct, replace: a.kind == .replace) { n in
                    let limit = schedule.flatMap { s -> Int64? in
                        let l = s.limits(at: Date(), timeZone: .current)
                        return pushing ? l.upload : l.download
                    }
                    self.limiter.takeBlocking(n, limit: limit)
                    let c = self.counters.withLock { c -> (items: Int, bytes: Int64) in c.bytes += Int64(n); return c }
                    self.reporter.progress(items: c.items, itemsTotal: totalItems, bytes: c.bytes, bytesTotal: totalBytes)
                }
                if !direct {
                    // Keep the source's time (pull: the capture time) so the next run compares equal.
                    let t = sourceMtime ?? self.mtimeOf(src)
                    if let t { self.setMtime(dst, t) }
                }
                self.counters.withLock { $0.items += 1 }
                return .success(CopyResult(action: a, sha256: sha, bytes: bytes))
            } catch { return .failure(error) }
        }
    }

    /// The byte loop. `direct`: write `dst` itself (the mount); else a temporary file, fsync, rename.
    func copyBytes(_ src: String, _ dst: String, direct: Bool, replace: Bool, chunk: (Int) -> Void) throws(SyncError) -> (Int64, String) {
        let inFD = open(src, O_RDONLY | O_CLOEXEC)
        guard inFD >= 0 else { throw SyncError.posix(errno, src, "can't open") }
        defer { close(inFD) }
        let target = direct ? dst : Self.tempName(dst)
        let outFD = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard outFD >= 0 else { throw SyncError.posix(errno, target, direct ? "can't create the file in the mount" : "can't create") }
        var closed = false
        defer { if !closed { close(outFD) } }
        var hasher = SHA256()
        var total: Int64 = 0
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        while true {   // bounded by the source's length: each pass copies at least one byte or stops
            if abort.isSet && !(direct && replace) {
                // Cut: nothing half-written may stay (a file closed in the mount would upload).
                _ = unlink(target)
                throw SyncError(.aborted, "\(src): aborted")
            }
            let n = read(inFD, &buf, buf.count)
            if n < 0 {
                if errno == EINTR { continue }
                let e = errno
                _ = unlink(target)   // never leave a partial file (in the mount it would upload)
                throw SyncError.posix(e, src, "can't read")
            }
            if n == 0 { break }
            var off = 0
            while off < n {   // bounded: each pass writes at least one byte or throws
                let w = buf.withUnsafeBytes { write(outFD, $0.baseAddress! + off, n - off) }
                if w < 0 {
                    if errno == EINTR { continue }
                    let e = errno
                    _ = unlink(target)
                    throw SyncError.posix(e, target, "can't write")
                }
                off += w
            }
            buf.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            total += Int64(n)
            chunk(n)
        }
        if !direct {
            guard fsync(outFD) == 0 else { let e = errno; _ = unlink(target); throw SyncError.posix(e, target, "can't flush to disk") }
        }
        closed = true
        if close(outFD) != 0 {
            let e = errno
            if !direct { _ = unlink(target) }
            throw SyncError.posix(e, dst, direct ? "the mount refused the file at close" : "can't close")
        }
        if !direct {
            guard rename(target, dst) == 0 else { let e = errno; _ = unlink(target); throw SyncError.posix(e, dst, "can't rename into place") }
        }
        return (total, hex(hasher.finalize()))
    }

    /// A hidden temporary name beside `dst`.
    static func tempName(_ dst: String) -> String {
        let dir = Endpoint.parent(dst)
        let name = dst.split(separator: "/").last.map(String.init) ?? "file"
        return "\(dir)/.\(name).gphotos-sync-\(getpid()).tmp"
    }

    /// A pulled item's capture time (the mount's creation_time xattr), else nil.
    func captureTime(_ path: String) -> Int64? {
        guard let text = xattrString(path, "user.gphotos.creation_time") else { return nil }
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let g = ISO8601DateFormatter()
        guard let d = f.date(from: text) ?? g.date(from: text) else { return nil }
        return Int64((d.timeIntervalSince1970 * 1e9).rounded())
    }

    func mtimeOf(_ path: String) -> Int64? {
        var st = stat()
        return sysStat(path, &st) == 0 ? mtimeNs(st) : nil
    }

    func setMtime(_ path: String, _ ns: Int64) {
        var times = [timespec(tv_sec: Int(ns / 1_000_000_000), tv_nsec: Int(ns % 1_000_000_000)),
                     timespec(tv_sec: Int(ns / 1_000_000_000), tv_nsec: Int(ns % 1_000_000_000))]
        _ = utimensat(AT_FDCWD, path, &times, 0)
    }

    /// Confirms pushed copies through the mount: fsync each (up to 50 at once, so they share batchCreate calls),
    /// then read the xattrs: committed with the source's SHA-256 under its name, or under the name Google kept.
    func confirm(_ copies: [CopyResult]) async -> ([CopyResult], [String: String], [(CopyResult, SyncError)]) {
        var fsyncErrors: [String: SyncError] = [:]
        let root = dest.path
        var i = 0
        while i < copies.count {   // windows of 50
            let window = Array(copies[i..<min(i + 50, copies.count)])
            i += window.count
            await withTaskGroup(of: (String, Int32).self) { group in
                for c in window {
                    let path = root + "/" + c.action.dest
                    group.addTask {
                        await onThread { () -> (String, Int32) in
                            // Already committed (the mount's write-back got there first): nothing to wait for, and
                            // opening it would start a download of the item.
                            if xattrString(path, "user.gphotos.state") == "committed" { return (c.action.dest, 0) }
                            let fd = open(path, O_RDONLY | O_CLOEXEC)
                            if fd < 0 { return (c.action.dest, errno) }
                            let rc = fsync(fd) == 0 ? 0 : errno
                            close(fd)
                            return (c.action.dest, rc)
                        }
                    }
                }
                for await (d, rc) in group where rc != 0 && rc != ENOENT {
                    fsyncErrors[d] = SyncError.posix(rc, root + "/" + d, "the upload failed")
                }
            }
        }
        let shas = MountShas(root: root)
        var ok: [CopyResult] = []
        var mapped: [String: String] = [:]
        var failed: [(CopyResult, SyncError)] = []
        for c in copies {
            let dp = c.action.dest
            let path = root + "/" + dp
            let dir = dp.contains("/") ? String(dp[..<dp.lastIndex(of: "/")!]) : ""
            if dest.folder == .upload {
                // upload/ keeps no committed items to read back: fsync's result is the confirmation.
                if let e = fsyncErrors[dp] { failed.append((c, e)) } else { ok.append(c) }
                continue
            }
            if xattrString(path, "user.gphotos.state") == "committed", shas.sha(dp) == c.sha256 {
                ok.append(c); continue
            }
            if let other = shas.name(in: dir, sha: c.sha256), xattrString(root + "/" + other, "user.gphotos.state") == "committed" {
                ok.append(c); mapped[c.action.source ?? ""] = other; continue
            }
            if let e = fsyncErrors[dp] { failed.append((c, e)); continue }
            let why = xattrString(path, "user.gphotos.error") ?? "the mount does not show it committed with the source's SHA-256"
            failed.append((c, SyncError(.temporary, "\(path): upload not confirmed: \(why)")))
        }
        return (ok, mapped, failed)
    }
}
