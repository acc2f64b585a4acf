// `gphotos-sync`: push a dataset's folders into albums and pull albums back (copy, sync, move), as TrueNAS Cloud Sync
// Tasks do with rclone; exit codes with rclone's 0–10 meanings (man/gphotos-sync.1).
import ArgumentParser
import Foundation
import SyncEngine
#if canImport(Glibc)
import Glibc
#endif

/// The `gphotos-sync` command.
public struct GPhotosSyncCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gphotos-sync",
        abstract: "Push dataset folders into Google Photos albums and pull albums back, through a gphotosfs mount.",
        discussion: """
            Exit codes (rclone's): 0 success, 1 uncategorised error (also an aborted run), 2 syntax or usage error \
            (also a folder the rules refuse, or a safety refusal), 3 directory not found, 4 file not found, \
            5 temporary error (retrying may help), 6 some items failed and retrying will not help, 7 fatal error.
            """,
        version: "0.1.0",
        subcommands: [PushCommand.self, PullCommand.self, ImportCommand.self, TaskCommand.self, RunDueCommand.self])
    public init() {}

    /// Runs the command line; usage errors exit 2 as rclone's do (ArgumentParser's own code would be 64).
    public static func runMain(_ arguments: [String]) async -> Never {
        do {
            var command = try parseAsRoot(arguments)
            if var c = command as? any AsyncParsableCommand { try await c.run() } else { try command.run() }
            Glibc.exit(0)
        } catch {
            let code = exitCode(for: error)
            if code == .success { print(fullMessage(for: error)); Glibc.exit(0) }
            let message = fullMessage(for: error)
            if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            if error is ExitCode { Glibc.exit(code.rawValue) }
            Glibc.exit(code.rawValue == ExitCode.validationFailure.rawValue ? SyncExitCode.usageError.rawValue : code.rawValue)
        }
    }
}

/// Output options of every command that runs a job (push, pull, import).
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "NDJSON events on standard output: start, progress, item, warning, error, summary.")
    var json = false

    @Option(name: .long, help: "Append a log of the run to this file.")
    var logFile: String?

    @Flag(name: [.short, .long], help: "Print only errors, warnings and the summary.")
    var quiet = false

    @Flag(name: .long, inversion: .prefixedNo, help: "A progress line on standard error (default: when it is a terminal).")
    var progress: Bool?

    /// The reporter for this command line.
    func reporter() -> SyncReporter {
        SyncReporter(SyncReporter.Options(json: json, progress: progress ?? (isatty(2) == 1 && !json), logFile: logFile, verbose: !quiet))
    }
}

/// Options shared by push and pull.
struct SyncOptions: ParsableArguments {
    @Option(name: .long, help: "copy (never deletes), sync (make DEST match SOURCE), or move (delete each source once DEST confirmed it).")
    var mode: SyncMode = .copy

    @Flag(name: .long, help: "Check and print the whole plan; change nothing.")
    var dryRun = false

    @Option(name: .long, help: "Parallel copies (1-64).")
    var transfers = 4

    @Option(name: .long, help: "Bandwidth limit in rclone's syntax: 10M, 512k, off, UP:DOWN, or a timetable \"08:00,512k 18:00,off\".")
    var bwlimit: String?

    @Option(name: .long, help: "Only files matching this glob (repeatable; rclone glob rules).")
    var include: [String] = []

    @Option(name: .long, help: "Leave out what matches this glob (repeatable).")
    var exclude: [String] = []

    @Option(name: .long, help: "Read include globs from a file, one per line.")
    var includeFrom: [String] = []

    @Option(name: .long, help: "Read exclude globs from a file, one per line.")
    var excludeFrom: [String] = []

    @Flag(name: .long, help: "Don't leave out .zfs, @eaDir, .DS_Store, Thumbs.db and ._* by default.")
    var noDefaultExcludes = false

    @Flag(name: .long, help: "Fail on non-media files instead of skipping and counting them.")
    var strict = false

    @Flag(name: [.customShort("L"), .long], help: "Follow symbolic links in the dataset.")
    var followSymlinks = false

    @Flag(name: .long, help: "SYNC: go on even when more than --max-delete percent of DEST would be removed.")
    var force = false

