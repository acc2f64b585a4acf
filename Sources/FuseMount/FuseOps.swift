// The libfuse3 low-level callbacks: each decodes its request, hands it to a Task that calls PhotosFS, and replies once.
// Not in main.swift (P1): top-level code there is @MainActor, and libfuse calls these on its own threads.
import CFuse3
import Foundation
import Logging
import PhotosFS
import Synchronization

/// A FUSE request handed to a Task. `fuse_req_t` is an OpaquePointer (not Sendable); libfuse allows replying to
/// a request from any thread, exactly once, which is what every path below does.
struct Req: @unchecked Sendable {
    let raw: fuse_req_t
}

/// A copy of the request's `fuse_file_info`: libfuse passes a pointer to its worker's stack, which is gone by the
/// time a Task replies, so open/create/opendir reply with a pointer to this copy.
struct FileInfo: @unchecked Sendable {
    var info: fuse_file_info
}

/// What the callbacks reach through `fuse_req_userdata`: the core, the logger, the in-flight count.
final class FuseContext: Sendable {
    /// The file system.
    let fs: PhotosFS
    /// The adapter's logger.
    let logger: Logger
    /// Requests handed to Tasks and not yet answered (the session is destroyed only at zero).
    let inflight = Atomic<Int>(0)

    init(fs: PhotosFS, logger: Logger) { self.fs = fs; self.logger = logger }

    /// Logs a failed request: routine misses at debug, the rest at notice (the core logs the details it knows).
    func log(_ error: FSError, _ op: String) {
        switch error.errno {
        case ENOENT, ENODATA, ENOTSUP, EEXIST, ENOTEMPTY, ERANGE:
            logger.debug("\(op): \(error)")
        default:
            logger.notice("\(op): \(error)")
        }
    }
}

/// The context of a request.
@inline(__always)
func context(_ req: fuse_req_t?) -> FuseContext {
    Unmanaged<FuseContext>.fromOpaque(fuse_req_userdata(req)!).takeUnretainedValue()
}

/// Runs `body` in a Task; a thrown FSError becomes `fuse_reply_err`. `body` must reply as its last step.
func serve(_ req: fuse_req_t?, _ op: String, _ body: @escaping @Sendable (PhotosFS, Req) async throws(FSError) -> Void) {
    let ctx = context(req)
    let r = Req(raw: req!)
    ctx.inflight.add(1, ordering: .relaxed)
    Task.detached {
        do throws(FSError) {
            try await body(ctx.fs, r)
        } catch {
            ctx.log(error, op)
            _ = fuse_reply_err(r.raw, error.errno)
        }
        ctx.inflight.subtract(1, ordering: .releasing)
    }
}

/// Replies inline (no Task) for the operations the core answers synchronously.
@inline(__always)
func serveNow(_ req: fuse_req_t?, _ op: String, _ body: (PhotosFS) throws(FSError) -> Void) {
    let ctx = context(req)
    do throws(FSError) { try body(ctx.fs) } catch {
        ctx.log(error, op)
        _ = fuse_reply_err(req, error.errno)
    }
}

/// Answers a read: a cache-file range goes to the kernel by descriptor (spliced, no copy through our memory).
func replyRead(_ req: fuse_req_t?, _ reply: ReadReply) {
    switch reply {
    case let .file(fd, offset, count): _ = cfuse_reply_fd(req, fd, off_t(offset), count)
    case .bytes(let data):
        _ = data.withUnsafeBytes { b in fuse_reply_buf(req, b.baseAddress?.assumingMemoryBound(to: CChar.self), b.count) }
    }
}

/// A C string argument as a Swift string (names the kernel sends are NUL-terminated bytes).
@inline(__always)
func str(_ p: UnsafePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "" }

