// `gphotosfs auth import`: credentials from `auth authorize` JSON, an rclone.conf remote, or a TrueNAS credential.
import ArgumentParser
import Foundation
import PhotosAPI

/// Parsers for credential formats other tools write.
public enum CredentialImport {
    /// What an import yields before it is completed with account, endpoints and secret.
    public struct Imported: Sendable, Equatable {
        /// OAuth client id from the input; nil when absent (then --client-id is needed).
        public var clientId: String?
        /// OAuth client secret from the input; nil when absent.
        public var clientSecret: String?
        /// The refresh token (every format must carry one).
        public var refreshToken: String
        /// The access token, when the input carried one.
        public var accessToken: String?
        /// When the access token expires, when known.
        public var expiry: Date?
        /// Granted scopes (`scope` or `scopes`); nil when the input lists none.
        public var scopes: [String]?
        /// When the refresh token was issued (`authorized_at`), when the input says.
        public var authorizedAt: Date?
        /// Endpoints from the input (JSON `endpoints` or rclone `token_url`); nil means Google's.
        public var endpoints: PhotosEndpoints?
        /// Which parser produced it: import-rclone, import-truenas or import-json.
        public var source: String
    }

    /// Errors of the import parsers.
    public struct ImportError: Error, CustomStringConvertible {
        /// What is wrong with the input, worded for the user.
        public let description: String
    }

    /// Parses an rclone.conf and returns the Google Photos remote `remote`.
    public static func rclone(config text: String, remote: String) throws -> Imported {
        var section: [String: String]? = nil
        var current: String? = nil
        var values: [String: String] = [:]
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                if current == remote { section = values }
                current = String(line.dropFirst().dropLast()); values = [:]
                continue
            }
            guard let eq = line.firstIndex(of: "=") else { continue }
            values[line[..<eq].trimmingCharacters(in: .whitespaces)] = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        }
        if current == remote { section = values }
        guard let s = section else { throw ImportError(description: "no remote [\(remote)] in the rclone config") }
        let type = s["type"] ?? ""
        guard type == "google photos" || type == "googlephotos" else {
            throw ImportError(description: "remote [\(remote)] is of type '\(type)', not 'google photos'")
        }
        guard let tokenText = s["token"], !tokenText.isEmpty else {
            throw ImportError(description: "remote [\(remote)] has no token; run `rclone config reconnect \(remote):` first")
        }
        var imp = try token(json: tokenText, source: "import-rclone")
        imp.clientId = s["client_id"].flatMap { $0.isEmpty ? nil : $0 }
        imp.clientSecret = s["client_secret"].flatMap { $0.isEmpty ? nil : $0 }
        if let tu = s["token_url"], !tu.isEmpty { var e = PhotosEndpoints.google; e.token = tu; imp.endpoints = e }
        return imp
    }

    /// Parses an rclone/oauth2-style token object `{"access_token","token_type","refresh_token","expiry"}`.
    static func token(json text: String, source: String) throws -> Imported {
        guard let obj = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            throw ImportError(description: "the token is not a JSON object")
        }
        return try token(object: obj, source: source)
    }

    static func token(object obj: [String: Any], source: String) throws -> Imported {
        guard let rt = obj["refresh_token"] as? String, !rt.isEmpty else { throw ImportError(description: "the token has no refresh_token") }
        let scopes: [String]? = (obj["scope"] as? String).map { $0.split(separator: " ").map(String.init) } ?? (obj["scopes"] as? [String])
        var endpoints: PhotosEndpoints? = nil
        if let e = obj["endpoints"], let d = try? JSONSerialization.data(withJSONObject: e) {
            endpoints = try? JSONDecoder().decode(PhotosEndpoints.self, from: d)
        }
        return Imported(clientId: obj["client_id"] as? String, clientSecret: obj["client_secret"] as? String, refreshToken: rt,
                        accessToken: obj["access_token"] as? String, expiry: (obj["expiry"] as? String).flatMap(parseDate),
                        scopes: scopes, authorizedAt: (obj["authorized_at"] as? String).flatMap(parseDate), endpoints: endpoints,
                        source: source)
    }

    /// Parses a JSON document: `auth authorize` output, or a TrueNAS credential (`client_id`, `client_secret`, `token`
    /// as a JSON string or object, possibly under `provider` or `attributes`).
    public static func json(_ text: String) throws -> Imported {
        guard let top = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            throw ImportError(description: "the input is not a JSON object")
        }
        var obj = top
        for key in ["provider", "attributes"] { if let inner = top[key] as? [String: Any], inner["token"] != nil { obj = inner } }
        if let tok = obj["token"] {
            var imp: Imported
            if let s = tok as? String { imp = try token(json: s, source: "import-truenas") } else if let o = tok as? [String: Any] {
                imp = try token(object: o, source: "import-truenas")
            } else { throw ImportError(description: "the token field is neither a string nor an object") }
            imp.clientId = (obj["client_id"] as? String) ?? imp.clientId
            imp.clientSecret = (obj["client_secret"] as? String) ?? imp.clientSecret
            return imp
        }
        return try token(object: obj, source: "import-json")
    }

    /// RFC 3339 with any number of fractional digits and any offset (Go writes nanoseconds).
    static func parseDate(_ s: String) -> Date? {
        var t = s
        if let dot = t.firstIndex(of: ".") {
            var end = t.index(after: dot)
            while end < t.endIndex, t[end].isNumber { end = t.index(after: end) }
            let frac = t[t.index(after: dot)..<end]
            t = String(t[..<dot]) + "." + String((frac + "000").prefix(3)) + String(t[end...])
        }
        if let d = try? Date(t, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return d }
        if let d = try? Date(t, strategy: .iso8601) { return d }
        return nil
    }
}

