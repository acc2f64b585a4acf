// `gphotos-sync import takeout`: catalogue every part, match sidecars per folder across parts, extract each needed
// member once into content-addressed staging, then hard-link each item into its album folders (or a year folder),
// with its capture time as mtime. The manifest makes a re-run a no-op and lets an interrupted run resume.
import Foundation
import GRDB
import Synchronization
import SyncEngine

/// What to import and how.
public struct TakeoutRequest: Sendable {
    /// Archive parts (.zip, .tgz, .tar) and extracted Takeout folders.
    public var inputs: [String]
    /// The dataset directory (created when missing).
    public var dataset: String
    /// Folder template for items in no album: {year}, {month}, {day} (capture date, UTC).
    public var layout = "{year}"
    /// Import the trash (into Trash/) instead of leaving it out.
    public var includeTrash = false
    /// Leave untitled albums' items in year folders instead of an "Untitled album" folder.
    public var skipUntitledAlbums = false
    /// Write NAME.xmp beside each file.
    public var xmp = false
    /// Add missing EXIF/XMP tags to the files with exiftool.
    public var exif = false
    /// Plan only: read the archives' catalogues, write nothing.
    public var dryRun = false

    /// Creates a request.
    public init(inputs: [String], dataset: String) { self.inputs = inputs; self.dataset = dataset }
}

/// The end of an import run (the NDJSON "summary" event's fields).
public struct ImportSummary: Codable, Sendable, Equatable {
    /// SUCCESS or FAILED.
    public var state = "SUCCESS"
    /// The process exit code.
    public var exitCode: Int32 = 0
    /// Whether this was a dry run.
    public var dryRun = false
    /// "takeout" or "picker".
    public var source = ""
    /// The dataset.
    public var dataset = ""
    /// Inputs given.
    public var parts = 0
    /// Media files in the archives (every copy: year folder and albums).
    public var mediaFiles = 0
    /// Distinct items (by content hash; by member in a dry run).
    public var items = 0
    /// Files written (or linked) into the dataset by this run.
    public var imported = 0
    /// Files already in place from an earlier run.
    public var alreadyImported = 0
    /// Media members whose bytes another member already had (the same photo in a year folder and albums).
    public var duplicates = 0
    /// Album folders.
    public var albums = 0
    /// Media files whose sidecar was found.
    public var sidecarsMatched = 0
    /// Media files with no sidecar (date from the archive).
    public var unmatchedMedia = 0
    /// Sidecars no media file claimed.
    public var unmatchedSidecars = 0
    /// Items left out: trash, locked folder, failed videos.
    public var trashSkipped = 0, lockedSkipped = 0, failedVideosSkipped = 0
    /// Members outside a Google Photos folder (other Takeout products).
    public var outsidePhotos = 0
    /// Bytes extracted this run.
    public var bytes: Int64 = 0
    /// Errors.
    public var errors = 0
    /// Wall time.
    public var seconds = 0.0
    /// The one-line summary.
    public var message = ""
    /// Creates an empty summary.
    public init() {}

    /// Records the error that ended the run.
    mutating func fail(_ error: SyncError, reporter: SyncReporter) {
        errors += 1
        reporter.error(nil, error.message)
        state = "FAILED"
        exitCode = error.exitCode.rawValue
    }

    /// Settles state, exit code (6 when only some items failed), time and message, and reports the summary.
    mutating func end(started: Date, reporter: SyncReporter) {
        if exitCode == 0 && errors > 0 {
            state = "FAILED"
            exitCode = SyncExitCode.lessSeriousError.rawValue
        }
        seconds = (Date().timeIntervalSince(started) * 10).rounded() / 10
        message = TakeoutImporter.message(self)
        reporter.finish(self, message: message)
    }
}

