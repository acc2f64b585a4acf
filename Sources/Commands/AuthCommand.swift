// `gphotosfs auth`: the account commands (login, authorize, import, verify, status, logout) and their shared options.
import ArgumentParser
import Foundation
import Logging
import PhotosAPI

/// `gphotosfs auth`.
public struct AuthCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "auth",
        abstract: "Log in to Google Photos, import existing credentials, check and remove them.",
        discussion: """
        Credentials live in one JSON file per account (mode 0600) under $GPHOTOSFS_ACCOUNTS_DIR, or \
        /etc/gphotosfs/accounts when run as root, or $XDG_CONFIG_HOME/gphotosfs/accounts otherwise.

        You need your own OAuth client of type "Desktop app" (Google Cloud console → APIs & Services → Credentials) \
        with the Photos Library API enabled. gphotosfs asks for the three scopes that remain since 31 March 2025: \
        photoslibrary.appendonly, photoslibrary.readonly.appcreateddata and photoslibrary.edit.appcreateddata.

        Headless NAS: either forward the loopback port over SSH \
        (`ssh -L 53682:127.0.0.1:53682 nas`, then on the NAS `gphotosfs auth login --port 53682 --no-browser` \
        and open the printed URL in your desktop browser), or run `gphotosfs auth authorize` on a machine with a \
        browser and pipe its JSON into `gphotosfs auth import` on the NAS.

        Endpoints: --emulator URL (a gphotos-emulator), or the environment: GPHOTOSFS_EMULATOR=URL, or single \
        overrides GPHOTOSFS_ENDPOINT_LIBRARY, _UPLOAD, _PICKER, _TOKEN, _AUTHORIZE, _REVOKE, or the config file \
        ($GPHOTOSFS_CONFIG, /etc/gphotosfs/config.json as root, ~/.config/gphotosfs/config.json otherwise) with \
        {"endpoints": {"emulator": URL}} or {"endpoints": {"library": URL, "upload": URL, ...}}.
        """,
        subcommands: [AuthLogin.self, AuthAuthorize.self, AuthImport.self, AuthVerify.self, AuthStatus.self, AuthLogout.self])
    public init() {}
}

extension GPhotosFSCommand {
    /// Parses `arguments` as a gphotosfs command line and runs it in this process (tests, embedding).
    public static func runInProcess(_ arguments: [String]) async throws {
        var command = try parseAsRoot(arguments)
        if var async = command as? any AsyncParsableCommand { try await async.run() } else { try command.run() }
    }
}

/// --account and --accounts-dir.
struct AccountOptions: ParsableArguments {
    @Option(name: .long, help: "Account name (letters, digits, . _ -).")
    var account: String = "default"

    @Option(name: .long, help: "Directory of the account token files (default: see `gphotosfs auth --help`).")
    var accountsDir: String?

    /// The token store.
    var store: TokenFileStore {
        accountsDir.map { TokenFileStore(directory: URL(fileURLWithPath: $0, isDirectory: true)) }
            ?? TokenFileStore(directory: TokenFileStore.defaultDirectory())
    }

    func validate() throws {
        guard TokenFileStore.isValidAccountName(account) else {
            throw ValidationError("--account '\(account)': use letters, digits, '.', '_' or '-' (at most 64).")
        }
    }
}

/// --client-id and the three ways to give the client secret.
struct ClientOptions: ParsableArguments {
    @Option(name: .long, help: "OAuth client ID (or GPHOTOSFS_CLIENT_ID).")
    var clientId: String?

    @Option(name: .long, help: "OAuth client secret. Visible to other users in `ps`: prefer --client-secret-file or GPHOTOSFS_CLIENT_SECRET.")
    var clientSecret: String?

    @Option(name: .long, help: "Read the client secret from this file (first line).")
    var clientSecretFile: String?

