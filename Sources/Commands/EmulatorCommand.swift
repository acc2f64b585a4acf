// `gphotos-emulator`: serve the local Google Photos API, list its knobs.
import ArgumentParser
import Emulator
import Foundation

/// The `gphotos-emulator` command.
public struct EmulatorCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gphotos-emulator",
        abstract: "A faithful local Google Photos Library and Picker API, for offline tests and demos.",
        discussion: """
        Serves the Google Photos Library API v1 (as it behaves since 31 March 2025), the Picker API, \
        OAuth endpoints, base-URL media downloads, and a control API under /emulator/v1/. \
        See gphotos-emulator(1) for every endpoint and control call.
        """,
        subcommands: [Serve.self, Knobs.self],
        defaultSubcommand: Serve.self)

    public init() {}

    /// `gphotos-emulator serve`.
    public struct Serve: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Serve the API until SIGINT or SIGTERM.",
            discussion: Serve.discussion)

        static var discussion: String {
            let defaults = EmulatorConfig()
            let knobs = EmulatorConfig.knobHelp.map {
                "  \($0.name) (default \(defaults.value(of: $0.name)))\n" + EmulatorCommand.wrap($0.help, indent: 6)
            }
            return """
            The first line on standard output is `gphotos-emulator listening on http://HOST:PORT`. \
            Endpoints: Library API /v1/..., uploads /v1/uploads, Picker API /picker/v1/..., OAuth /o/oauth2/v2/auth, \
            /token, /revoke, /device/code, base URLs /lr/... and /pk/..., control API /emulator/v1/... \
            (see gphotos-emulator(1)).

            FAULTS (--fault, or POST /emulator/v1/faults {"spec":[...]}):
              ENDPOINT:KIND[:p=P][:count=N][:retry-after=S][:delay=MS][:after=BYTES]
              KIND: 500, 501, 503, 504, 429, reset or slow. ENDPOINT: a method
              name (albums.list, mediaItems.batchCreate, uploads, media,
              picker.sessions.get), a prefix (albums.*), or *.
              p = probability; count = hit the next N matching requests only.

            KNOBS (--knob NAME=VALUE, or PATCH /emulator/v1/knobs {"NAME":VALUE}).
            [U] marks behaviour Google does not document:
            \(knobs.joined(separator: "\n"))

            CONTROL API (loopback, no auth): GET health; POST reset; GET clock; POST clock:advance \
            {"seconds":N}; GET/PATCH knobs; GET/POST/DELETE faults; GET/DELETE requests (per-endpoint counts); \
            GET quota?project=P; POST clients; POST users; POST tokens (mint a token for a client id and scopes); \
            POST seed (albums, app items, user-library items); GET albums/ID/items; \
            POST picker/sessions/ID:pick; POST sink.
            """
        }

        @Option(help: "Address to bind. Only loopback addresses unless --allow-remote.")
        var host: String = "127.0.0.1"

        @Option(help: "TCP port; 0 picks a free one.")
        var port: Int = 8080

        @Option(help: "Folder for the SQLite state and stored bytes; a restart keeps everything.")
        var state: String?

        @Flag(help: "Keep all state in memory (the default when --state is not given).")
        var ephemeral = false

        @Flag(help: "Allow binding a non-loopback address.")
        var allowRemote = false

        @Option(name: .customLong("knob"), help: ArgumentHelp("Set a knob, NAME=VALUE (repeatable).", valueName: "NAME=VALUE"))
        var knobs: [String] = []

        @Option(name: .customLong("fault"), help: ArgumentHelp("Inject a fault (repeatable).", valueName: "SPEC"))
        var faults: [String] = []

        @Option(help: "Seed for probabilistic faults (0 = fixed default seed).")
        var seed: UInt64 = 0

        public init() {}

        public func validate() throws {
            if state != nil && ephemeral { throw ValidationError("--state and --ephemeral exclude each other: pick one.") }
            guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535, not \(port).") }
            if !allowRemote && !Serve.isLoopback(host) {
                throw ValidationError("--host \(host) is not a loopback address; pass --allow-remote to serve other machines.")
            }
        }

        static func isLoopback(_ host: String) -> Bool {
            host == "localhost" || host == "::1" || host.hasPrefix("127.")
        }

        public func run() async throws {
            var config = EmulatorConfig()
            do {
                for k in knobs { config = try config.setting(k) }
                let rules = try faults.map { spec throws(ConfigError) in try FaultRule.parse(spec) }
                let store = try Store(stateDir: state.map { URL(fileURLWithPath: $0, isDirectory: true) })
                defer { store.close() }
                let emulator = try Emulator(store: store, config: config, faults: rules, seed: seed)
                try await EmulatorServer.run(emulator, host: host, port: port) { base in
                    let line = "gphotos-emulator listening on \(base)\n"
                    FileHandle.standardOutput.write(Data(line.utf8))
                }
            } catch let e as ConfigError {
                throw ValidationError(e.message)
            }
        }
    }

    /// Wraps text at 76 columns with an indent, for help screens.
    static func wrap(_ text: String, indent: Int) -> String {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + word.count + 1 > 76 - indent { lines.append(line); line = "" }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        let pad = String(repeating: " ", count: indent)
        return lines.map { pad + $0 }.joined(separator: "\n")
    }

    /// `gphotos-emulator knobs`: every knob with its default.
    public struct Knobs: ParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "List every knob with its default value and meaning.")
        public init() {}
        public func run() throws {
            let defaults = EmulatorConfig()
            for k in EmulatorConfig.knobHelp {
                print("\(k.name)=\(defaults.value(of: k.name))\n" + EmulatorCommand.wrap(k.help, indent: 4))
            }
        }
    }
}
