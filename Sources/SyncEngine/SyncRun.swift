// One gphotos-sync run: validate the folders, lock, walk both sides, plan, check the safety limits, then copy with N
// transfers, confirm every upload through the mount (fsync, then its xattrs), record the ledger, delete for MOVE
// and remove for SYNC, and summarize. --dry-run stops after the checks and prints the plan.
import Foundation
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What to run.
public struct SyncRequest: Sendable {
    /// push or pull.
    public var direction: SyncDirection
    /// copy, sync or move.
    public var mode: SyncMode
    /// The source directory.
    public var source: String
    /// The destination directory.
    public var dest: String
    /// Plan and check only; change nothing.
    public var dryRun = false
    /// Parallel copies.
    public var transfers = 4
    /// Bandwidth limit (rclone syntax, timetables too).
    public var bwlimit: BandwidthSchedule?
    /// Include/exclude globs.
    public var filter: PathFilter
    /// Follow symbolic links in the dataset.
    public var followSymlinks = false
    /// Non-media files fail the run instead of being skipped.
    public var strict = false
    /// Go on past the SYNC removal limit.
    public var force = false
    /// SYNC refuses to remove more than this share of the destination's files (percent).
    public var maxDeletePercent = 50.0
    /// gphotos-sync's state (ledger, locks).
    public var stateDir: String
    /// A name for locks and logs (a task name, or nil for a one-off run).
    public var label: String?

    /// Creates a request.
    public init(direction: SyncDirection, mode: SyncMode, source: String, dest: String, filter: PathFilter, stateDir: String) {
        self.direction = direction; self.mode = mode; self.source = source; self.dest = dest
        self.filter = filter; self.stateDir = stateDir
    }
}

/// Set from a signal handler or `task abort`: the run stops starting copies and ends ABORTED.
public final class AbortFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    /// Creates a flag.
    public init() {}
    /// Asks the run to stop.
    public func abort() { flag.store(true, ordering: .relaxed) }
    /// True once asked.
    public var isSet: Bool { flag.load(ordering: .relaxed) }
}

/// Runs gphotos-sync jobs.
public enum SyncRunner {
    /// Runs `req`, reporting to `reporter`; never throws: failures end in the summary's state and exit code.
    public static func run(_ req: SyncRequest, reporter: SyncReporter, abort: AbortFlag = AbortFlag()) async -> SyncSummary {
        let started = Date()
        var summary = SyncSummary()
        summary.direction = req.direction.rawValue
        summary.mode = req.mode.rawValue
        summary.dryRun = req.dryRun
        let source = Endpoint.resolve(req.source)
        let dest = Endpoint.resolve(req.dest)
        summary.source = source.path
        summary.dest = dest.path
        reporter.start(summary)
        do throws(SyncError) {
            let job = try Job(req, source: source, dest: dest, reporter: reporter, abort: abort)
            defer { job.lock?.release() }
            try await job.run(&summary)
        } catch {
            reporter.error(nil, error.message)
            summary.errors += 1
            summary.exitCode = error.exitCode.rawValue
            summary.state = "FAILED"
        }
        if abort.isSet && summary.state != "FAILED" { summary.state = "ABORTED"; if summary.exitCode == 0 { summary.exitCode = SyncExitCode.uncategorizedError.rawValue } }
        summary.seconds = (Date().timeIntervalSince(started) * 1000).rounded() / 1000
        summary.message = message(summary, dest: dest)
        reporter.summary(summary)
        return summary
    }