/// `gphotosfs auth import`.
struct AuthImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Store credentials made elsewhere: `auth authorize` JSON, an rclone remote, or a TrueNAS credential.",
        discussion: """
        Sources: --file F (or standard input) holding the JSON from `gphotosfs auth authorize` or a TrueNAS \
        Google Photos credential ({"client_id","client_secret","token"}); or --rclone-config FILE --remote NAME. \
        Tokens made by rclone before v1.70 carry scopes Google removed in 2025: `gphotosfs auth verify` tells.
        """)

    @OptionGroup var client: ClientOptions
    @OptionGroup var accountOptions: AccountOptions
    @OptionGroup var endpointOptions: EndpointOptions

    @Option(name: .long, help: "JSON file to import (default: standard input).")
    var file: String?

    @Option(name: .long, help: "An rclone.conf to import a remote from.")
    var rcloneConfig: String?

    @Option(name: .long, help: "The rclone remote name (with --rclone-config).")
    var remote: String?

    @Flag(name: .long, help: "The input is a TrueNAS credential JSON (detected automatically too).")
    var truenas = false

    @Flag(name: .long, inversion: .prefixedNo, help: "The OAuth consent screen is in Testing mode (7-day tokens).")
    var testingMode: Bool?

    func validate() throws {
        if rcloneConfig != nil && remote == nil { throw ValidationError("--rclone-config needs --remote NAME.") }
        if rcloneConfig != nil && file != nil { throw ValidationError("use --file or --rclone-config, not both.") }
    }

    func run() async throws {
        var imp: CredentialImport.Imported
        if let rcloneConfig, let remote {
            guard let text = try? String(contentsOfFile: rcloneConfig, encoding: .utf8) else { throw ValidationError("cannot read \(rcloneConfig)") }
            imp = try CredentialImport.rclone(config: text, remote: remote)
        } else {
            let data: Data
            if let file {
                guard let d = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
                data = d
            } else {
                data = FileHandle.standardInput.readDataToEndOfFile()
            }
            imp = try CredentialImport.json(String(decoding: data, as: UTF8.self))
        }
        guard let clientId = client.resolvedClientId() ?? imp.clientId, !clientId.isEmpty else {
            throw ValidationError("the input has no client_id: pass --client-id.")
        }
        let secret = try client.resolvedSecret() ?? imp.clientSecret
        let endpoints = try endpointOptions.isConfigured ? endpointOptions.endpoints : (imp.endpoints ?? .google)
        let creds = StoredCredentials(account: accountOptions.account, clientId: clientId, clientSecret: secret,
                                      refreshToken: imp.refreshToken, accessToken: imp.accessToken, expiry: imp.expiry, scopes: imp.scopes,
                                      endpoints: endpoints, authorizedAt: imp.authorizedAt, testingMode: testingMode, source: imp.source)
        try accountOptions.store.save(creds)
        AuthSupport.say("Imported credentials (\(imp.source)) for account '\(creds.account)' into \(accountOptions.store.fileURL(creds.account).path).")
        if secret == nil { AuthSupport.say("No client secret given: if your OAuth client has one, import again with --client-secret-file or GPHOTOSFS_CLIENT_SECRET.") }
        for line in AuthSupport.scopeReport(requested: PhotosScopes.library, granted: imp.scopes) where imp.scopes != nil { AuthSupport.say(line) }
        AuthSupport.say("Check it with `gphotosfs auth verify --account \(creds.account)`.")
    }
}