extension FuseMount {
    /// The callbacks table.
    static func operations() -> fuse_lowlevel_ops {
        var ops = fuse_lowlevel_ops()

        ops.`init` = { _, conn in
            guard let c = conn else { return }
            c.pointee.max_write = UInt32(FuseMount.maxTransfer)
            if c.pointee.capable & UInt32(FUSE_CAP_READDIRPLUS) != 0 { c.pointee.want |= UInt32(FUSE_CAP_READDIRPLUS) }
            if c.pointee.capable & UInt32(FUSE_CAP_READDIRPLUS_AUTO) != 0 { c.pointee.want |= UInt32(FUSE_CAP_READDIRPLUS_AUTO) }
            if c.pointee.capable & UInt32(FUSE_CAP_ATOMIC_O_TRUNC) != 0 { c.pointee.want |= UInt32(FUSE_CAP_ATOMIC_O_TRUNC) }
            // We mount with default_permissions already; with POSIX ACLs on, the kernel caches "no ACL" per inode
            // instead of asking us for system.posix_acl_access on every `ls -l` entry (docs/PERFORMANCE.md).
            if c.pointee.capable & UInt32(FUSE_CAP_POSIX_ACL) != 0 { c.pointee.want |= UInt32(FUSE_CAP_POSIX_ACL) }
            // Reads of cached files are spliced from the cache file's page cache into /dev/fuse (replyRead).
            if c.pointee.capable & UInt32(FUSE_CAP_SPLICE_WRITE) != 0 { c.pointee.want |= UInt32(FUSE_CAP_SPLICE_WRITE) }
        }
        ops.destroy = { _ in }

        ops.lookup = { req, parent, name in
            let n = str(name)
            serve(req, "lookup \(n)") { fs, r throws(FSError) in
                var e = entryParam(try await fs.lookup(parent: parent, name: n))
                _ = fuse_reply_entry(r.raw, &e)
            }
        }
        ops.forget = { req, _, _ in fuse_reply_none(req) }
        ops.forget_multi = { req, _, _ in fuse_reply_none(req) }

        ops.getattr = { req, ino, _ in
            serve(req, "getattr \(ino)") { fs, r throws(FSError) in
                let a = try await fs.getattr(ino)
                var st = statOf(a)
                _ = fuse_reply_attr(r.raw, &st, fs.attrCacheSeconds(ino, a))
            }
        }
        ops.setattr = { req, ino, attr, toSet, fi in
            let changes = setAttributes(attr!.pointee, toSet)
            let handle = fi.map { $0.pointee.fh }
            serve(req, "setattr \(ino)") { fs, r throws(FSError) in
                let a = try await fs.setattr(ino, changes, handle: handle)
                var st = statOf(a)
                _ = fuse_reply_attr(r.raw, &st, fs.attrCacheSeconds(ino, a))
            }
        }

        ops.opendir = { req, ino, fi in
            let info = FileInfo(info: fi!.pointee)
            serve(req, "opendir \(ino)") { fs, r throws(FSError) in
                var f = info.info
                f.fh = try await fs.opendir(ino)
                let caching = fs.dirCaching(ino, handle: f.fh)
                f.cache_readdir = caching.cache ? 1 : 0
                f.keep_cache = caching.keep ? 1 : 0
                if fuse_reply_open(r.raw, &f) != 0 { fs.releasedir(f.fh) }   // the opener was interrupted
            }
        }
        ops.readdir = { req, ino, size, off, fi in
            let h = fi!.pointee.fh
            serveNow(req, "readdir \(ino)") { fs throws(FSError) in try replyDir(req, fs, ino, handle: h, size: size, offset: off, plus: false) }
        }
        ops.readdirplus = { req, ino, size, off, fi in
            let h = fi!.pointee.fh
            serveNow(req, "readdirplus \(ino)") { fs throws(FSError) in try replyDir(req, fs, ino, handle: h, size: size, offset: off, plus: true) }
        }
        ops.releasedir = { req, _, fi in
            context(req).fs.releasedir(fi!.pointee.fh)
            _ = fuse_reply_err(req, 0)
        }

        ops.mkdir = { req, parent, name, mode in
            let n = str(name)
            serve(req, "mkdir \(n)") { fs, r throws(FSError) in
                var e = entryParam(try await fs.mkdir(parent: parent, name: n, mode: UInt32(mode) & 0o7777))
                _ = fuse_reply_entry(r.raw, &e)
            }
        }
        ops.rmdir = { req, parent, name in
            let n = str(name)
            serve(req, "rmdir \(n)") { fs, r throws(FSError) in
                try await fs.rmdir(parent: parent, name: n)
                _ = fuse_reply_err(r.raw, 0)
            }
        }
        ops.unlink = { req, parent, name in
            let n = str(name)
            serve(req, "unlink \(n)") { fs, r throws(FSError) in
                try await fs.unlink(parent: parent, name: n)
                _ = fuse_reply_err(r.raw, 0)
            }
        }
        ops.rename = { req, parent, name, newParent, newName, flags in
            let n = str(name), nn = str(newName)
            if flags & CFUSE_RENAME_EXCHANGE != 0 {
                context(req).logger.notice("rename \(n) ⇄ \(nn): RENAME_EXCHANGE is not supported")
                _ = fuse_reply_err(req, EINVAL)
                return
            }
            let noReplace = flags & CFUSE_RENAME_NOREPLACE != 0
            serve(req, "rename \(n) → \(nn)") { fs, r throws(FSError) in
                try await fs.rename(parent: parent, name: n, newParent: newParent, newName: nn, noReplace: noReplace)
                _ = fuse_reply_err(r.raw, 0)
            }
        }
        ops.link = { req, _, _, newName in refuse(req, "link \(str(newName))") }
        ops.symlink = { req, _, _, name in refuse(req, "symlink \(str(name))") }
        ops.mknod = { req, _, name, _, _ in refuse(req, "mknod \(str(name))") }

        ops.create = { req, parent, name, mode, fi in
            let n = str(name)
            let info = FileInfo(info: fi!.pointee)
            serve(req, "create \(n)") { fs, r throws(FSError) in
                var f = info.info
                let (entry, open) = try await fs.create(parent: parent, name: n, mode: UInt32(mode) & 0o7777,
                                                        flags: OpenFlags(raw: f.flags))
                var e = entryParam(entry)
                apply(open, to: &f)
                if fuse_reply_create(r.raw, &e, &f) != 0 { try? await fs.release(entry.attributes.ino, handle: open.handle) }
            }
        }
        ops.open = { req, ino, fi in
            let info = FileInfo(info: fi!.pointee)
            serve(req, "open \(ino)") { fs, r throws(FSError) in
                var f = info.info
                let open = try await fs.open(ino, flags: OpenFlags(raw: f.flags))
                apply(open, to: &f)
                if fuse_reply_open(r.raw, &f) != 0 { try? await fs.release(ino, handle: open.handle) }
            }
        }
        ops.read = { req, ino, size, off, fi in
            let h = fi!.pointee.fh
            // Bytes already in the content cache (or spool) are answered on this libfuse thread: no Task hop.
            let ctx = context(req)
            do throws(FSError) {
                if let reply = try ctx.fs.readReplyNow(ino, handle: h, offset: Int64(off), size: size) {
                    replyRead(req, reply)
                    return
                }
            } catch {
                ctx.log(error, "read \(ino)")
                _ = fuse_reply_err(req, error.errno)
                return
            }
            serve(req, "read \(ino)") { fs, r throws(FSError) in
                replyRead(r.raw, try await fs.readReply(ino, handle: h, offset: Int64(off), size: size))
            }
        }
        ops.write = { req, ino, buf, size, off, fi in
            let h = fi!.pointee.fh
            let data = buf.map { Data(bytes: $0, count: size) } ?? Data()   // the buffer is libfuse's: copy it first
            serve(req, "write \(ino)") { fs, r throws(FSError) in
                let n = try await fs.write(ino, handle: h, offset: Int64(off), data: data)
                _ = fuse_reply_write(r.raw, n)
            }
        }
        ops.flush = { req, ino, fi in
            let h = fi!.pointee.fh
            serve(req, "flush \(ino)") { fs, r throws(FSError) in
                try await fs.flush(ino, handle: h)
                _ = fuse_reply_err(r.raw, 0)
            }
        }
        ops.fsync = { req, ino, datasync, fi in
            let h = fi!.pointee.fh
            serve(req, "fsync \(ino)") { fs, r throws(FSError) in
                try await fs.fsync(ino, handle: h, dataOnly: datasync != 0)
                _ = fuse_reply_err(r.raw, 0)
            }
        }
        ops.release = { req, ino, fi in
            let h = fi!.pointee.fh
            let ctx = context(req)
            let r = Req(raw: req!)
            ctx.inflight.add(1, ordering: .relaxed)
            Task.detached {
                // The kernel ignores release's result; log a failure and always answer 0.
                do throws(FSError) { try await ctx.fs.release(ino, handle: h) } catch { ctx.log(error, "release \(ino)") }
                _ = fuse_reply_err(r.raw, 0)
                ctx.inflight.subtract(1, ordering: .releasing)
            }
        }

        ops.getxattr = { req, ino, name, size in
            let n = str(name)
            // Only user.* attributes exist here; `ls -l` asks security.selinux: answer ENOTSUP without a Task.
            do throws(FSError) { try PhotosFS.checkXattrNamespace(n) } catch {
                context(req).log(error, "getxattr")
                _ = fuse_reply_err(req, error.errno)
                return
            }
            serve(req, "getxattr \(n)") { fs, r throws(FSError) in
                let value = try await fs.getxattr(ino, name: n)
                try replyXattr(r, value, size: size)
            }
        }
        ops.listxattr = { req, ino, size in
            serve(req, "listxattr \(ino)") { fs, r throws(FSError) in
                var list = Data()
                for n in try await fs.listxattr(ino) { list.append(contentsOf: Array(n.utf8)); list.append(0) }
                try replyXattr(r, list, size: size)
            }
        }
        ops.setxattr = { req, ino, name, value, size, _ in
            let n = str(name)
            let v = value.map { Data(bytes: $0, count: size) } ?? Data()
            serve(req, "setxattr \(n)") { fs, r throws(FSError) in
                try await fs.setxattr(ino, name: n, value: v)
                _ = fuse_reply_err(r.raw, 0)
            }
        }
        ops.removexattr = { req, _, name in
            let n = str(name)
            // The gphotos attributes describe the item and can't be removed; nothing else is stored.
            let e: Int32 = n.hasPrefix("user.gphotos.") ? EPERM : ENOTSUP
            context(req).logger.debug("removexattr \(n): \(FSError.name(e))")
            _ = fuse_reply_err(req, e)
        }

        ops.statfs = { req, _ in
            let s = context(req).fs.statfs()
            var v = statvfs()
            v.f_bsize = UInt(s.blockSize); v.f_frsize = UInt(s.blockSize)
            v.f_blocks = fsblkcnt_t(s.blocks); v.f_bfree = fsblkcnt_t(s.blocksFree); v.f_bavail = fsblkcnt_t(s.blocksFree)
            v.f_files = fsfilcnt_t(s.files); v.f_ffree = fsfilcnt_t(s.filesFree); v.f_favail = fsfilcnt_t(s.filesFree)
            v.f_namemax = UInt(s.nameMax)
            _ = fuse_reply_statfs(req, &v)
        }
        return ops
    }
}