/// Runs Takeout imports.
public enum TakeoutImporter {
    /// Runs `req`; never throws: failures end in the summary's state and exit code.
    public static func run(_ req: TakeoutRequest, reporter: SyncReporter, abort: AbortFlag = AbortFlag()) async -> ImportSummary {
        let started = Date()
        var summary = ImportSummary()
        summary.source = "takeout"
        summary.dryRun = req.dryRun
        summary.parts = req.inputs.count
        let dataset = URL(fileURLWithPath: req.dataset).standardizedFileURL.path
        summary.dataset = dataset
        reporter.begin(["source": "takeout", "dataset": dataset, "parts": req.inputs, "dryRun": req.dryRun],
                       text: "\(req.dryRun ? "dry run: " : "")import takeout (\(req.inputs.count) part\(req.inputs.count == 1 ? "" : "s")) → \(dataset)")
        let start = summary
        summary = await onThread { () -> ImportSummary in
            var s = start
            do throws(SyncError) {
                let job = try TakeoutJob(req, dataset: dataset, reporter: reporter, abort: abort)
                try job.run(&s)
            } catch {
                s.fail(error, reporter: reporter)
            }
            return s
        }
        summary.end(started: started, reporter: reporter)
        return summary
    }

    static func message(_ s: ImportSummary) -> String {
        var parts = ["\(s.dryRun ? "would import" : "imported") \(s.imported) file\(s.imported == 1 ? "" : "s")"
            + " (\(s.items) items, \(s.albums) album\(s.albums == 1 ? "" : "s"))"]
        if s.alreadyImported > 0 { parts.append("\(s.alreadyImported) already there") }
        if s.duplicates > 0 { parts.append("\(s.duplicates) duplicate copies") }
        if s.unmatchedMedia > 0 { parts.append("\(s.unmatchedMedia) without a sidecar") }
        let skipped = s.trashSkipped + s.lockedSkipped + s.failedVideosSkipped
        if skipped > 0 { parts.append("\(skipped) left out (trash \(s.trashSkipped), locked \(s.lockedSkipped), failed videos \(s.failedVideosSkipped))") }
        if s.errors > 0 { parts.append("\(s.errors) error\(s.errors == 1 ? "" : "s")") }
        parts.append("\(HumanUnits.bytes(s.bytes)) in \(HumanUnits.duration(s.seconds))")
        return (s.state == "SUCCESS" ? "" : "FAILED: ") + parts.joined(separator: ", ")
    }
}

/// One import run's state.
final class TakeoutJob: @unchecked Sendable {   // used by one thread at a time (onThread), parts in parallel only in `extract`
    let req: TakeoutRequest
    let staging: Staging
    let manifest: ImportManifest
    let reporter: SyncReporter
    let abort: AbortFlag
    let inputs: [TakeoutInput]
    let layout: FolderLayout
    var lockFD: Int32 = -1
    /// The inputs' part rows, in `inputs` order.
    var partIDs: [Int64] = []

    init(_ req: TakeoutRequest, dataset: String, reporter: SyncReporter, abort: AbortFlag) throws(SyncError) {
        self.req = req
        self.reporter = reporter
        self.abort = abort
        guard !req.inputs.isEmpty else { throw SyncError(.usage, "give at least one Takeout part (.zip, .tgz) or extracted Takeout folder") }
        layout = try FolderLayout(req.layout)
        var inputs: [TakeoutInput] = []
        for arg in req.inputs { inputs.append(try TakeoutInput(arg)) }
        self.inputs = inputs
        staging = Staging(dataset: dataset)
        for i in inputs where i.kind == .folder && (dataset + "/").hasPrefix(i.path + "/") {
            throw SyncError(.usage, "\(dataset) is inside the Takeout folder \(i.path): import into a dataset outside it")
        }
        if req.exif && ExifTool.find() == nil {
            throw SyncError(.usage, "--exif needs exiftool, which is not on PATH: apt-get install libimage-exiftool-perl (or use --xmp)")
        }
        if req.dryRun {
            // A dry run plans against a copy of the manifest in memory, so it says what a real run would do.
            manifest = try ImportManifest(path: nil)
            if access(staging.manifest, R_OK) == 0 {
                do {
                    let existing = try ImportManifest(path: staging.manifest)
                    try existing.db.backup(to: manifest.db)
                } catch { throw SyncError(.fatal, "\(staging.manifest): can't read the import manifest: \(error)") }
            }
        } else {
            if mkdir(dataset, 0o755) != 0 && errno != EEXIST {
                throw SyncError.posix(errno, dataset, "can't create the dataset directory")
            }
            try staging.prepare()
            lockFD = try staging.lock()
            manifest = try ImportManifest(path: staging.manifest)
        }
    }

    deinit { if lockFD >= 0 { close(lockFD) } }

