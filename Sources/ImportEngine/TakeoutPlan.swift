// From a Takeout catalogue to a plan: which members are items, which sidecar each has, which folders are albums
// (titles from their metadata JSON), and where each distinct item (by content hash) goes in the dataset.
import Foundation
import SyncEngine

/// The matched catalogue of one import's parts.
struct TakeoutCatalog {
    /// JSON members larger than this are not read (sidecars are a few KB).
    static let maxJSONBytes: Int64 = 16 << 20

    /// What the import knows about one folder (below the photos folder).
    struct Folder {
        /// Year, trash, archive, … or other (an album when it has album metadata).
        var kind: TakeoutFolderKind
        /// The album metadata, if the folder has one.
        var album: AlbumInfo?
    }

    /// Media members to import (trash, locked and failed videos left out as asked).
    var media: [CatalogEntry] = []
    /// Folder (key "photos folder/sub") → what it is.
    var folders: [String: Folder] = [:]
    /// Media entry id → its sidecar.
    var sidecarOf: [Int64: Sidecar] = [:]
    /// Media entry id → the rule that matched.
    var ruleOf: [Int64: SidecarRule] = [:]
    /// Media without a sidecar.
    var unmatchedMedia: [CatalogEntry] = []
    /// Sidecars no media claimed.
    var unmatchedSidecars: [CatalogEntry] = []
    /// Left out, by reason ("trash", "locked", "failed-videos").
    var skipped: [String: Int] = [:]
    /// Members outside a Google Photos folder.
    var outside = 0
    /// Notes for the user.
    var warnings: [String] = []

    /// Files that are never photos: OS clutter and Takeout's HTML index.
    static func isClutter(_ name: String) -> Bool {
        name == ".DS_Store" || name == "Thumbs.db" || name == "desktop.ini" || name.hasPrefix("._")
            || name.lowercased().hasSuffix(".html")
    }