/// Refuses link, symlink and mknod with the core's message.
func refuse(_ req: fuse_req_t?, _ what: String) {
    let ctx = context(req)
    let e = ctx.fs.refuseLink(what)
    ctx.logger.notice("\(e)")
    _ = fuse_reply_err(req, e.errno)
}

/// Sets the open reply's handle and cache bits.
func apply(_ open: OpenReply, to f: inout fuse_file_info) {
    f.fh = open.handle
    f.direct_io = open.directIO ? 1 : 0
    f.keep_cache = open.keepCache ? 1 : 0
}

/// Answers a getxattr/listxattr: the size for a size-0 probe, ERANGE when the caller's buffer is too small.
func replyXattr(_ r: Req, _ value: Data, size: Int) throws(FSError) {
    if size == 0 { _ = fuse_reply_xattr(r.raw, value.count); return }
    guard value.count <= size else { throw FSError(ERANGE, "attribute value of \(value.count) bytes > buffer of \(size)") }
    _ = value.withUnsafeBytes { b in fuse_reply_buf(r.raw, b.baseAddress?.assumingMemoryBound(to: CChar.self), b.count) }
}

/// Fills one readdir/readdirplus reply from the open snapshot. Offsets: 1 = ".", 2 = "..", 2 + k = the core's k-th entry.
func replyDir(_ req: fuse_req_t?, _ fs: PhotosFS, _ ino: UInt64, handle: UInt64, size: Int, offset: off_t, plus: Bool) throws(FSError) {
    let buf = UnsafeMutablePointer<CChar>.allocate(capacity: max(size, 1))
    defer { buf.deallocate() }
    var used = 0
    var pos = Int(offset)
    /// Adds one entry; false when the buffer is full.
    func add(_ name: String, _ entry: EntryReply?, dirIno: UInt64, next: Int) -> Bool {
        let need: Int
        if plus {
            var e = fuse_entry_param()
            if let entry { e = entryParam(entry) } else { e.attr.st_ino = ino_t(dirIno); e.attr.st_mode = S_IFDIR | 0o755 }
            need = fuse_add_direntry_plus(req, buf + used, size - used, name, &e, off_t(next))
        } else {
            var st = stat()
            if let entry { st = statOf(entry.attributes) } else { st.st_ino = ino_t(dirIno); st.st_mode = S_IFDIR | 0o755 }
            need = fuse_add_direntry(req, buf + used, size - used, name, &st, off_t(next))
        }
        if need > size - used { return false }
        used += need
        return true
    }
    if pos < 1 { if !add(".", nil, dirIno: ino, next: 1) { return finishDir(req, buf, used) }; pos = 1 }
    if pos < 2 { if !add("..", nil, dirIno: 1, next: 2) { return finishDir(req, buf, used) }; pos = 2 }
    // Ask for a bounded page: a directory entry takes at least 24 bytes (readdir) or ~150 (readdirplus).
    let limit = max(1, size / (plus ? 140 : 24))
    let entries = try fs.readdir(ino, handle: handle, offset: pos - 2, limit: limit)
    for (i, d) in entries.enumerated() where d.name != "." && d.name != ".." {
        if !add(d.name, d.entry, dirIno: 0, next: pos + i + 1) { break }
    }
    finishDir(req, buf, used)
}