    func run(_ summary: inout ImportSummary) throws(SyncError) {
        partIDs = try catalogue()
        let entries = try manifest.entries(parts: partIDs)
        var catalog = TakeoutCatalog(entries, includeTrash: req.includeTrash)
        for w in catalog.warnings { reporter.warning(w) }
        summary.mediaFiles = catalog.media.count
        summary.sidecarsMatched = catalog.sidecarOf.count
        summary.unmatchedMedia = catalog.unmatchedMedia.count
        summary.unmatchedSidecars = catalog.unmatchedSidecars.count
        summary.trashSkipped = catalog.skipped["trash"] ?? 0
        summary.lockedSkipped = catalog.skipped["locked"] ?? 0
        summary.failedVideosSkipped = catalog.skipped["failed-videos"] ?? 0
        summary.outsidePhotos = catalog.outside
        for e in catalog.unmatchedMedia {
            reporter.item("no-sidecar", e.folder + "/" + e.name, detail: "no JSON sidecar matched: the date comes from the archive")
        }
        if !req.dryRun {
            try extract(&catalog, &summary)
        }
        try place(catalog, &summary)
    }

    // MARK: Catalogue

    /// Catalogues every input not catalogued yet (its JSON members are read and parsed; media only listed); the
    /// parts' row ids.
    func catalogue() throws(SyncError) -> [Int64] {
        var ids: [Int64] = []
        let bytesTotal = inputs.reduce(Int64(0)) { $0 + $1.size }
        var bytesBefore: Int64 = 0, members = 0
        for input in inputs {
            defer { bytesBefore += input.size }
            if abort.isSet { throw SyncError(.aborted, "stopped before cataloguing \(input.path)") }
            let (id, done) = try manifest.part(path: input.path, size: input.size, mtime: input.mtime)
            ids.append(id)
            if done && input.kind == .archive { continue }   // an extracted folder may have changed inside: list it again
            reporter.note("cataloguing \(input.path)")
            var rows: [CatalogEntry] = []
            var seen = Set<String>()
            do {
                try input.forEachMember { m, read in
                    if abort.isSet { throw SyncError(.aborted, "stopped while cataloguing \(input.path)") }
                    guard seen.insert(m.path).inserted else { return true }
                    members += 1
                    if input.kind == .archive {
                        reporter.progress(items: members, itemsTotal: members, bytes: bytesBefore + m.offset, bytesTotal: bytesTotal)
                    }
                    guard let below = m.belowTakeout, below.count >= 2 else {
                        rows.append(CatalogEntry(part: id, path: m.path, folder: "", name: (m.path as NSString).lastPathComponent,
                                                 size: m.size, mtime: m.mtime, kind: "outside", json: nil))
                        return true
                    }
                    let name = below[below.count - 1]
                    let folder = below.dropLast().joined(separator: "/")
                    var kind = "media", json: Data? = nil
                    if name.lowercased().hasSuffix(".json") {
                        kind = "other"
                        if m.size <= TakeoutCatalog.maxJSONBytes {
                            var data = Data()
                            try read { data.append(contentsOf: $0) }
                            switch TakeoutJSON.parse(data) {
                            case .sidecar(let s): kind = "sidecar"; json = try? JSONEncoder().encode(s)
                            case .album(let a): kind = "album"; json = try? JSONEncoder().encode(a)
                            case .other: break
                            }
                        }
                    } else if TakeoutCatalog.isClutter(name) {
                        kind = "other"
                    }
                    rows.append(CatalogEntry(part: id, path: m.path, folder: folder, name: name, size: m.size, mtime: m.mtime,
                                             kind: kind, json: json))
                    return true
                }
            } catch let e as SyncError { throw e } catch { throw SyncError(.other, "\(input.path): \(error)") }
            try manifest.storeCatalogue(part: id, rows)
        }
        return ids
    }

    // MARK: Extract