    /// Matches the catalogue: photos folders, folder kinds, album metadata, sidecars per folder (across parts).
    init(_ entries: [CatalogEntry], includeTrash: Bool) {
        // A photos folder is one with a known localized name, or one that holds sidecars (another language's name).
        var tops = Set<String>()
        for e in entries where e.kind == "sidecar" || e.kind == "album" { tops.insert(Self.top(e.folder)) }
        var byFolder: [String: [CatalogEntry]] = [:]
        for e in entries {
            if e.kind == "outside" { outside += 1; continue }
            let top = Self.top(e.folder)
            guard tops.contains(top) || TakeoutFolders.isPhotosFolder(top) else { outside += 1; continue }
            byFolder[e.folder, default: []].append(e)
        }
        for (key, list) in byFolder.sorted(by: { $0.key < $1.key }) {
            let sub = key.split(separator: "/", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
            let kind = sub.isEmpty ? TakeoutFolderKind.other
                : TakeoutFolders.kind(ofFolder: String(sub.split(separator: "/").first ?? ""))
            var folder = Folder(kind: kind, album: nil)
            if kind == .other {
                folder.album = list.lazy.filter { $0.kind == "album" }.sorted { $0.id < $1.id }.first
                    .flatMap { $0.json }.flatMap { try? JSONDecoder().decode(AlbumInfo.self, from: $0) }
            }
            folders[key] = folder
            // One name per folder: the same member in two parts is one file.
            var mediaByName: [String: CatalogEntry] = [:]
            var sidecars: [String: (CatalogEntry, Sidecar)] = [:]
            for e in list.sorted(by: { $0.id < $1.id }) {
                if e.kind == "media", mediaByName[e.name] == nil { mediaByName[e.name] = e }
                if e.kind == "sidecar", sidecars[e.name] == nil,
                   let s = e.json.flatMap({ try? JSONDecoder().decode(Sidecar.self, from: $0) }) { sidecars[e.name] = (e, s) }
            }
            let matches = TakeoutNames.match(media: Array(mediaByName.keys),
                                             sidecars: sidecars.map { SidecarName(name: $0.key, title: $0.value.1.title) })
            var used = Set<String>()
            for (name, e) in mediaByName.sorted(by: { $0.key < $1.key }) {
                let match = matches[name]
                let sidecar = match.flatMap { sidecars[$0.sidecar]?.1 }
                if let match { used.insert(match.sidecar) }
                switch kind {
                case .trash where !includeTrash: skipped["trash", default: 0] += 1; continue
                case .lockedFolder: skipped["locked", default: 0] += 1; continue
                case .failedVideos: skipped["failed-videos", default: 0] += 1; continue
                default: break
                }
                if sidecar?.trashed == true && !includeTrash { skipped["trash", default: 0] += 1; continue }
                media.append(e)
                if let sidecar, let match { sidecarOf[e.id] = sidecar; ruleOf[e.id] = match.rule } else { unmatchedMedia.append(e) }
            }
            unmatchedSidecars += sidecars.filter { !used.contains($0.key) }.map { $0.value.0 }.sorted { $0.name < $1.name }
            if kind == .other && folder.album == nil && !mediaByName.isEmpty {
                warnings.append("\(key): no album metadata file, so not an album: its \(mediaByName.count) files go to the year folders")
            }
            if kind == .lockedFolder && !mediaByName.isEmpty {
                warnings.append("\(key): \(mediaByName.count) Locked Folder items left out (Google keeps them out of albums; copy them by hand if you want them)")
            }
        }
    }

    /// The photos folder of a folder key.
    static func top(_ folder: String) -> String { String(folder.split(separator: "/", maxSplits: 1).first ?? "") }

    /// Fills in content hashes after extraction.
    mutating func setHashes(_ hashes: [Int64: String]) {
        for i in media.indices { if let h = hashes[media[i].id] { media[i].sha256 = h } }
    }
}

/// The folder template for items in no album.
struct FolderLayout: Sendable {
    /// The template, e.g. "{year}" or "{year}/{month}".
    let template: String
    static let placeholders = ["{year}", "{month}", "{day}"]

    /// Checks the template: relative, no "." or ".." parts, only known placeholders.
    init(_ template: String) throws(SyncError) {
        var rest = template
        for p in Self.placeholders { rest = rest.replacingOccurrences(of: p, with: "") }
        let parts = template.split(separator: "/", omittingEmptySubsequences: false)
        guard !template.isEmpty, !template.hasPrefix("/"), !rest.contains("{"), !rest.contains("}"),
              !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }), !template.contains("\0") else {
            throw SyncError(.usage, "--layout '\(template)': use a relative folder path with {year}, {month} and {day}, e.g. '{year}' or '{year}/{month}'")
        }
        self.template = template
    }

    /// The folder for a capture date (UTC) and, when known, the year Google filed the item under.
    func render(time: Int64?, year: Int?) -> String {
        var tm = tm()
        var tt = time_t(time ?? 0)
        gmtime_r(&tt, &tm)
        let y = year ?? (time == nil ? 0 : Int(tm.tm_year) + 1900)
        if y == 0 { return "Undated" }
        return template.replacingOccurrences(of: "{year}", with: String(format: "%04d", y))
            .replacingOccurrences(of: "{month}", with: time == nil ? "00" : String(format: "%02d", Int(tm.tm_mon) + 1))
            .replacingOccurrences(of: "{day}", with: time == nil ? "00" : String(format: "%02d", Int(tm.tm_mday)))
    }
}

/// One distinct item and where it goes.
struct PlannedItem {
    /// Content hash (or "entry-ID" in a dry run, where bytes are not read).
    var sha: String
    /// Size in bytes.
    var size: Int64
    /// The file name in the dataset.
    var name: String
    /// The mtime to set (capture time), if known.
    var mtime: Int64?
    /// Date, place and description from the sidecar.
    var metadata: ItemMetadata
    /// Paths (relative to the dataset) this run links.
    var newPaths: [String]
    /// Paths placed by earlier runs.
    var existingPaths: [String]
}