    @Option(name: .long, help: "SYNC: the largest share of DEST's files a run may remove without --force (percent).")
    var maxDelete = 50.0

    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: "gphotos-sync's state directory (ledger, locks). Default: /var/lib/gphotosfs/sync as root, else $XDG_STATE_HOME/gphotosfs/sync.")
    var stateDir: String?

    func validate() throws {
        guard (1...64).contains(transfers) else { throw ValidationError("--transfers must be between 1 and 64 (got \(transfers))") }
        guard maxDelete >= 0 && maxDelete <= 100 else { throw ValidationError("--max-delete is a percentage between 0 and 100 (got \(maxDelete))") }
        if let bwlimit {
            do { _ = try BandwidthSchedule(bwlimit) } catch { throw ValidationError("--bwlimit \(bwlimit): \(error)") }
        }
    }

    /// The request for a run.
    func request(_ direction: SyncDirection, source: String, dest: String) throws -> SyncRequest {
        var includes = include, excludes = exclude
        do {
            for f in includeFrom { includes += try PathFilter.patterns(fromFile: f) }
            for f in excludeFrom { excludes += try PathFilter.patterns(fromFile: f) }
        } catch { throw ValidationError("\(error)") }
        let filter: PathFilter
        do { filter = try PathFilter(include: includes, exclude: excludes, defaultExcludes: !noDefaultExcludes) } catch {
            throw ValidationError("\(error)")
        }
        var r = SyncRequest(direction: direction, mode: mode, source: source, dest: dest, filter: filter,
                            stateDir: stateDir ?? Self.defaultStateDir())
        r.dryRun = dryRun
        r.transfers = transfers
        r.bwlimit = try bwlimit.map { try BandwidthSchedule($0) }
        r.followSymlinks = followSymlinks
        r.strict = strict
        r.force = force
        r.maxDeletePercent = maxDelete
        return r
    }

    /// The reporter for this command line.
    func reporter() -> SyncReporter { output.reporter() }

    /// /var/lib/gphotosfs/sync as root, else $XDG_STATE_HOME/gphotosfs/sync.
    static func defaultStateDir(_ env: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if geteuid() == 0 { return "/var/lib/gphotosfs/sync" }
        let home = env["HOME"] ?? NSHomeDirectory()
        let stateHome = env["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.local/state"
        return stateHome + "/gphotosfs/sync"
    }

    /// Runs the request with SIGINT/SIGTERM turned into an abort, and exits with the run's code.
    func run(_ direction: SyncDirection, source: String, dest: String) async throws {
        let req = try request(direction, source: source, dest: dest)
        let abort = AbortFlag()
        let signals = StopSignals { abort.abort() }
        let summary = await SyncRunner.run(req, reporter: reporter(), abort: abort)
        signals.cancel()
        if summary.exitCode != 0 { throw ExitCode(summary.exitCode) }
    }
}

extension SyncMode: ExpressibleByArgument {}

/// `gphotos-sync push`.
struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Dataset → Google: each sub-directory of SOURCE becomes an album under DEST (album/ in the mount).",
        discussion: "DEST is album/ (one album per sub-directory of SOURCE, nested sub-directories become nested titles), an album under it, or upload/.")
    @OptionGroup var options: SyncOptions
    @Argument(help: "The dataset directory.") var source: String
    @Argument(help: "A folder of the mount: album/, album/TITLE or upload/.") var dest: String
    func run() async throws { try await options.run(.push, source: source, dest: dest) }
}

/// `gphotos-sync pull`.
struct PullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Google → dataset: albums (or media/all) from the mount into a dataset directory.",
        discussion: "Files are written to a temporary name, flushed and renamed into place, with the capture time as their mtime.")
    @OptionGroup var options: SyncOptions
    @Argument(help: "A folder of the mount: album/, album/TITLE, media/all or a media/by-* folder.") var source: String
    @Argument(help: "The dataset directory.") var dest: String
    func run() async throws { try await options.run(.pull, source: source, dest: dest) }
}

/// SIGINT and SIGTERM call `handler` (once each) instead of killing the process, until cancelled.
final class StopSignals {
    private let sources: [any DispatchSourceSignal]
    init(_ handler: @escaping @Sendable () -> Void) {
        var s: [any DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let src = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            src.setEventHandler(handler: handler)
            src.resume()
            s.append(src)
        }
        sources = s
    }
    func cancel() {
        for s in sources { s.cancel() }
        signal(SIGINT, SIG_DFL); signal(SIGTERM, SIG_DFL)
    }
}
