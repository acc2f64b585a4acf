// The read side: its state, lookups, attributes, opendir, directory roles and statfs (docs/ARCHITECTURE.md "The mount, as built").
import Foundation
import MetadataStore
import PhotosAPI
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// State of the read side: listing caches, the album-title tree, title-prefix interning, refreshes, downloads.
final class TreeState: Sendable {
    /// Most directory listings kept in memory (LRU).
    static let maxListings = 64
    /// Most entries kept in memory over all cached listings.
    static let maxCachedEntries = 400_000

    /// A directory's committed entries as last built from SQLite (names computed once per refresh), packed: a 24-byte
    /// slot, a size and the name's bytes an entry, ~60 bytes in all where an array of `DirEntry` took ~200
    /// (docs/PERFORMANCE.md, RSS). Everything else an entry shows (owner, mode, timeouts) is the mount's, so
    /// `PhotosFS.dirEntry` rebuilds the full entry when one is asked for. Copies share one size table: a size learned
    /// later is patched in place for every holder (open snapshots included), never by copying the listing.
    struct Listing: Sendable {
        /// What one entry shows besides its name and size.
        struct Slot: Sendable {
            var ino: UInt64
            var mtime: Double
            /// End of the name in `names`.
            var nameEnd: UInt32
            var isDirectory: Bool
        }

        /// Sizes by entry (-1: not known yet), shared by every copy of the listing.
        final class Sizes: Sendable {
            struct State { var sizes: [Int64]; var unknownLeft: Int }
            let state: Mutex<State>
            init(_ sizes: [Int64], unknown: Int) { state = Mutex(State(sizes: sizes, unknownLeft: unknown)) }
        }

        /// Every name's UTF-8 bytes, one after another.
        let names: [UInt8]
        let slots: [Slot]
        let sizes: Sizes
        /// Entry indices sorted by name bytes (equal names: first entry first), for lookups by binary search.
        let byName: [Int32]
        /// Entries whose size was unknown when built (0 s timeouts), sorted by inode, for `learned`.
        let unknown: [Int32]
        /// Refresh keys whose completion invalidates this listing.
        var deps: Set<String>
        var tick: UInt64 = 0
        /// Unique per build: a directory whose listing has the same id still shows what the kernel cached.
        let id = Listing.ids.add(1, ordering: .relaxed).newValue
        private static let ids = Atomic<UInt64>(0)

        /// A listing of `entries`: (name, inode, size or nil when unknown, mtime, directory?).
        init<S: Sequence>(_ entries: S, count: Int, deps: Set<String>)
        where S.Element == (name: String, ino: UInt64, size: Int64?, mtime: Double, directory: Bool) {
            self.deps = deps
            var names: [UInt8] = [], slots: [Slot] = [], sizes: [Int64] = []
            slots.reserveCapacity(count)
            sizes.reserveCapacity(count)
            for e in entries {
                names.append(contentsOf: e.name.utf8)
                slots.append(Slot(ino: e.ino, mtime: e.mtime, nameEnd: UInt32(names.count), isDirectory: e.directory))
                sizes.append(e.size ?? -1)
            }
            self.names = Array(names)   // without the growth slack
            self.slots = slots
            byName = (0..<Int32(slots.count)).sorted { a, b in
                let x = Self.nameBytes(names, slots, Int(a)), y = Self.nameBytes(names, slots, Int(b))
                return x.elementsEqual(y) ? a < b : x.lexicographicallyPrecedes(y)
            }
            unknown = (0..<Int32(slots.count)).filter { sizes[Int($0)] < 0 }.sorted { slots[Int($0)].ino < slots[Int($1)].ino }
            self.sizes = Sizes(sizes, unknown: unknown.count)
        }

        /// Number of entries.
        var count: Int { slots.count }
        /// True while some entry's size is unknown.
        var hasUnknownSizes: Bool { sizes.state.withLock { $0.unknownLeft > 0 } }
        /// The size of entry `i`, nil while unknown.
        func size(_ i: Int) -> Int64? { sizes.state.withLock { s in s.sizes[i] < 0 ? nil : s.sizes[i] } }

        private static func nameBytes(_ names: [UInt8], _ slots: [Slot], _ i: Int) -> ArraySlice<UInt8> {
            names[(i == 0 ? 0 : Int(slots[i - 1].nameEnd))..<Int(slots[i].nameEnd)]
        }

        /// The name bytes of entry `i`.
        func nameBytes(_ i: Int) -> ArraySlice<UInt8> { Self.nameBytes(names, slots, i) }

