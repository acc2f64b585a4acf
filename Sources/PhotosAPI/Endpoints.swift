// PhotosEndpoints: the set of URLs a client talks to (Google's by default, or a gphotos-emulator).
import Foundation

/// Base URLs for the Library, upload, Picker and OAuth endpoints.
public struct PhotosEndpoints: Codable, Sendable, Equatable {
    /// Library API root including the version, e.g. https://photoslibrary.googleapis.com/v1
    public var library: String
    /// Upload endpoint, e.g. https://photoslibrary.googleapis.com/v1/uploads
    public var upload: String
    /// Picker API root including the version, e.g. https://photospicker.googleapis.com/v1
    public var picker: String
    /// OAuth token endpoint.
    public var token: String
    /// OAuth authorization endpoint (browser).
    public var authorize: String
    /// OAuth revocation endpoint.
    public var revoke: String
    /// The emulator's base URL when these endpoints point at gphotos-emulator (its control API lives there).
    public var emulatorBase: String?

    /// Creates an endpoint set.
    public init(library: String, upload: String, picker: String, token: String, authorize: String, revoke: String, emulatorBase: String? = nil) {
        self.library = library; self.upload = upload; self.picker = picker; self.token = token
        self.authorize = authorize; self.revoke = revoke; self.emulatorBase = emulatorBase
    }

    /// Google's production endpoints.
    public static let google = PhotosEndpoints(
        library: "https://photoslibrary.googleapis.com/v1",
        upload: "https://photoslibrary.googleapis.com/v1/uploads",
        picker: "https://photospicker.googleapis.com/v1",
        token: "https://oauth2.googleapis.com/token",
        authorize: "https://accounts.google.com/o/oauth2/v2/auth",
        revoke: "https://oauth2.googleapis.com/revoke")

    /// The endpoints of a gphotos-emulator at `base` (e.g. http://127.0.0.1:8080).
    public static func emulator(_ base: String) -> PhotosEndpoints {
        let b = base.hasSuffix("/") ? String(base.dropLast()) : base
        return PhotosEndpoints(library: b + "/v1", upload: b + "/v1/uploads", picker: b + "/picker/v1", token: b + "/token",
                               authorize: b + "/o/oauth2/v2/auth", revoke: b + "/revoke", emulatorBase: b)
    }

    /// Endpoints from the environment: GPHOTOSFS_EMULATOR=URL selects an emulator; GPHOTOSFS_ENDPOINT_LIBRARY,
    /// _UPLOAD, _PICKER, _TOKEN, _AUTHORIZE, _REVOKE override single URLs. Nil when none is set.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> PhotosEndpoints? {
        var e: PhotosEndpoints
        var touched = false
        if let base = env["GPHOTOSFS_EMULATOR"], !base.isEmpty { e = .emulator(base); touched = true } else { e = .google }
        let map: [(String, WritableKeyPath<PhotosEndpoints, String>)] = [
            ("LIBRARY", \.library), ("UPLOAD", \.upload), ("PICKER", \.picker), ("TOKEN", \.token),
            ("AUTHORIZE", \.authorize), ("REVOKE", \.revoke),
        ]
        for (suffix, kp) in map {
            if let v = env["GPHOTOSFS_ENDPOINT_" + suffix], !v.isEmpty { e[keyPath: kp] = v; touched = true }
        }
        return touched ? e : nil
    }
}

extension PhotosEndpoints {
    /// The config file: $GPHOTOSFS_CONFIG, else /etc/gphotosfs/config.json as root, else
    /// $XDG_CONFIG_HOME/gphotosfs/config.json (~/.config when unset).
    public static func configFilePath(_ env: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let p = env["GPHOTOSFS_CONFIG"], !p.isEmpty { return p }
        if getuid() == 0 { return "/etc/gphotosfs/config.json" }
        let base = env["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.config")
        return base + "/gphotosfs/config.json"
    }

    /// Endpoints from a config file `{"endpoints": {"emulator": URL} | {"library": …, "upload": …, …}}`.
    /// Nil when the file does not exist; an unreadable or malformed file is an error naming the file.
    public static func fromConfigFile(_ path: String) throws(PhotosAPIError) -> PhotosEndpoints? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw .io("\(path) is not a JSON object: fix it or remove it")
        }
        guard let ep = obj["endpoints"] else { return nil }
        guard let o = ep as? [String: String] else { throw .io("\(path): \"endpoints\" must be an object of URL strings") }
        let known: Set<String> = ["emulator", "library", "upload", "picker", "token", "authorize", "revoke"]
        if let bad = o.keys.sorted().first(where: { !known.contains($0) }) {
            throw .io("\(path): unknown endpoint \"\(bad)\" (\(known.sorted().joined(separator: ", ")))")
        }
        var e: PhotosEndpoints = o["emulator"].map { .emulator($0) } ?? .google
        let map: [(String, WritableKeyPath<PhotosEndpoints, String>)] = [
            ("library", \.library), ("upload", \.upload), ("picker", \.picker), ("token", \.token),
            ("authorize", \.authorize), ("revoke", \.revoke),
        ]
        for (k, kp) in map { if let v = o[k], !v.isEmpty { e[keyPath: kp] = v } }
        return e
    }

    /// The configured endpoints without flags: the environment, else the config file, else Google's.
    public static func configured(_ env: [String: String] = ProcessInfo.processInfo.environment) throws(PhotosAPIError) -> PhotosEndpoints? {
        if let e = fromEnvironment(env) { return e }
        return try fromConfigFile(configFilePath(env))
    }
}

/// OAuth scope URLs.
public enum PhotosScopes {
    /// Upload, create albums, add to app albums.
    public static let appendOnly = "https://www.googleapis.com/auth/photoslibrary.appendonly"
    /// Read app-created items and albums.
    public static let readAppCreated = "https://www.googleapis.com/auth/photoslibrary.readonly.appcreateddata"
    /// Edit app-created items and albums.
    public static let editAppCreated = "https://www.googleapis.com/auth/photoslibrary.edit.appcreateddata"
    /// The Picker API.
    public static let picker = "https://www.googleapis.com/auth/photospicker.mediaitems.readonly"
    /// The three Library scopes that remain after 31 March 2025, requested together.
    public static let library = [appendOnly, readAppCreated, editAppCreated]
    /// Scopes Google removed on 31 March 2025.
    public static let removed = [
        "https://www.googleapis.com/auth/photoslibrary",
        "https://www.googleapis.com/auth/photoslibrary.readonly",
        "https://www.googleapis.com/auth/photoslibrary.sharing",
    ]
    /// A short name for a scope URL.
    public static func shortName(_ scope: String) -> String {
        scope.replacingOccurrences(of: "https://www.googleapis.com/auth/", with: "")
    }
}