    /// The client ID from the option or the environment.
    func resolvedClientId(_ env: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        clientId ?? env["GPHOTOSFS_CLIENT_ID"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The client secret from the option, the file or GPHOTOSFS_CLIENT_SECRET (nil when none).
    func resolvedSecret(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        if let clientSecret { return clientSecret }
        if let path = clientSecretFile {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("cannot read --client-secret-file \(path)")
            }
            return text.split(whereSeparator: \.isNewline).first.map { String($0).trimmingCharacters(in: .whitespaces) }
        }
        return env["GPHOTOSFS_CLIENT_SECRET"].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// --emulator.
struct EndpointOptions: ParsableArguments {
    @Option(name: .long, help: "Use a gphotos-emulator at this URL (e.g. http://127.0.0.1:8080).")
    var emulator: String?

    /// Endpoints from --emulator, else the environment, else the config file, else Google's.
    var endpoints: PhotosEndpoints {
        get throws {
            if let emulator { return .emulator(emulator) }
            do { return try PhotosEndpoints.configured() ?? .google } catch { throw ValidationError(error.description) }
        }
    }

    /// Whether anything but Google's defaults was asked for (flag, environment or config file).
    var isConfigured: Bool {
        get throws { try emulator != nil || PhotosEndpoints.configured() != nil }
    }
}

/// Helpers shared by the auth commands.
enum AuthSupport {
    /// The logger of the auth commands.
    static let logger = Logger(label: "gphotosfs.auth")

    /// Writes a line to standard output, unbuffered (a parent reading a pipe sees it at once).
    static func say(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// Writes a line to standard error.
    static func note(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Credentials from a token response.
    static func credentials(account: String, clientId: String, clientSecret: String?, response r: TokenResponse,
                            endpoints: PhotosEndpoints, now: Date, testingMode: Bool?, source: String) -> StoredCredentials {
        StoredCredentials(account: account, clientId: clientId, clientSecret: clientSecret, refreshToken: r.refreshToken ?? "",
                          accessToken: r.accessToken, expiry: now.addingTimeInterval(r.expiresIn), scopes: r.scopes,
                          tokenType: r.tokenType, endpoints: endpoints, authorizedAt: now, testingMode: testingMode, source: source)
    }

    /// Plain-language lines about missing or removed scopes.
    static func scopeReport(requested: [String], granted: [String]?) -> [String] {
        guard let granted else { return ["Granted scopes are unknown (the token response did not list them)."] }
        var out: [String] = []
        let missing = requested.filter { !granted.contains($0) }
        if missing.isEmpty {
            out.append("All requested scopes were granted.")
        } else {
            out.append("NOT granted: \(missing.map(PhotosScopes.shortName).joined(separator: ", ")).")
            for m in missing {
                switch m {
                case PhotosScopes.appendOnly: out.append("  Without appendonly gphotosfs cannot upload or create albums.")
                case PhotosScopes.readAppCreated: out.append("  Without readonly.appcreateddata gphotosfs cannot list or read anything.")
                case PhotosScopes.editAppCreated: out.append("  Without edit.appcreateddata gphotosfs cannot rename albums or remove items from them.")
                default: break
                }
            }
            out.append("  Run `gphotosfs auth login` again and leave every box ticked on the consent screen.")
        }
        let removed = granted.filter { PhotosScopes.removed.contains($0) }
        if !removed.isEmpty {
            out.append("Token carries scopes Google removed on 31 March 2025 (\(removed.map(PhotosScopes.shortName).joined(separator: ", "))); they grant nothing.")
        }
        return out
    }

    /// Opens `url` with xdg-open when a display is available; returns true when it tried.
    static func openBrowser(_ url: String) -> Bool {
        let env = ProcessInfo.processInfo.environment
        guard (env["DISPLAY"].map { !$0.isEmpty } ?? false) || (env["WAYLAND_DISPLAY"].map { !$0.isEmpty } ?? false) else { return false }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["xdg-open", url]
        // The child gets a minimal environment: no tokens or secrets from ours.
        p.environment = env.filter { ["DISPLAY", "WAYLAND_DISPLAY", "PATH", "HOME", "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS"].contains($0.key) }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        return (try? p.run()) != nil
    }
}