/// Sends the filled directory buffer.
func finishDir(_ req: fuse_req_t?, _ buf: UnsafeMutablePointer<CChar>, _ used: Int) {
    _ = fuse_reply_buf(req, buf, used)
}

/// An entry reply as libfuse wants it.
func entryParam(_ e: EntryReply) -> fuse_entry_param {
    var p = fuse_entry_param()
    p.ino = fuse_ino_t(e.attributes.ino)
    p.generation = 1
    p.attr = statOf(e.attributes)
    p.attr_timeout = e.attributes.sizeUnknown ? 0 : e.attrTimeout
    p.entry_timeout = e.entryTimeout
    return p
}

/// stat() of a node: type bits + permissions, 512-byte blocks, 4 KiB I/O size.
func statOf(_ a: FileAttributes) -> stat {
    var st = stat()
    st.st_ino = ino_t(a.ino)
    st.st_mode = (a.kind == .directory ? S_IFDIR : S_IFREG) | (a.permissions & 0o7777)
    st.st_nlink = nlink_t(a.nlink)
    st.st_uid = a.uid
    st.st_gid = a.gid
    st.st_size = off_t(max(0, a.size))
    st.st_blksize = 4096
    st.st_blocks = blkcnt_t((max(0, a.size) + 511) / 512)
    st.st_mtim = timespec(a.mtime)
    st.st_atim = st.st_mtim
    st.st_ctim = timespec(a.ctime)
    return st
}

