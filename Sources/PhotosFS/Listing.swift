// Listings: what each directory holds, built from SQLite in one query per directory and cached (LRU) until a refresh.
import Foundation
import MetadataStore

/// The album titles as a tree of raw path components ("Trips/2024/Rome" → Trips → 2024 → Rome).
struct AlbumTree: Sendable {
    /// One directory of the tree.
    struct Dir: Sendable {
        /// Albums whose whole title is this path (several: duplicate titles).
        var albums: [AlbumRecord] = []
        /// Next components below this path, in first-seen order.
        var children: [String] = []
        var childSet: Set<String> = []
    }
    var dirs: [[String]: Dir] = [[]: Dir()]
    var albumPath: [Int64: [String]] = [:]

    /// Builds the tree from every album (by row, so the oldest of duplicate titles owns the sub-albums).
    init(_ albums: [AlbumRecord]) {
        for a in albums {
            let comps = Naming.rawTitlePath(a.title)
            albumPath[a.row] = comps
            for k in 0..<comps.count {
                let parent = Array(comps[0..<k])
                if !(dirs[parent]?.childSet.contains(comps[k]) ?? false) {
                    dirs[parent, default: Dir()].children.append(comps[k])
                    dirs[parent, default: Dir()].childSet.insert(comps[k])
                }
                if dirs[Array(comps[0...k])] == nil { dirs[Array(comps[0...k])] = Dir() }
            }
            dirs[comps, default: Dir()].albums.append(a)
        }
    }
}

extension PhotosFS {
    /// Hands memory freed after a big listing or refresh back to the kernel: glibc keeps it in its arenas otherwise,
    /// and a NAS box counts resident memory (docs/PERFORMANCE.md, RSS).
    static func returnFreedMemory() {
        mallocTrim?(0)
    }

    /// glibc malloc settings for a long-running mount (docs/PERFORMANCE.md, RSS). Call once at start, before the
    /// threads exist.
    /// - At most two arenas: glibc gives each thread that contends for the heap an arena of its own (up to 8 per
    ///   core); with 16 FUSE threads and the cooperative pool, listings built on one thread and freed on another left
    ///   pages stranded across arenas.
    /// - Fixed mmap (128 KiB) and trim (512 KiB) thresholds: by default glibc raises both after a large block is
    ///   freed (up to 32 and 64 MiB), so once a 100,000-entry listing had been built, the ~35 MB its build freed stayed
    ///   resident as the top of an arena that neither free() nor malloc_trim() gives back.
    public static func tuneMalloc() {
        guard let f = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(f, to: (@convention(c) (Int32, Int32) -> Int32).self)
        _ = mallopt(-8, 2)            // M_ARENA_MAX
        _ = mallopt(-3, 128 << 10)    // M_MMAP_THRESHOLD
        _ = mallopt(-1, 512 << 10)    // M_TRIM_THRESHOLD
    }