        /// The name of entry `i`.
        func name(_ i: Int) -> String { String(decoding: nameBytes(i), as: UTF8.self) }

        /// The node of entry `i`.
        func node(_ i: Int) -> NodeID { NodeID(ino: slots[i].ino) ?? .root }

        /// The index of the first entry named `name` (bytes compared, as the kernel does), nil when none.
        func find(_ name: String) -> Int? {
            let key = name.utf8
            var lo = 0, hi = byName.count
            while lo < hi {   // bounded: the range halves each pass
                let mid = (lo + hi) / 2
                if nameBytes(Int(byName[mid])).lexicographicallyPrecedes(key) { lo = mid + 1 } else { hi = mid }
            }
            guard lo < byName.count, nameBytes(Int(byName[lo])).elementsEqual(key) else { return nil }
            return Int(byName[lo])
        }

        /// Records the learned size of the item with inode `ino` (for every copy of this listing); false when it had
        /// no such entry of unknown size.
        func learned(ino: UInt64, size: Int64) -> Bool {
            var lo = 0, hi = unknown.count
            while lo < hi {   // bounded: the range halves each pass
                let mid = (lo + hi) / 2
                if slots[Int(unknown[mid])].ino < ino { lo = mid + 1 } else { hi = mid }
            }
            return sizes.state.withLock { s in
                var changed = false
                while lo < unknown.count, slots[Int(unknown[lo])].ino == ino {   // bounded by the entries of that inode
                    let i = Int(unknown[lo])
                    if s.sizes[i] < 0 {
                        s.sizes[i] = max(0, size)
                        s.unknownLeft -= 1
                        changed = true
                    }
                    lo += 1
                }
                return changed
            }
        }
    }

    struct State {
        var listings: [NodeID: Listing] = [:]
        var cachedEntries = 0
        var tick: UInt64 = 0
        var albumTree: AlbumTree?
        var prefixIds: [String: Int64] = [:]
        var prefixPaths: [Int64: [String]] = [:]
        var refreshing: [String: (id: UInt64, task: Task<FSError?, Never>)] = [:]
        var lastEpoch: Double = 0
        var refreshedAt: [String: Double] = [:]
        var failedAt: [String: Double] = [:]
        var sizing: [Int64: Task<Int64?, Never>] = [:]
        /// batchGet calls in flight, by every Google id they fetch: a base URL asked for while one is coming waits for
        /// it instead of sending another call (concurrent lookups of fresh items would each send one).
        var baseUrlFetches: [String: Task<BaseUrlBatch, Never>] = [:]
        var downloads: [Int64: Download] = [:]
        var openReaders: [Int64: Int] = [:]
        var goneRows: Set<Int64> = []
        /// Per directory inode: the listing the kernel cached its entries of (readdir cache), and when it did.
        var kernelDirCache: [UInt64: (listing: UInt64, at: Double, sized: Bool)] = [:]
        var activeTransfers = 0
        var transferWaiters: [CheckedContinuation<Void, Never>] = []
        var evicting = false
        var mountTime: Date?
        /// Bumped by every listing invalidation: a listing built before one is returned but not cached.
        var invalidations: UInt64 = 0
        /// Local changes being written to SQLite (`localChange`): listings built meanwhile are not cached.
        var changing = 0
    }

    let state = Mutex(State())
    /// Per refresh key ("albums", "media", "album:<id>"), a counter bumped by each local change of what that refresh
    /// fetches. A refresh writes only while its key's counter is the one it started with, under this lock, so a
    /// refresh that fetched before a local change never writes its older answer over it (Refresh.swift).
    let generations = Mutex([String: UInt64]())

    /// Creates empty state.
    init() {}
}

extension PhotosFS {
    // MARK: small helpers

    /// Runs a store call, mapping its error for `path`.
    func db<T>(_ path: @autoclosure () -> String, _ body: () throws(StoreError) -> T) throws(FSError) -> T {
        do { return try body() } catch { throw FSError(error, path: path()) }
    }

    /// The time the mount started (directories without items show it as mtime).
    var mountTime: Date {
        let now = clock.now()
        return tree.state.withLock { s in
            if let t = s.mountTime { return t }
            s.mountTime = now
            return now
        }
    }

    /// Permission bits for a directory.
    func directoryPermissions(writable: Bool) -> UInt32 {
        ((writable && !options.readOnly) ? 0o755 : 0o555) & ~options.umask
    }