    /// Extracts every wanted media member without a hash yet, each part on its own thread.
    func extract(_ catalog: inout TakeoutCatalog, _ summary: inout ImportSummary) throws(SyncError) {
        var wanted: [Int64: [String: CatalogEntry]] = [:]
        for e in catalog.media where e.sha256 == nil { wanted[e.part, default: [:]][e.path] = e }
        let total = wanted.values.reduce(0) { $0 + $1.count }
        guard total > 0 else { return }
        let bytesTotal = wanted.values.reduce(Int64(0)) { $0 + $1.values.reduce(0) { $0 + $1.size } }
        let progress = Mutex((items: 0, bytes: Int64(0)))
        let failures = Mutex([SyncError]())
        let hashes = Mutex([Int64: String]())
        // One unit per archive (read in order); an extracted folder's files split over the cores (read at random).
        var work: [(TakeoutInput, [String: CatalogEntry])] = []
        let cores = max(1, min(4, ProcessInfo.processInfo.activeProcessorCount))
        for (input, id) in zip(inputs, partIDs) {
            guard let want = wanted[id], !want.isEmpty else { continue }
            if input.kind == .archive { work.append((input, want)); continue }
            let sorted = want.sorted { $0.key < $1.key }
            for k in 0..<cores {
                let share = stride(from: k, to: sorted.count, by: cores).map { sorted[$0] }
                if !share.isEmpty { work.append((input, Dictionary(uniqueKeysWithValues: share))) }
            }
        }
        let units = work
        DispatchQueue.concurrentPerform(iterations: units.count) { i in
            let (input, want) = units[i]
            var batch: [(entry: Int64, sha256: String)] = []
            var lastFlush = Date()
            func take(_ e: CatalogEntry, _ read: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
                if abort.isSet { throw SyncError(.aborted, "stopped while extracting \(input.path)") }
                let (sha, size) = try staging.stage(e.path, abort: abort, read)
                batch.append((e.id, sha))
                hashes.withLock { $0[e.id] = sha }
                let (items, bytes) = progress.withLock { p -> (Int, Int64) in p.items += 1; p.bytes += size; return (p.items, p.bytes) }
                reporter.progress(items: items, itemsTotal: total, bytes: bytes, bytesTotal: bytesTotal)
                // Staged members are recorded within a fifth of a second (a transaction per member cost a tenth of
                // the run), so a killed run re-reads at most that much.
                if Date().timeIntervalSince(lastFlush) >= 0.2 { try manifest.setHashes(batch); batch = []; lastFlush = Date() }
            }
            do {
                switch input.kind {
                case .archive:
                    var left = want.count
                    try input.forEachMember { m, read in
                        guard let e = want[m.path] else { return true }
                        try take(e, read)
                        left -= 1
                        return left > 0   // a .tgz needs no reading past its last wanted member
                    }
                case .folder:
                    for (path, e) in want.sorted(by: { $0.key < $1.key }) {
                        try take(e) { chunk in try TakeoutInput.stream(input.path + "/" + path, chunk) }
                    }
                }
                try manifest.setHashes(batch)
            } catch {
                try? manifest.setHashes(batch)   // what was staged counts, so a re-run resumes after it
                let e = (error as? SyncError) ?? SyncError(.other, "\(input.path): \(error)")
                failures.withLock { $0.append(e) }
            }
        }
        let p = progress.withLock { $0 }
        reporter.progress(items: p.items, itemsTotal: total, bytes: p.bytes, bytesTotal: bytesTotal, force: true)
        summary.bytes += p.bytes
        catalog.setHashes(hashes.withLock { $0 })
        let errs = failures.withLock { $0 }
        if let fatal = errs.first(where: { $0.kind == .fatal || $0.kind == .aborted }) { throw fatal }
        for e in errs { summary.errors += 1; reporter.error(nil, e.message) }
    }

    // MARK: Place

    /// Hard-links every item into its folders (new placements only), with mtime, XMP and EXIF as asked.
    func place(_ catalog: TakeoutCatalog, _ summary: inout ImportSummary) throws(SyncError) {
        let placed = try manifest.placements()
        let plan = PlacementPlan(catalog, layout: layout, includeTrash: req.includeTrash, skipUntitled: req.skipUntitledAlbums,
                                 placed: placed, dataset: staging.dataset, staging: staging)
        summary.items = plan.items.count
        summary.albums = plan.albumFolders.count
        summary.duplicates = catalog.media.count - plan.items.count
        summary.alreadyImported = plan.alreadyPlaced
        for w in plan.warnings { reporter.warning(w) }
        let tool: ExifTool? = req.exif && !req.dryRun ? try ExifTool(ExifTool.find() ?? "exiftool") : nil
        defer { tool?.finish() }
        var records: [(sha256: String, path: String, xmp: Bool, exif: Bool)] = []
        var done: [String] = []
        func flush() throws(SyncError) {
            try manifest.addPlacements(records); records = []
            for sha in done { unlink(staging.object(sha)) }
            done = []
        }
        for item in plan.items {
            if abort.isSet { try flush(); throw SyncError(.aborted, "stopped while placing files") }
            guard !item.newPaths.isEmpty else {
                if item.sha.count == 64 && !req.dryRun { done.append(item.sha) }   // a leftover staged copy goes
                continue
            }
            if req.dryRun {
                for p in item.newPaths { reporter.item("imported", p, bytes: item.size, dryRun: true) }
                summary.imported += item.newPaths.count
                continue
            }
            do throws(SyncError) {
                let wroteExif = try placeItem(item, tool: tool)
                for p in item.newPaths {
                    records.append((item.sha, p, req.xmp && !item.metadata.isEmpty, wroteExif))
                    reporter.item("imported", p, bytes: item.size)
                }
                summary.imported += item.newPaths.count
                done.append(item.sha)
            } catch {
                if error.kind == .fatal { try flush(); throw error }
                summary.errors += 1
                reporter.error(item.newPaths.first, error.message)
            }
            if records.count >= 200 { try flush() }
        }
        try flush()
    }