    /// glibc's malloc_trim (not in Swift's Glibc module; nil on a libc without it).
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        guard let f = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(f, to: (@convention(c) (Int) -> Int32).self)
    }()

    /// The directory name of a date tree.
    static func dateRootName(_ t: DateTree) -> String {
        switch t { case .byYear: "by-year"; case .byMonth: "by-month"; case .byDay: "by-day" }
    }

    /// The UTC time span of a date directory (month 0 = whole year, day 0 = whole month); nil when invalid.
    static func span(tree: DateTree, year: Int, month: Int, day: Int) -> DateSpan? {
        guard (1...9999).contains(year), (0...12).contains(month), (0...31).contains(day), !(month == 0 && day != 0) else { return nil }
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        func at(_ y: Int, _ m: Int, _ d: Int) -> Double? {
            cal.date(from: DateComponents(year: y, month: m, day: d))?.timeIntervalSince1970
        }
        if month == 0 {
            guard let a = at(year, 1, 1), let b = at(year + 1, 1, 1) else { return nil }
            return DateSpan(start: a, end: b)
        }
        if day == 0 {
            guard let a = at(year, month, 1), let b = at(month == 12 ? year + 1 : year, month == 12 ? 1 : month + 1, 1) else { return nil }
            return DateSpan(start: a, end: b)
        }
        guard let a = at(year, month, day) else { return nil }
        // An impossible day (Feb 31) normalizes to another date: refuse it.
        let back = cal.dateComponents([.month, .day], from: Date(timeIntervalSince1970: a))
        guard back.month == month, back.day == day else { return nil }
        return DateSpan(start: a, end: a + 86_400)
    }

    /// Refresh keys a directory's listing depends on (their completion invalidates it).
    func listingDeps(_ node: NodeID) -> Set<String> {
        switch node {
        case .root, .mediaRoot: return []
        case .albumRoot, .titlePrefix: return ["albums"]
        case .album(let row):
            let gid = (try? store.album(row: row))?.googleId ?? ""
            return ["albums", "album:" + gid]
        case .mediaAll, .dateRoot, .date, .uploadRoot: return ["media"]
        case .item, .pending: return []
        }
    }

    /// The committed entries of a directory: the cached listing, or one built from SQLite after making sure its data
    /// has been fetched at least once (a stale listing is served now and refreshed in the background).
    func committedListing(_ node: NodeID) async throws(FSError) -> TreeState.Listing {
        try await ensureFresh(for: node)
        if let l = tree.state.withLock({ s -> TreeState.Listing? in
            guard var l = s.listings[node] else { return nil }
            s.tick += 1
            l.tick = s.tick
            s.listings[node] = l
            return l
        }) { return l }
        let epoch = tree.state.withLock { $0.invalidations }
        let listing = try makeListing(node)
        // After makeListing returned, its records and name tables are freed: hand that memory back.
        if listing.count >= 10_000 { Self.returnFreedMemory() }
        let stored = listing
        tree.state.withLock { s in
            guard s.invalidations == epoch, s.changing == 0 else { return }   // changed while built: serve it, don't keep it
            s.tick += 1
            var l = stored
            l.tick = s.tick
            if let old = s.listings[node] { s.cachedEntries -= old.count }
            s.listings[node] = l
            s.cachedEntries += l.count
            // Bounded: each pass removes one listing.
            while s.listings.count > TreeState.maxListings || (s.cachedEntries > TreeState.maxCachedEntries && s.listings.count > 1) {
                guard let victim = s.listings.min(by: { $0.value.tick < $1.value.tick })?.key, victim != node else { break }
                s.cachedEntries -= s.listings[victim]!.count
                s.listings[victim] = nil
            }
        }
        return listing
    }

    /// A listing of `node` built from SQLite.
    private func makeListing(_ node: NodeID) throws(FSError) -> TreeState.Listing {
        let built = try buildListing(node)
        return TreeState.Listing(built.lazy.map { b in
            (name: b.name, ino: b.node.ino, size: b.size, mtime: b.mtime, directory: b.directory)
        }, count: built.count, deps: listingDeps(node))
    }

    /// Entry `i` of a listing as lookup and readdirplus show it: the packed slot plus the mount's owner, modes and
    /// cache timeouts.
    func dirEntry(_ l: TreeState.Listing, _ i: Int) -> DirEntry {
        let slot = l.slots[i]
        if slot.isDirectory { return DirEntry(name: l.name(i), entry: directoryEntry(l.node(i), mtime: nil)) }
        let size = l.size(i)
        let a = FileAttributes(ino: slot.ino, kind: .file, permissions: itemPermissions, size: size ?? 0, nlink: 1,
                               uid: options.uid, gid: options.gid, mtime: Date(timeIntervalSince1970: slot.mtime),
                               sizeUnknown: size == nil)
        return DirEntry(name: l.name(i), entry: itemReply(a))
    }

    /// The album-title tree (rebuilt after an album-list change).
    func albumTree() throws(FSError) -> AlbumTree {
        let (cached, epoch) = tree.state.withLock { ($0.albumTree, $0.invalidations) }
        if let cached { return cached }
        let t = AlbumTree(try db("album", { () throws(StoreError) in try store.albums() }))
        tree.state.withLock { s in if s.invalidations == epoch, s.changing == 0 { s.albumTree = t } }
        return t
    }

    /// The stable (per mount) id of a title-prefix directory.
    func internPrefix(_ path: [String]) -> Int64 {
        let key = path.joined(separator: "/")
        return tree.state.withLock { s in
            if let id = s.prefixIds[key] { return id }
            let id = Int64(s.prefixIds.count + 1)
            s.prefixIds[key] = id
            s.prefixPaths[id] = path
            return id
        }
    }

    /// One entry as built: directories show the mount's attributes; items their size (nil: unknown) and mtime.
    private struct Built {
        var node: NodeID
        var name: String
        var size: Int64? = 0
        var mtime: Double = 0
        var directory = true
    }

    /// Builds a directory's committed entries from SQLite.
    private func buildListing(_ node: NodeID) throws(FSError) -> [Built] {
        let path = pathOf(node)
        switch node {
        case .root:
            return [("album", NodeID.albumRoot), ("media", .mediaRoot), ("upload", .uploadRoot)].map {
                Built(node: $0.1, name: $0.0)
            }
        case .mediaRoot:
            return [("all", NodeID.mediaAll), ("by-year", .dateRoot(.byYear)), ("by-month", .dateRoot(.byMonth)), ("by-day", .dateRoot(.byDay))].map {
                Built(node: $0.1, name: $0.0)
            }
        case .albumRoot:
            return try albumDirEntries(path: [], album: nil)
        case .titlePrefix(let id):
            guard let p = tree.state.withLock({ $0.prefixPaths[id] }) else { throw FSError(ESTALE, "title directory \(id) is unknown") }
            return try albumDirEntries(path: p, album: nil)
        case .album(let row):
            let t = try albumTree()
            guard let p = t.albumPath[row] else { throw FSError.noEntry(path) }
            return try albumDirEntries(path: p, album: row)
        case .mediaAll:
            return files(try db(path, { () throws(StoreError) in try store.allItems() }))
        case .uploadRoot:
            return files(try db(path, { () throws(StoreError) in try store.uploadDirItems() }))
        case .dateRoot(let t):
            let keys = try db(path, { () throws(StoreError) in try store.dateKeys("%Y", in: DateSpan(start: -62_135_596_800, end: 253_402_300_800)) })
            return keys.compactMap { k -> Built? in
                guard let y = Int(k), (1...9999).contains(y) else { return nil }
                let n = NodeID.date(t, year: y, month: 0, day: 0)
                return Built(node: n, name: k)
            }
        case .date(let t, let y, let m, let d):
            guard let span = Self.span(tree: t, year: y, month: m, day: d) else { throw FSError.noEntry(path) }
            switch (t, m) {
            case (.byMonth, 0), (.byDay, 0):
                let fmt = t == .byMonth ? "%Y-%m" : "%Y-%m-%d"
                let keys = try db(path, { () throws(StoreError) in try store.dateKeys(fmt, in: span) })
                return keys.compactMap { k -> Built? in
                    let parts = k.split(separator: "-").compactMap { Int($0) }
                    guard parts.count == (t == .byMonth ? 2 : 3) else { return nil }
                    let n = NodeID.date(t, year: parts[0], month: parts[1], day: t == .byMonth ? 0 : parts[2])
                    return Built(node: n, name: k)
                }
            default:
                return files(try db(path, { () throws(StoreError) in try store.items(in: span) }))
            }
        case .item, .pending:
            throw FSError(ENOTDIR, "\(path): not a directory")
        }
    }

    /// Items as named files of one directory.
    private func files(_ items: [ListedItem]) -> [Built] {
        let names = Naming.displayNames(items.map { NameRequest(rawName: $0.filename, id: $0.googleId, isDirectory: false) })
        let now = mountTime.timeIntervalSince1970
        return zip(items, names).map { Built(node: .item($0.row), name: $1, size: $0.size, mtime: $0.creationTime ?? now, directory: false) }
    }

    /// A directory of the album tree: sub-directories (albums or title prefixes) and, for an album, its items.
    private func albumDirEntries(path: [String], album: Int64?) throws(FSError) -> [Built] {
        let t = try albumTree()
        var nodes: [NodeID] = []
        var requests: [NameRequest] = []
        // Only the oldest of several same-titled albums shows the sub-albums.
        let ownsChildren = album == nil || t.dirs[path]?.albums.first?.row == album
        if ownsChildren, let dir = t.dirs[path] {
            for c in dir.children {
                let childPath = path + [c]
                let child = t.dirs[childPath] ?? AlbumTree.Dir()
                if child.albums.isEmpty {
                    nodes.append(.titlePrefix(internPrefix(childPath)))
                    requests.append(NameRequest(rawName: c, id: c, isDirectory: true))
                } else {
                    for a in child.albums {
                        nodes.append(.album(a.row))
                        requests.append(NameRequest(rawName: c, id: a.googleId, isDirectory: true))
                    }
                }
            }
        }
        let dirCount = nodes.count
        var items: [ListedItem] = []
        if let album { items = try db(pathOf(.album(album)), { () throws(StoreError) in try store.albumItems(album: album) }) }
        for i in items {
            nodes.append(.item(i.row))
            requests.append(NameRequest(rawName: i.filename, id: i.googleId, isDirectory: false))
        }
        let names = Naming.displayNames(requests)
        var out: [Built] = []
        out.reserveCapacity(nodes.count)
        let now = mountTime.timeIntervalSince1970
        for k in 0..<nodes.count {
            if k < dirCount {
                out.append(Built(node: nodes[k], name: names[k]))
            } else {
                let i = items[k - dirCount]
                out.append(Built(node: nodes[k], name: names[k], size: i.size, mtime: i.creationTime ?? now, directory: false))
            }
        }
        return out
    }
}