    /// Permission bits for a committed item (one inode, shared by every directory that lists it).
    var itemPermissions: UInt32 { (options.readOnly ? 0o444 : 0o644) & ~options.umask }

    /// Directories where the write side may create entries.
    func isWritableDirectory(_ node: NodeID) -> Bool {
        switch node {
        case .albumRoot, .titlePrefix, .album, .uploadRoot: return true
        default: return false
        }
    }

    /// A directory's attributes.
    func directoryAttributes(_ node: NodeID, mtime: Date?) -> FileAttributes {
        FileAttributes(ino: node.ino, kind: .directory, permissions: directoryPermissions(writable: isWritableDirectory(node)),
                       size: 4096, nlink: 2, uid: options.uid, gid: options.gid, mtime: mtime ?? mountTime)
    }

    /// A committed item's attributes (size 0 and `sizeUnknown` while the size is not known).
    func itemAttributes(_ item: ItemRecord) -> FileAttributes {
        FileAttributes(ino: NodeID.item(item.row).ino, kind: .file, permissions: itemPermissions, size: item.size ?? 0, nlink: 1,
                       uid: options.uid, gid: options.gid,
                       mtime: item.creationTime.map { Date(timeIntervalSince1970: $0) } ?? mountTime,
                       sizeUnknown: item.size == nil)
    }

    /// Seconds the kernel may cache a committed item's attributes once its size is known (items never change).
    static let itemAttrTimeout: Double = 3600

    /// The lookup/readdir reply for an item: known sizes are cached long (items never change), unknown ones not at all.
    func itemEntry(_ item: ItemRecord) -> EntryReply {
        itemReply(itemAttributes(item))
    }

    /// The reply for item attributes `a`: cache timeouts follow whether the size is known.
    func itemReply(_ a: FileAttributes) -> EntryReply {
        a.sizeUnknown ? EntryReply(attributes: a, entryTimeout: 0, attrTimeout: 0)
                      : EntryReply(attributes: a, entryTimeout: options.dirCacheTime, attrTimeout: Self.itemAttrTimeout)
    }

    /// The lookup/readdir reply for a directory. Listings don't compute the newest-item mtime of each sub-directory,
    /// so such entries carry attrTimeout 0 and the kernel asks getattr (one SQL aggregate) when it needs them.
    func directoryEntry(_ node: NodeID, mtime: Date?) -> EntryReply {
        let computed: Bool
        switch node {
        case .album, .mediaAll, .date: computed = true
        default: computed = false
        }
        return EntryReply(attributes: directoryAttributes(node, mtime: mtime), entryTimeout: options.dirCacheTime,
                          attrTimeout: computed && mtime == nil ? 0 : options.dirCacheTime)
    }

    /// A live item row or ENOENT/ESTALE.
    func liveItem(_ row: Int64) throws(FSError) -> ItemRecord {
        guard let item = try db(pathOf(.item(row)), { () throws(StoreError) in try store.item(row: row) }) else {
            throw FSError(ESTALE, "inode of item row \(row) is unknown to this mount")
        }
        guard !item.gone else { throw FSError.stale("item '\(item.filename)'") }
        return item
    }

    // MARK: operations

    /// Finds `name` in `parent`: pending files first, then the committed listing.
    func treeLookup(parent: NodeID, name: String) async throws(FSError) -> EntryReply {
        switch parent {
        case .item, .pending: throw FSError(ENOTDIR, "\(pathOf(parent)): not a directory")
        default: break
        }
        let pending = try pendingFor(parent)
        if let p = pending.files.first(where: { $0.name == name }) {
            return EntryReply(attributes: p.attributes, entryTimeout: 0, attrTimeout: 0)
        }
        let listing = try await committedListing(parent)
        guard let i = listing.find(name), !pending.hides(listing.node(i)) else { throw FSError.noEntry(pathOf(parent) + "/" + name) }
        let node = listing.node(i)
        if case .item(let row) = node {
            var item = try liveItem(row)
            if item.size == nil, options.size == .exact, let n = await learnSize(item) { item.size = n }
            return itemEntry(item)
        }
        let attributes = try await treeAttributes(node)
        return directoryEntry(node, mtime: attributes.mtime)
    }

