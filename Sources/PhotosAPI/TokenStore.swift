// Credentials per named account: one JSON file each, mode 0600, replaced atomically; secrets redacted in descriptions.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Everything needed to call the API for one account. Encoded with snake_case keys.
public struct StoredCredentials: Codable, Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// Account name (file name without .json).
    public var account: String
    /// OAuth client id the refresh token was issued to.
    public var clientId: String
    /// Desktop clients have a (non-confidential) secret; nil for clients without one.
    public var clientSecret: String?
    /// Long-lived refresh token, used to mint access tokens.
    public var refreshToken: String
    /// The last access token; nil when none is cached.
    public var accessToken: String?
    /// When `accessToken` expires.
    public var expiry: Date?
    /// Scopes granted, from the token response; nil when unknown (e.g. imported from rclone).
    public var scopes: [String]?
    /// Token type for the Authorization header, normally "Bearer".
    public var tokenType: String
    /// The endpoints this account talks to.
    public var endpoints: PhotosEndpoints
    /// When the refresh token was issued (login or import time); used for the 7-day Testing-mode warning.
    public var authorizedAt: Date?
    /// True when the user said the OAuth consent screen is in "Testing" (refresh tokens die after 7 days); nil = unknown.
    public var testingMode: Bool?
    /// Where these credentials came from: login, authorize, import-rclone, import-truenas, import-json, emulator.
    public var source: String?

    enum CodingKeys: String, CodingKey {
        case account, clientId = "client_id", clientSecret = "client_secret", refreshToken = "refresh_token"
        case accessToken = "access_token", expiry, scopes, tokenType = "token_type", endpoints
        case authorizedAt = "authorized_at", testingMode = "testing_mode", source
    }

    /// Creates credentials.
    public init(account: String, clientId: String, clientSecret: String?, refreshToken: String, accessToken: String? = nil,
                expiry: Date? = nil, scopes: [String]? = nil, tokenType: String = "Bearer", endpoints: PhotosEndpoints = .google,
                authorizedAt: Date? = nil, testingMode: Bool? = nil, source: String? = nil) {
        self.account = account; self.clientId = clientId; self.clientSecret = clientSecret; self.refreshToken = refreshToken
        self.accessToken = accessToken; self.expiry = expiry; self.scopes = scopes; self.tokenType = tokenType
        self.endpoints = endpoints; self.authorizedAt = authorizedAt; self.testingMode = testingMode; self.source = source
    }

    /// Tolerant decoding (missing optional fields default).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        account = c.str(.account); clientId = c.str(.clientId); clientSecret = c.optStr(.clientSecret)
        refreshToken = c.str(.refreshToken); accessToken = c.optStr(.accessToken); expiry = c.date(.expiry)
        scopes = try? c.decodeIfPresent([String].self, forKey: .scopes)
        tokenType = c.optStr(.tokenType) ?? "Bearer"
        endpoints = c.nested(PhotosEndpoints.self, .endpoints) ?? .google
        authorizedAt = c.date(.authorizedAt); testingMode = try? c.decodeIfPresent(Bool.self, forKey: .testingMode)
        source = c.optStr(.source)
    }

    /// Encodes dates as RFC 3339 strings.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(account, forKey: .account); try c.encode(clientId, forKey: .clientId)
        try c.encodeIfPresent(clientSecret, forKey: .clientSecret); try c.encode(refreshToken, forKey: .refreshToken)
        try c.encodeIfPresent(accessToken, forKey: .accessToken)
        try c.encodeIfPresent(expiry.map(RFC3339.format), forKey: .expiry)
        try c.encodeIfPresent(scopes, forKey: .scopes); try c.encode(tokenType, forKey: .tokenType)
        try c.encode(endpoints, forKey: .endpoints)
        try c.encodeIfPresent(authorizedAt.map(RFC3339.format), forKey: .authorizedAt)
        try c.encodeIfPresent(testingMode, forKey: .testingMode); try c.encodeIfPresent(source, forKey: .source)
    }

    /// Safe for logs: no token or secret.
    public var description: String {
        "StoredCredentials(account: \(account), clientId: \(clientId), clientSecret: \(Redact.hint(clientSecret ?? "")), "
            + "refreshToken: \(Redact.hint(refreshToken)), accessToken: \(Redact.hint(accessToken ?? "")), "
            + "expiry: \(expiry.map(RFC3339.format) ?? "unknown"), scopes: \(scopes?.map(PhotosScopes.shortName) ?? ["unknown"]))"
    }
    /// Same as description.
    public var debugDescription: String { description }

    /// Scopes Google removed in 2025 that these credentials carry.
    public var removedScopes: [String] { (scopes ?? []).filter { PhotosScopes.removed.contains($0) } }
    /// Library scopes missing from the grant (empty when scopes are unknown).
    public var missingLibraryScopes: [String] {
        guard let scopes else { return [] }
        return PhotosScopes.library.filter { !scopes.contains($0) }
    }
}

/// Persists credentials for named accounts.
public protocol CredentialStore: Sendable {
    /// The credentials of `account`, or nil when there are none.
    func load(_ account: String) throws(PhotosAPIError) -> StoredCredentials?
    /// Saves (replaces) the credentials of `credentials.account`.
    func save(_ credentials: StoredCredentials) throws(PhotosAPIError)
    /// Deletes the account's credentials; true when something was deleted.
    @discardableResult func delete(_ account: String) throws(PhotosAPIError) -> Bool
    /// All account names.
    func accounts() throws(PhotosAPIError) -> [String]
}