    /// The one-line human summary.
    static func message(_ s: SyncSummary, dest: Endpoint) -> String {
        var parts = ["\(s.state)\(s.dryRun ? " (dry run: nothing was changed)" : ""):"]
        let would = s.dryRun ? "would copy" : "copied"
        parts.append("\(would) \(s.copied) file\(s.copied == 1 ? "" : "s") (\(HumanUnits.bytes(s.bytes)))")
        if s.replaced > 0 { parts.append("\(s.replaced) replaced") }
        parts.append("\(s.unchanged) unchanged")
        if s.alreadyInGoogle > 0 { parts.append("\(s.alreadyInGoogle) already in Google Photos under another name") }
        if s.directoriesCreated > 0 { parts.append("\(s.directoriesCreated) \(dest.inMount ? "album" : "director")\(dest.inMount ? (s.directoriesCreated == 1 ? "" : "s") : (s.directoriesCreated == 1 ? "y" : "ies")) created") }
        if s.removedFromAlbums > 0 {
            parts.append("\(s.removedFromAlbums) item\(s.removedFromAlbums == 1 ? "" : "s") removed from albums (they remain in your Google Photos library)")
        }
        if s.deleted > 0 { parts.append("\(s.deleted) local file\(s.deleted == 1 ? "" : "s") deleted") }
        if s.sourcesDeleted > 0 { parts.append("\(s.sourcesDeleted) source\(s.sourcesDeleted == 1 ? "" : "s") deleted after confirmation") }
        if s.nonMedia > 0 { parts.append("\(s.nonMedia) non-media file\(s.nonMedia == 1 ? "" : "s") skipped") }
        if s.symlinks > 0 { parts.append("\(s.symlinks) symbolic link\(s.symlinks == 1 ? "" : "s") skipped") }
        if s.errors > 0 { parts.append("\(s.errors) error\(s.errors == 1 ? "" : "s")") }
        parts.append("in \(HumanUnits.duration(s.seconds))")
        return parts[0] + " " + parts.dropFirst().joined(separator: ", ")
    }
}

/// The state of one run.
final class Job: @unchecked Sendable {   // used from one task at a time, plus the Mutex-guarded counters
    let req: SyncRequest
    let source: Endpoint
    let dest: Endpoint
    let reporter: SyncReporter
    let abort: AbortFlag
    let store: SyncStore?
    var lock: RunLock?
    let limiter = RateLimiter()
    let counters = Mutex((items: 0, bytes: Int64(0)))

    init(_ req: SyncRequest, source: Endpoint, dest: Endpoint, reporter: SyncReporter, abort: AbortFlag) throws(SyncError) {
        self.req = req; self.source = source; self.dest = dest; self.reporter = reporter; self.abort = abort
        guard req.transfers >= 1 && req.transfers <= 64 else { throw SyncError(.usage, "--transfers must be between 1 and 64 (got \(req.transfers))") }
        guard source.path != dest.path, !RunLock.overlaps(source.path, dest.path) else {
            throw SyncError(.usage, "the source \(source.path) and the destination \(dest.path) overlap; pick two separate directories")
        }
        // The Google side must be the mount where the direction says so; a plain directory on that side is allowed
        // (gphotos-sync works between any two directories) but gets no album rules.
        let google = req.direction == .push ? dest : source
        let local = req.direction == .push ? source : dest
        if local.inMount {
            throw SyncError(.usage, "\(local.path) is inside a gphotosfs mount; the \(req.direction == .push ? "source of a push" : "destination of a pull") is a dataset directory (did you swap SOURCE and DEST?)")
        }
        for note in try FolderRules.check(direction: req.direction, mode: req.mode, google: google) { reporter.warning(note) }
        store = req.direction == .push ? try SyncStore(path: req.stateDir + "/sync.sqlite") : nil
        lock = try RunLock.acquire(registryDir: req.stateDir, label: req.label ?? "\(req.direction.rawValue) \(source.path) \(dest.path)",
                                   paths: [PathLock(path: source.path, write: req.mode == .move), PathLock(path: dest.path, write: !req.dryRun)])
    }