    /// stat() of a committed node.
    func treeAttributes(_ node: NodeID) async throws(FSError) -> FileAttributes {
        switch node {
        case .item(let row):
            var item = try liveItem(row)
            if item.size == nil, options.size == .exact, let n = await learnSize(item) { item.size = n }
            return itemAttributes(item)
        case .pending(let id):
            return try await pendingAttributes(id)
        case .album(let row):
            guard try db(pathOf(node), { () throws(StoreError) in try store.album(row: row) }) != nil else {
                throw FSError.noEntry(pathOf(node))
            }
            let newest = try db(pathOf(node), { () throws(StoreError) in try store.newestCreation(album: row) })
            return directoryAttributes(node, mtime: newest.map { Date(timeIntervalSince1970: $0) })
        case .titlePrefix(let id):
            guard tree.state.withLock({ $0.prefixPaths[id] }) != nil else { throw FSError(ESTALE, "title directory \(id) is unknown") }
            return directoryAttributes(node, mtime: nil)
        case .mediaAll:
            return directoryAttributes(node, mtime: try newest(in: DateSpan(start: -1e15, end: 1e15), node))
        case .date(let t, let y, let m, let d):
            guard let span = Self.span(tree: t, year: y, month: m, day: d) else { throw FSError.noEntry(pathOf(node)) }
            return directoryAttributes(node, mtime: try newest(in: span, node))
        case .root, .albumRoot, .mediaRoot, .dateRoot, .uploadRoot:
            return directoryAttributes(node, mtime: nil)
        }
    }

    private func newest(in span: DateSpan, _ node: NodeID) throws(FSError) -> Date? {
        try db(pathOf(node), { () throws(StoreError) in try store.newestCreation(in: span) }).map { Date(timeIntervalSince1970: $0) }
    }

    /// Opens a directory: the committed listing (from the cache or one SQLite query) with pending files merged in.
    func treeOpenDir(_ node: NodeID) async throws(FSError) -> UInt64 {
        switch node {
        case .item, .pending: throw FSError(ENOTDIR, "\(pathOf(node)): not a directory")
        default: break
        }
        let pending = try pendingFor(node)   // before the listing: a file committed in between shows in the listing
        let listing = try await committedListing(node)
        guard !pending.files.isEmpty || !pending.replaced.isEmpty else {
            return handles.insert(.directory(DirListing(listing)))
        }
        let shadowed = Set(pending.files.map(\.name))
        let visible = (0..<Int32(listing.count)).filter { i in
            !pending.hides(listing.node(Int(i))) && (shadowed.isEmpty || !shadowed.contains(listing.name(Int(i))))
        }
        let extra = pending.files.map { DirEntry(name: $0.name, entry: EntryReply(attributes: $0.attributes, entryTimeout: 0, attrTimeout: 0)) }
        return handles.insert(.directory(DirListing(listing, visible: visible, extra: extra)))
    }

    /// Finds `name` in a directory (pending first); nil when absent.
    func resolve(parent: NodeID, name: String) async throws(FSError) -> NodeID? {
        switch parent {
        case .item, .pending: throw FSError(ENOTDIR, "\(pathOf(parent)): not a directory")
        default: break
        }
        let pending = try pendingFor(parent)
        if let p = pending.files.first(where: { $0.name == name }) { return NodeID(ino: p.attributes.ino) }
        let listing = try await committedListing(parent)
        return listing.find(name).map { listing.node($0) }.flatMap { pending.hides($0) ? nil : $0 }
    }

    /// Pending entries of a directory that can hold them (album dirs, upload/).
    func pendingFor(_ node: NodeID) throws(FSError) -> PendingEntries {
        switch node {
        case .album, .uploadRoot: return pendingEntries(in: try directoryRole(node))
        default: return PendingEntries()
        }
    }

    /// What a directory is, for the write side.
    func directoryRole(_ node: NodeID) throws(FSError) -> DirectoryRole {
        switch node {
        case .root: return .root
        case .albumRoot: return .albumParent(prefix: "")
        case .titlePrefix(let id):
            guard let path = tree.state.withLock({ $0.prefixPaths[id] }) else { throw FSError(ESTALE, "title directory \(id) is unknown") }
            return .albumParent(prefix: path.joined(separator: "/"))
        case .album(let row):
            guard let a = try db(pathOf(node), { () throws(StoreError) in try store.album(row: row) }) else {
                throw FSError.noEntry(pathOf(node))
            }
            return .album(row: row, googleId: a.googleId, title: a.title)
        case .uploadRoot: return .upload
        case .mediaRoot, .mediaAll, .dateRoot, .date: return .readOnly
        case .item, .pending: throw FSError(ENOTDIR, "\(pathOf(node)): not a directory")
        }
    }