/// One JSON file per account in a directory (0700), files 0600, written atomically (temp, fsync, rename, fsync dir).
public struct TokenFileStore: CredentialStore {
    /// The directory holding `<account>.json` files.
    public let directory: URL

    /// Creates a store in `directory`.
    public init(directory: URL) { self.directory = directory }

    /// The default directory: $GPHOTOSFS_ACCOUNTS_DIR, else /etc/gphotosfs/accounts for root,
    /// else $XDG_CONFIG_HOME/gphotosfs/accounts (~/.config when unset).
    public static func defaultDirectory(environment env: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let d = env["GPHOTOSFS_ACCOUNTS_DIR"], !d.isEmpty { return URL(fileURLWithPath: d, isDirectory: true) }
        if geteuid() == 0 { return URL(fileURLWithPath: "/etc/gphotosfs/accounts", isDirectory: true) }
        let base = env["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((env["HOME"] ?? NSHomeDirectory()) + "/.config")
        return URL(fileURLWithPath: base, isDirectory: true).appendingPathComponent("gphotosfs/accounts", isDirectory: true)
    }

    /// True for names made of letters, digits, '.', '_' and '-' (not starting with '.'), at most 64 chars.
    public static func isValidAccountName(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 64, !name.hasPrefix(".") else { return false }
        return name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "._-".unicodeScalars.contains($0) }
    }

    /// The file of `account`.
    public func fileURL(_ account: String) -> URL { directory.appendingPathComponent(account + ".json") }

    private func checkName(_ account: String) throws(PhotosAPIError) {
        guard Self.isValidAccountName(account) else {
            throw .notAuthorized("invalid account name '\(account)': use letters, digits, '.', '_' or '-'")
        }
    }

    /// Reads the account's file.
    public func load(_ account: String) throws(PhotosAPIError) -> StoredCredentials? {
        try checkName(account)
        let url = fileURL(account)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw .io("cannot read \(url.path): \(error.localizedDescription)") }
        do {
            var c = try JSONDecoder().decode(StoredCredentials.self, from: data)
            if c.account.isEmpty { c.account = account }
            return c
        } catch {
            throw .io("\(url.path) is not a valid gphotosfs token file")
        }
    }

    /// Writes the account's file atomically with mode 0600.
    public func save(_ credentials: StoredCredentials) throws(PhotosAPIError) {
        try checkName(credentials.account)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do { data = try enc.encode(credentials) } catch { throw .io("cannot encode credentials") }
        try Self.atomicWrite(data, to: fileURL(credentials.account), directory: directory)
    }

    /// Writes `data` to `target` via a temp file in the same directory (0600), fsync, rename, fsync of the directory.
    static func atomicWrite(_ data: Data, to target: URL, directory: URL) throws(PhotosAPIError) {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch { throw .io("cannot create \(directory.path): \(error.localizedDescription)") }
        let tmp = directory.appendingPathComponent(".\(target.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
        let fd = open(tmp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io("cannot create \(tmp.path): \(String(cString: strerror(errno)))") }
        var ok = fchmod(fd, 0o600) == 0
        data.withUnsafeBytes { raw in
            var off = 0
            var rounds = 0
            while ok && off < raw.count && rounds < 1_000_000 {
                rounds += 1
                let n = write(fd, raw.baseAddress! + off, raw.count - off)
                if n < 0 { if errno == EINTR { continue }; ok = false } else { off += n }
            }
        }
        ok = ok && fsync(fd) == 0
        close(fd)
        guard ok, rename(tmp.path, target.path) == 0 else {
            let msg = String(cString: strerror(errno))
            unlink(tmp.path)
            throw .io("cannot write \(target.path): \(msg)")
        }
        let dfd = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }

    /// Removes the account's file.
    @discardableResult
    public func delete(_ account: String) throws(PhotosAPIError) -> Bool {
        try checkName(account)
        let url = fileURL(account)
        guard FileManager.default.fileExists(atPath: url.path) else { return false }
        guard unlink(url.path) == 0 else { throw .io("cannot delete \(url.path): \(String(cString: strerror(errno)))") }
        return true
    }

    /// Names of all accounts with a file.
    public func accounts() throws(PhotosAPIError) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.map { String($0.dropLast(5)) }.sorted()
    }
}

/// A named account: its endpoints come from its stored credentials.
public struct Account: Sendable {
    /// The account name ("default" unless chosen).
    public let name: String
    /// Where its credentials live.
    public let store: any CredentialStore

    /// Creates an account handle.
    public init(name: String = "default", store: any CredentialStore = TokenFileStore(directory: TokenFileStore.defaultDirectory())) {
        self.name = name; self.store = store
    }

    /// The stored credentials, or a notAuthorized error that says how to log in.
    public func credentials() throws(PhotosAPIError) -> StoredCredentials {
        guard let c = try store.load(name) else {
            throw .notAuthorized("no credentials for account '\(name)'; run `gphotosfs auth login --account \(name)` or `gphotosfs auth import`")
        }
        return c
    }
}