    func run(_ summary: inout SyncSummary) async throws(SyncError) {
        // Walk.
        let pushing = req.direction == .push
        let ledger = try store?.ledger(source: source.path, dest: dest.path) ?? [:]
        var walkSource = WalkOptions(filter: req.filter, followSymlinks: pushing && req.followSymlinks, mediaOnly: pushing)
        walkSource.known = ledger
        let srcTree = try await walk(source.path, walkSource)
        // A destination that does not exist yet: a push creates the album (below), a pull the directory.
        let dstExists = FileManager.default.fileExists(atPath: dest.path)
        let dstTree = dstExists ? try await walk(dest.path, WalkOptions(filter: req.filter, followSymlinks: false, mediaOnly: false)) : TreeListing()
        for (p, m) in srcTree.unreadable { reporter.error(p, m); summary.errors += 1 }
        if req.strict {
            for p in srcTree.nonMedia { reporter.error(p, "not a photo or video Google accepts (--strict)"); summary.errors += 1 }
        } else {
            for p in srcTree.nonMedia { reporter.item("skipped", p, detail: "not a photo or video") }
        }

        // Safety: a SYNC from an empty source would empty the destination.
        if req.mode == .sync && srcTree.files.isEmpty {
            throw SyncError(.usage, "SYNC refused: the source \(source.path) has no files\(req.filter.isFiltering ? " that the filters let through" : "") (is it mounted?). A SYNC from an empty source would remove everything at \(dest.path).")
        }

        var plan = try await plan(srcTree, dstTree, ledger)
        if !dstExists && pushing && dest.inMount, case .album? = dest.folder {
            plan.actions.insert(PlannedAction(kind: .mkdir, source: nil, dest: ""), at: 0)
        }
        summary.nonMedia = plan.nonMedia.count
        summary.symlinks = plan.symlinks.count
        summary.excluded = plan.excluded
        for (p, m) in plan.itemErrors { reporter.error(p, m); summary.errors += 1 }

        // Safety: SYNC removal limit.
        let removals = plan.removals.count
        if req.mode == .sync, plan.destFiles > 0, !req.force {
            let share = Double(removals) * 100 / Double(plan.destFiles)
            if share > req.maxDeletePercent {
                throw SyncError(.usage, "SYNC refused: it would remove \(removals) of the \(plan.destFiles) files at \(dest.path) (\(Int(share.rounded()))%), more than the \(Int(req.maxDeletePercent))% limit. Check that \(source.path) is the right directory and is mounted, or run again with --force.")
            }
        }

        if req.dryRun {
            report(plan: plan, into: &summary)
            finish(&summary)
            return
        }
        try await execute(plan, &summary)
        finish(&summary)
    }

    func walk(_ root: String, _ options: WalkOptions) async throws(SyncError) -> TreeListing {
        let r = await onThread { () -> Result<TreeListing, SyncError> in
            do throws(SyncError) { return .success(try Walker.walk(root, options)) } catch { return .failure(error) }
        }
        return try r.get()
    }

    func plan(_ s: TreeListing, _ d: TreeListing, _ ledger: [String: LedgerEntry]) async throws(SyncError) -> SyncPlan {
        let (req, source, dest) = (self.req, self.source, self.dest)
        let r = await onThread { () -> Result<SyncPlan, SyncError> in
            do throws(SyncError) {
                return .success(try Planner.plan(req, source: source, dest: dest, src: s, dst: d, ledger: ledger))
            } catch { return .failure(error) }
        }
        return try r.get()
    }

    /// --dry-run: the plan as items, counted as if done.
    func report(plan: SyncPlan, into s: inout SyncSummary) {
        for a in plan.actions {
            switch a.kind {
            case .mkdir: reporter.item(dest.inMount ? "album created" : "mkdir", a.dest, dryRun: true); s.directoriesCreated += 1
            case .copy: reporter.item("copied", a.source ?? "", dest: a.dest, bytes: a.bytes, dryRun: true); s.copied += 1; s.bytes += a.bytes
            case .replace: reporter.item("replaced", a.source ?? "", dest: a.dest, bytes: a.bytes, dryRun: true); s.copied += 1; s.replaced += 1; s.bytes += a.bytes
            case .remove:
                if dest.inMount { reporter.item("removed from album", a.dest, dryRun: true); s.removedFromAlbums += 1 }
                else { reporter.item("deleted", a.dest, dryRun: true); s.deleted += 1 }
            case .rmdir: reporter.item("rmdir", a.dest, dryRun: true)
            }
        }
        for u in plan.unchanged { reporter.item("unchanged", u.source, dest: u.dest, detail: nil) }
        for e in plan.elsewhere { reporter.item("already in Google Photos", e.source, dest: e.dest, detail: "same bytes, the name Google kept") }
        s.unchanged = plan.unchanged.count
        s.alreadyInGoogle = plan.elsewhere.count
        if req.mode == .move {
            let deletable = plan.verified.count + plan.copies.count
            reporter.warning("MOVE would delete \(deletable) source\(deletable == 1 ? "" : "s") once the destination confirms \(deletable == 1 ? "it" : "them")")
        }
    }

    func finish(_ s: inout SyncSummary) {
        if s.errors > 0 && s.exitCode == 0 { s.exitCode = SyncExitCode.lessSeriousError.rawValue }
        s.state = s.errors > 0 ? "FAILED" : "SUCCESS"
    }
}