extension timespec {
    /// A timespec from a Date.
    init(_ d: Date) {
        let t = d.timeIntervalSince1970
        let s = t.rounded(.down)
        self.init(tv_sec: Int(s), tv_nsec: min(999_999_999, Int((t - s) * 1e9)))
    }

    /// The Date of a timespec.
    var date: Date { Date(timeIntervalSince1970: Double(tv_sec) + Double(tv_nsec) / 1e9) }
}

/// A setattr request's changes. UTIME_NOW (or FUSE_SET_ATTR_MTIME_NOW) means the current time.
func setAttributes(_ st: stat, _ toSet: Int32) -> SetAttributes {
    var c = SetAttributes()
    if toSet & FUSE_SET_ATTR_MODE != 0 { c.mode = UInt32(st.st_mode) & 0o7777 }
    if toSet & FUSE_SET_ATTR_UID != 0 { c.uid = st.st_uid }
    if toSet & FUSE_SET_ATTR_GID != 0 { c.gid = st.st_gid }
    if toSet & FUSE_SET_ATTR_SIZE != 0 { c.size = Int64(st.st_size) }
    if toSet & FUSE_SET_ATTR_MTIME_NOW != 0 || (toSet & FUSE_SET_ATTR_MTIME != 0 && st.st_mtim.tv_nsec == CFUSE_UTIME_NOW) {
        c.mtime = Date()
    } else if toSet & FUSE_SET_ATTR_MTIME != 0 && st.st_mtim.tv_nsec != CFUSE_UTIME_OMIT {
        c.mtime = st.st_mtim.date
    }
    return c
}