/// Where every item goes.
struct PlacementPlan {
    /// Items, in a stable order.
    var items: [PlannedItem] = []
    /// Album folder key → folder name in the dataset.
    var albumFolders: [String: String] = [:]
    /// Placements an earlier run made that this plan keeps.
    var alreadyPlaced = 0
    /// Notes for the user.
    var warnings: [String] = []

    init(_ catalog: TakeoutCatalog, layout: FolderLayout, includeTrash: Bool, skipUntitled: Bool, placed: [String: String],
         dataset: String, staging: Staging) {
        // Album folder names: the title from the metadata JSON, made a safe single name, unique.
        var taken = Set<String>(["Trash"])
        for key in catalog.folders.keys.sorted() {
            guard let album = catalog.folders[key]?.album else { continue }
            let title = album.title.trimmingCharacters(in: .whitespaces)
            if title.isEmpty && skipUntitled { continue }
            albumFolders[key] = Self.unique(FolderNames.safe(title.isEmpty ? "Untitled album" : title), in: &taken)
        }
        let albumNames = Set(albumFolders.values)
        var placedBySha: [String: [String]] = [:]
        for (path, sha) in placed { placedBySha[sha, default: []].append(path) }
        var namesInDir: [String: Set<String>] = [:]
        for path in placed.keys { namesInDir[Self.dir(path), default: []].insert((path as NSString).lastPathComponent) }

        var groups: [String: [CatalogEntry]] = [:]
        for e in catalog.media { groups[e.sha256 ?? "entry-\(e.id)", default: []].append(e) }
        func isYear(_ e: CatalogEntry) -> Int? {
            if case .year(let y) = catalog.folders[e.folder]?.kind { return y }
            return nil
        }
        let ordered = groups.map { key, list -> (String, [CatalogEntry]) in
            (key, list.sorted { (isYear($0) == nil ? 1 : 0, $0.folder, $0.name) < (isYear($1) == nil ? 1 : 0, $1.folder, $1.name) })
        }.sorted { ($0.1[0].folder, $0.1[0].name, $0.0) < ($1.1[0].folder, $1.1[0].name, $1.0) }
        for (sha, list) in ordered {
            let first = list[0]
            let sidecar = catalog.sidecarOf[first.id] ?? list.lazy.compactMap { catalog.sidecarOf[$0.id] }.first
            let name = FolderNames.safe(FolderNames.restoredName(first.name, title: catalog.sidecarOf[first.id]?.title,
                                                rule: catalog.ruleOf[first.id]))
            let mtime = sidecar?.takenTime ?? (first.mtime > 0 ? first.mtime : nil)
            var meta = ItemMetadata()
            meta.taken = sidecar?.takenTime
            meta.latitude = sidecar?.latitude; meta.longitude = sidecar?.longitude; meta.altitude = sidecar?.altitude
            meta.description = sidecar?.description
            var dirs = Array(Set(list.compactMap { albumFolders[$0.folder] })).sorted()
            if dirs.isEmpty {
                if includeTrash && list.contains(where: { catalog.folders[$0.folder]?.kind == .trash || catalog.sidecarOf[$0.id]?.trashed == true }) {
                    dirs = ["Trash"]
                } else {
                    var d = layout.render(time: sidecar?.takenTime ?? (first.mtime > 0 ? first.mtime : nil),
                                          year: list.lazy.compactMap(isYear).first)
                    let top = String(d.split(separator: "/").first ?? "")
                    if albumNames.contains(top) { d = top + " (no album)" + d.dropFirst(top.count) }
                    dirs = [d]
                }
            }
            var item = PlannedItem(sha: sha, size: first.size, name: name, mtime: mtime, metadata: meta, newPaths: [], existingPaths: [])
            let mine = placedBySha[sha] ?? []
            item.existingPaths = mine
            var objectStat = stat()
            let haveObject = stat(staging.object(sha), &objectStat) == 0
            for dir in dirs {
                if mine.contains(where: { Self.dir($0) == dir }) { alreadyPlaced += 1; continue }
                var names = namesInDir[dir, default: []]
                let candidate = FolderNames.free(name) { candidate in
                    var st = stat()
                    let onDisk = lstat(dataset + "/" + dir + "/" + candidate, &st) == 0
                    let ours = onDisk && haveObject && st.st_ino == objectStat.st_ino && st.st_dev == objectStat.st_dev
                    return names.contains(candidate) || (onDisk && !ours)
                }
                names.insert(candidate)
                namesInDir[dir] = names
                item.newPaths.append(dir + "/" + candidate)
            }
            items.append(item)
        }
    }