    /// The node's path under the mount, for messages ("album/Trip", "media/by-day/2024/2024-05-01", "item 'a.jpg'").
    func pathOf(_ node: NodeID) -> String {
        switch node {
        case .root: return "/"
        case .albumRoot: return "album"
        case .mediaRoot: return "media"
        case .mediaAll: return "media/all"
        case .uploadRoot: return "upload"
        case .dateRoot(let t): return "media/" + Self.dateRootName(t)
        case .date(let t, let y, let m, let d):
            let year = String(format: "%04d", y)
            switch (t, m, d) {
            case (.byYear, _, _), (_, 0, _): return "media/\(Self.dateRootName(t))/\(year)"
            case (.byMonth, _, _): return "media/by-month/\(year)/" + String(format: "%04d-%02d", y, m)
            case (.byDay, _, _): return "media/by-day/\(year)/" + String(format: "%04d-%02d-%02d", y, m, d)
            }
        case .album(let row):
            guard let a = try? store.album(row: row) else { return "album row \(row)" }
            return "album/" + Naming.titlePath(a.title).joined(separator: "/")
        case .titlePrefix(let id):
            guard let p = tree.state.withLock({ $0.prefixPaths[id] }) else { return "album (title directory \(id))" }
            return "album/" + p.map(Naming.encode).joined(separator: "/")
        case .item(let row):
            guard let i = try? store.item(row: row) else { return "item row \(row)" }
            return "item '\(Naming.encode(i.filename))'"
        case .pending(let id): return "pending file \(id)"
        }
    }

    /// An item's size was learned (HEAD or download): cached listings that showed it with an unknown size get the
    /// size and real cache timeouts in place, so the next readdirplus lets the kernel answer a warm `ls -l` alone.
    func sizeLearned(row: Int64, size: Int64) {
        let ino = NodeID.item(row).ino
        tree.state.withLock { s in
            for l in s.listings.values where l.hasUnknownSizes { _ = l.learned(ino: ino, size: size) }
        }
    }

    /// Forgets cached listings of `node` (after a local change). Album-tree directories share one title tree, so a
    /// change to any of them rebuilds all of them.
    func invalidateListing(_ node: NodeID) {
        tree.state.withLock { s in
            s.invalidations &+= 1
            switch node {
            case .albumRoot, .titlePrefix:
                s.albumTree = nil
                for (k, l) in s.listings where l.deps.contains("albums") { s.cachedEntries -= l.count; s.listings[k] = nil }
            default:
                if let l = s.listings.removeValue(forKey: node) { s.cachedEntries -= l.count }
            }
        }
    }

    /// statfs: blocks of the file system holding the content cache; files = items known (not gone) plus the cache
    /// file system's free inodes, so `df -i` shows the item count as used.
    func treeStatFS() -> FSStats {
        var v = statvfs()
        let ok = statvfs(paths.content, &v) == 0
        let items = UInt64(max(0, (try? store.itemCount()) ?? 0))
        guard ok else { return FSStats(blockSize: 4096, blocks: 0, blocksFree: 0, files: items, filesFree: 0) }
        let ffree = UInt64(v.f_favail)
        return FSStats(blockSize: UInt64(v.f_frsize == 0 ? v.f_bsize : v.f_frsize), blocks: UInt64(v.f_blocks),
                       blocksFree: UInt64(v.f_bavail), files: items + ffree, filesFree: ffree, nameMax: 255)
    }
}

/// A directory snapshot taken at opendir: the committed listing as it was (its storage shared, not copied), the
/// entries pending files hide or shadow left out, and the pending files after it.
final class DirListing: Sendable {
    let listing: TreeState.Listing
    /// Indices of the listing's entries shown, nil for all.
    let visible: [Int32]?
    let extra: [DirEntry]
    init(_ listing: TreeState.Listing, visible: [Int32]? = nil, extra: [DirEntry] = []) {
        self.listing = listing; self.visible = visible; self.extra = extra
    }

    /// Number of entries shown.
    var count: Int { (visible?.count ?? listing.count) + extra.count }

    /// Entries after the 0-based `offset`, at most `limit`, built by `make` from the listing.
    func entries(after offset: Int, limit: Int, make: (TreeState.Listing, Int) -> DirEntry) -> [DirEntry] {
        guard offset >= 0, offset < count, limit > 0 else { return [] }
        let end = limit >= count - offset ? count : offset + limit
        let committed = visible?.count ?? listing.count
        return (offset..<end).map { k in
            if k >= committed { return extra[k - committed] }
            return make(listing, visible.map { Int($0[k]) } ?? k)
        }
    }
}
