// `gphotos-sync import takeout|picker`: a user's existing Google Photos library into a dataset, by Google Takeout
// archives or by picking items in Google's Picker (man/gphotos-sync.1, IMPORTS).
import ArgumentParser
import Foundation
import ImportEngine
import PhotosAPI
import SyncEngine
#if canImport(Glibc)
import Glibc
#endif

/// `gphotos-sync import`.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Bring an existing library into a dataset: Google Takeout archives, or items picked in Google's Picker.",
        subcommands: [TakeoutImportCommand.self, PickerImportCommand.self])
}

/// Options of both import commands.
struct ImportOutputOptions: ParsableArguments {
    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: ArgumentHelp("Folder template for items in no album, by capture date (UTC): {year}, {month}, {day}.",
                                            valueName: "TEMPLATE"))
    var layout = "{year}"

    /// The reporter for this command line.
    func reporter() -> SyncReporter { output.reporter() }
}

/// `gphotos-sync import takeout`.
struct TakeoutImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "takeout",
        abstract: "Import Google Takeout parts (.zip, .tgz, read directly) or an extracted Takeout folder into a dataset.",
        discussion: """
            Each album becomes a folder named after the album's title (from its metadata JSON); a photo in several \
            albums is hard-linked into each; items in no album go to year folders (--layout). Files get their capture \
            time as mtime. A manifest in DATASET/.gphotos-import makes a re-run a no-op and resumes an interrupted run.
            """)

    @Argument(help: "Takeout parts (takeout-…-001.zip, .tgz) and/or extracted Takeout folders: give all parts at once.")
    var parts: [String] = []

    @Option(name: .long, help: "The dataset directory to fill (created when missing).")
    var to: String

    @Flag(name: .long, help: "Import the trash too (into Trash/); left out by default.")
    var includeTrash = false

    @Flag(name: .long, help: "Put untitled albums' items in year folders instead of 'Untitled album' folders.")
    var skipUntitledAlbums = false

    @Flag(name: .long, help: "Write NAME.xmp beside each file: capture date, place and description from its sidecar.")
    var xmp = false

    @Flag(name: .long, help: "Add the missing date, place and description tags into the files with exiftool (never overwrites the camera's tags).")
    var exif = false

    @Flag(name: .long, help: "Read the archives' catalogues and print the plan; write nothing.")
    var dryRun = false

    @OptionGroup var output: ImportOutputOptions

    func validate() throws {
        if parts.isEmpty { throw ValidationError("give the Takeout parts to import (takeout-…-001.zip …) or an extracted Takeout folder") }
    }

    func run() async throws {
        var req = TakeoutRequest(inputs: parts, dataset: to)
        req.layout = output.layout
        req.includeTrash = includeTrash
        req.skipUntitledAlbums = skipUntitledAlbums
        req.xmp = xmp
        req.exif = exif
        req.dryRun = dryRun
        let abort = AbortFlag()
        let signals = StopSignals { abort.abort() }
        let summary = await TakeoutImporter.run(req, reporter: output.reporter(), abort: abort)
        signals.cancel()
        if summary.exitCode != 0 { throw ExitCode(summary.exitCode) }
    }
}

/// `gphotos-sync import picker`.
struct PickerImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "picker",
        abstract: "Pick items in Google Photos' own Picker (link and QR code), then download them into a dataset.",
        discussion: """
            Needs an account authorized with `gphotosfs auth login --picker`. Downloads are Google's =d/=dv copies \
            (location stripped, videos transcoded), not the originals: use Takeout for full fidelity. Items picked \
            before (by their stable id) are not downloaded again. An interrupted run resumes within an hour.
            """)

    @Option(name: .long, help: "The dataset directory to fill (created when missing).")
    var to: String

    @Option(name: .long, help: "The most items to pick (1-2000).")
    var maxItems: Int64?

    @Option(name: .long, help: "Stop waiting for the picks after this many seconds (default: the session's own timeout).")
    var timeout: Double?

    @Option(name: .long, help: "Account name (default: 'default').")
    var account: String?

    @Option(name: .long, help: "Directory of the account token files (default: see `gphotosfs auth --help`).")
    var accountsDir: String?

    @Option(name: .long, help: "Use a gphotos-emulator at this URL (a token with the Picker scope is minted there).")
    var emulator: String?

    @OptionGroup var output: ImportOutputOptions

    func validate() throws {
        if let m = maxItems, !(1...2000).contains(m) { throw ValidationError("--max-items must be between 1 and 2000 (got \(m))") }
        if let t = timeout, !(t > 0) { throw ValidationError("--timeout must be a positive number of seconds (got \(t))") }
    }

    func run() async throws {
        let client = try await makeClient()
        var req = PickerRequest(dataset: to)
        req.layout = output.layout
        req.maxItems = maxItems
        req.timeout = timeout
        let abort = AbortFlag()
        let signals = StopSignals { abort.abort() }
        let reporter = output.reporter()
        let json = output.output.json
        let summary = await PickerImporter.run(req, client: client, reporter: reporter, abort: abort) { uri in
            Self.show(uri, json: json, reporter: reporter)
        }
        signals.cancel()
        if summary.exitCode != 0 { throw ExitCode(summary.exitCode) }
    }

    /// Prints the picker link and its QR code (standard error when standard output carries NDJSON).
    static func show(_ uri: String, json: Bool, reporter: SyncReporter) {
        let qr = TerminalQR.render(uri) ?? []
        let text = (["Open this link on a device signed in to your Google account, pick items, then tap Done:", "  " + uri, ""]
            + qr + ["", "Waiting for the picks (Ctrl-C stops; running again within an hour resumes)…"]).joined(separator: "\n") + "\n"
        if json {
            reporter.note("picker link: \(uri)")
            FileHandle.standardError.write(Data(text.utf8))
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }

    /// A run-time refusal: the message on standard error and exit 2, without ArgumentParser's usage text.
    static func refuse(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data(("gphotos-sync: " + message + "\n").utf8))
        return ExitCode(SyncExitCode.usageError.rawValue)
    }

    /// A client for --emulator (a minted token with the Picker scope) or for a stored account that has the scope.
    func makeClient() async throws -> PhotosClient {
        if let emulator {
            do {
                let creds = try await MountCommand.emulatorCredentials(account ?? "emulator", base: emulator,
                                                                       scopes: PhotosScopes.library + [PhotosScopes.picker])
                return PhotosClient(credentials: creds)
            } catch let e as ValidationError { throw Self.refuse(e.message) }
        }
        let name = account ?? "default"
        let store = accountsDir.map { TokenFileStore(directory: URL(fileURLWithPath: $0, isDirectory: true)) }
            ?? TokenFileStore(directory: TokenFileStore.defaultDirectory())
        let creds: StoredCredentials
        do {
            guard let found = try store.load(name) else {
                throw Self.refuse("no credentials for account '\(name)' in \(store.directory.path): run gphotosfs auth login --picker --account \(name)")
            }
            creds = found
        } catch let e as PhotosAPIError { throw Self.refuse("account '\(name)': \(e)") }
        if let scopes = creds.scopes, !scopes.contains(PhotosScopes.picker) {
            throw Self.refuse("account '\(name)' was authorized without the Picker permission: run gphotosfs auth login --picker --account \(name)")
        }
        return PhotosClient(credentials: creds, store: store)
    }
}