    static func dir(_ path: String) -> String { (path as NSString).deletingLastPathComponent }

    static func unique(_ name: String, in taken: inout Set<String>) -> String {
        var candidate = name
        var n = 2
        while taken.contains(candidate) { candidate = "\(name) (\(n))"; n += 1 }   // bounded by taken.count
        taken.insert(candidate)
        return candidate
    }
}

/// Names in the dataset: album titles as folder names, restored original names, numbered copies.
enum FolderNames {
    /// One safe folder name for a title: "/" becomes "／" (as the mount shows it, so a push gives back the same title),
    /// "." and ".." become full-width, control characters go, at most 255 bytes.
    static func safe(_ title: String) -> String {
        var s = String(String.UnicodeScalarView(title.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }))
        s = s.replacingOccurrences(of: "/", with: "\u{FF0F}")
        if s == "." { s = "\u{FF0E}" } else if s == ".." { s = "\u{FF0E}\u{FF0E}" }
        if s.isEmpty { s = "Untitled album" }
        while s.utf8.count > 255 { s.removeLast() }
        return s
    }

    /// The original upload name from the sidecar's title when Takeout cut the member's name (same extension, the cut
    /// name a prefix of the title); a "(n)" counter is kept. Otherwise the member's own name.
    static func restoredName(_ name: String, title: String?, rule: SidecarRule?) -> String {
        guard let title, rule != .edited, !title.isEmpty, !title.contains("/"), !title.contains("\0"), title != name else { return name }
        let ext = (name as NSString).pathExtension
        guard (title as NSString).pathExtension.lowercased() == ext.lowercased() else { return name }
        var stem = ext.isEmpty ? name : String(name.dropLast(ext.count + 1))
        var counter = ""
        if let r = stem.range(of: #"\(\d+\)$"#, options: .regularExpression) { counter = String(stem[r]); stem.removeSubrange(r) }
        let titleStem = ext.isEmpty ? title : String(title.dropLast(ext.count + 1))
        guard titleStem.count > stem.count, titleStem.hasPrefix(stem) else { return name }
        let restored = titleStem + counter + (ext.isEmpty ? "" : "." + ext)
        return restored.utf8.count <= 255 ? restored : name
    }

    /// `name`, or its first numbered form that is not taken (bounded: a free name turns up long before).
    static func free(_ name: String, isTaken: (String) -> Bool) -> String {
        var candidate = name
        for n in 1...10_000 {
            if !isTaken(candidate) { break }
            candidate = numbered(name, n)
        }
        return candidate
    }

    /// "IMG(1).jpg" for n = 1: Takeout's own counter form.
    static func numbered(_ name: String, _ n: Int) -> String {
        let ext = (name as NSString).pathExtension
        let stem = ext.isEmpty ? name : String(name.dropLast(ext.count + 1))
        return "\(stem)(\(n))" + (ext.isEmpty ? "" : "." + ext)
    }
}