    /// Links one item into its new paths; returns whether exiftool wrote its tags.
    func placeItem(_ item: PlannedItem, tool: ExifTool?) throws(SyncError) -> Bool {
        let object = staging.object(item.sha)
        var source = object
        var fresh = true
        if access(object, F_OK) != 0 {
            // Placed by an earlier run (object gone): a new album link comes from an existing copy.
            guard let existing = item.existingPaths.map({ staging.dataset + "/" + $0 }).first(where: { access($0, F_OK) == 0 }) else {
                throw SyncError(.noRetry, "\(item.newPaths[0]): its bytes were imported before and every copy has since been "
                    + "deleted: move \(staging.manifest) away and run again to import everything anew")
            }
            source = existing
            fresh = false
        }
        var wroteExif = false
        if fresh {
            if let tool, !item.metadata.isEmpty { wroteExif = try writeExif(item, object: object, tool: tool) }
            if let t = item.mtime { try Staging.setDate(object, t) }
        }
        for rel in item.newPaths {
            let path = staging.dataset + "/" + rel
            try staging.makeParents(rel)
            try Staging.linkOrCopy(source, path)
            if req.xmp && !item.metadata.isEmpty {
                try writeSmallFile(path + ".xmp", Data(item.metadata.xmpPacket().utf8), mtime: item.mtime)
            }
        }
        return wroteExif
    }

    /// Adds the item's missing tags to the staged object in place (through a link named with its extension, which
    /// exiftool needs to know the format); a file exiftool can't write keeps its bytes, with a warning.
    func writeExif(_ item: PlannedItem, object: String, tool: ExifTool) throws(SyncError) -> Bool {
        let ext = (item.name as NSString).pathExtension
        let named = staging.tmp + "/" + item.sha + (ext.isEmpty ? "" : "." + ext)
        unlink(named)
        guard link(object, named) == 0 else { throw SyncError.posix(errno, named, "can't prepare the EXIF update") }
        defer { unlink(named) }
        var descFile: String?
        if let d = item.metadata.description {
            let p = staging.tmp + "/" + item.sha + ".description"
            try writeSmallFile(p, Data(d.utf8), mtime: nil)
            descFile = p
        }
        defer { if let descFile { unlink(descFile) } }
        if let complaint = try tool.tag(item.metadata.exiftoolArguments(descriptionFile: descFile), file: named) {
            reporter.warning("\(item.newPaths[0]): exiftool: \(complaint.split(separator: "\n").first ?? "")")
            return false
        }
        return true
    }

    /// Writes a small file in place (no temporary name: a placement is recorded only after its files are written,
    /// so a run cut short writes it again), with `mtime`.
    func writeSmallFile(_ path: String, _ data: Data, mtime: Int64?) throws(SyncError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SyncError.posix(errno, path, "can't write") }
        defer { close(fd) }
        let written = data.withUnsafeBytes { buffer -> Result<Void, SyncError> in
            do throws(SyncError) { try Staging.write(fd, buffer, path: path); return .success(()) } catch { return .failure(error) }
        }
        try written.get()
        if let t = mtime {
            var times = [timespec(tv_sec: time_t(t), tv_nsec: 0), timespec(tv_sec: time_t(t), tv_nsec: 0)]
            futimens(fd, &times)
        }
    }
}
