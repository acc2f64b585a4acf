// Emulator knobs: every behaviour the API reference leaves unverified ([U]) is a setting here, with a default.
import Foundation

/// All tunable behaviour of the emulator; set by flags at start and at run time through the control API.
public struct EmulatorConfig: Codable, Sendable, Equatable {
    // Quotas (per project, per quota day).
    /// API requests a project may make per quota day (Google: 10,000).
    public var dailyAPIRequests: Int = 10_000
    /// Base-URL media fetches a project may make per quota day (Google: 75,000).
    public var dailyMediaRequests: Int = 75_000
    /// Write requests per user per minute before a transient 429 (0 = unlimited).
    public var writesPerMinute: Int = 0
    /// Hour offset from UTC of the quota day's midnight (Google: Pacific time, -8).
    public var quotaResetUTCOffsetHours: Int = -8

    // Uploads and items.
    /// Largest accepted photo in bytes (Google: 200 MB).
    public var maxPhotoBytes: Int64 = 200 * 1024 * 1024
    /// Largest accepted video in bytes (Google: 20 GB).
    public var maxVideoBytes: Int64 = 20 * 1024 * 1024 * 1024
    /// Resumable upload chunk granularity in bytes.
    public var chunkGranularity: Int = 262_144
    /// Seconds an upload token stays valid (Google: one day).
    public var uploadTokenTTL: Double = 86_400
    /// Whether an upload token can be used by one batchCreate only. [U]
    public var uploadTokenSingleUse: Bool = false
    /// Seconds a resumable upload session URL stays valid. [U]
    public var uploadSessionTTL: Double = 7 * 86_400
    /// Seconds a new video stays PROCESSING before READY.
    public var videoProcessingSeconds: Double = 5
    /// Whether batchCreate's returned mediaItem carries a baseUrl. [U]
    public var batchCreateReturnsBaseURL: Bool = false
    /// Whether an item deduplicated against a foreign or user-library copy shows in the caller's listings. [U]
    public var dedupForeignVisible: Bool = false
    /// Items an album may hold (Google: 20,000).
    public var maxAlbumItems: Int = 20_000
    /// Albums a user may have; 0 = unlimited. [U]
    public var maxAlbumsPerUser: Int = 0

    // Reads.
    /// What an oversized Library pageSize does: "coerce" to the maximum or "reject" with 400. [U]
    public var oversizedPageSize: String = "coerce"
    /// Every Nth page of a listing comes back short or empty but still carries nextPageToken (0 = never).
    public var shortPageEvery: Int = 0
    /// Whether a page token used with a different query is rejected with 400. [U]
    public var bindPageTokens: Bool = true
    /// How get/batchGet answer for a foreign or unknown id: "not-found" (404 / code 5) or "invalid-argument" (400 / code 3). [U]
    public var foreignIdError: String = "not-found"
    /// orderBy without a dateFilter: "ignore" or "reject". [U]
    public var orderByWithoutDateFilter: String = "reject"

    // Base URLs.
    /// Seconds a base URL stays valid (Google: 60 minutes).
    public var baseURLTTL: Double = 3600
    /// HTTP status for an expired or forged base URL: 403 or 404. [U]
    public var expiredBaseURLStatus: Int = 403
    /// Whether Library base URLs demand a Bearer token (picker base URLs always do). [U]
    public var libraryBaseURLNeedsAuth: Bool = false

    // OAuth.
    /// Seconds an access token lives (Google: 3599).
    public var accessTokenTTL: Double = 3599
    /// Seconds a refresh token lives for a client in Testing mode (Google: 7 days).
    public var testingRefreshTokenTTL: Double = 7 * 86_400
    /// Whether clients unknown to the emulator are registered at first use (otherwise 401 invalid_client).
    public var autoRegisterClients: Bool = true
    /// Whether the device flow accepts the Picker scope (Photos Library scopes are always refused). [U]
    public var deviceFlowAllowsPicker: Bool = false

    // Picker.
    /// Seconds a picker session lives. [U]
    public var pickerSessionTTL: Double = 7 * 86_400
    /// Live picker sessions a user may hold before 429. [U]
    public var maxPickerSessions: Int = 20

    public init() {}

    /// Checks every knob's range and spelling; the message names the knob.
    public func validate() throws(ConfigError) {
        func check(_ ok: Bool, _ name: String, _ why: String) throws(ConfigError) {
            if !ok { throw ConfigError(message: "\(name): \(why)") }
        }
        try check(dailyAPIRequests >= 0, "dailyAPIRequests", "must be 0 or more")
        try check(dailyMediaRequests >= 0, "dailyMediaRequests", "must be 0 or more")
        try check(writesPerMinute >= 0, "writesPerMinute", "must be 0 or more")
        try check((-12...14).contains(quotaResetUTCOffsetHours), "quotaResetUTCOffsetHours", "must be between -12 and 14")
        try check(maxPhotoBytes > 0 && maxVideoBytes > 0, "maxPhotoBytes/maxVideoBytes", "must be positive")
        try check(chunkGranularity > 0, "chunkGranularity", "must be positive")
        try check(uploadTokenTTL > 0 && uploadSessionTTL > 0 && baseURLTTL > 0 && accessTokenTTL > 0
                  && testingRefreshTokenTTL > 0 && pickerSessionTTL > 0, "TTLs", "every TTL must be positive")
        try check(videoProcessingSeconds >= 0, "videoProcessingSeconds", "must be 0 or more")
        try check(maxAlbumItems > 0, "maxAlbumItems", "must be positive")
        try check(maxAlbumsPerUser >= 0, "maxAlbumsPerUser", "must be 0 or more")
        try check(["coerce", "reject"].contains(oversizedPageSize), "oversizedPageSize", "must be coerce or reject")
        try check(shortPageEvery >= 0, "shortPageEvery", "must be 0 or more")
        try check(["not-found", "invalid-argument"].contains(foreignIdError), "foreignIdError", "must be not-found or invalid-argument")
        try check(["ignore", "reject"].contains(orderByWithoutDateFilter), "orderByWithoutDateFilter", "must be ignore or reject")
        try check([403, 404].contains(expiredBaseURLStatus), "expiredBaseURLStatus", "must be 403 or 404")
        try check(maxPickerSessions > 0, "maxPickerSessions", "must be positive")
    }

    /// Applies a partial JSON object of knobs on top of this config (unknown keys are an error).
    public func merging(json: Data) throws(ConfigError) -> EmulatorConfig {
        guard let patch = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw ConfigError(message: "knobs must be a JSON object")
        }
        let current = (try? JSONSerialization.jsonObject(with: JSONEncoder().encode(self)) as? [String: Any]) ?? [:]
        var merged = current
        for (key, value) in patch {
            guard current[key] != nil else { throw ConfigError(message: "unknown knob '\(key)'") }
            merged[key] = value
        }
        do {
            let data = try JSONSerialization.data(withJSONObject: merged)
            let config = try JSONDecoder().decode(EmulatorConfig.self, from: data)
            try config.validate()
            return config
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(message: "a knob has the wrong type: \(error)")
        }
    }
}

/// A knob with an invalid value or name.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    /// What is wrong, naming the knob.
    public let message: String
    public var description: String { message }
}

extension EmulatorConfig {
    /// One knob's name and meaning, for `gphotos-emulator knobs` and the man page.
    public struct KnobHelp: Sendable {
        /// The knob's JSON and flag name.
        public let name: String
        /// What it does.
        public let help: String
    }

    /// Every knob, in the order `knobs` prints them.
    public static let knobHelp: [KnobHelp] = [
        .init(name: "dailyAPIRequests", help: "API requests per project per quota day before 429 (Google: 10000)."),
        .init(name: "dailyMediaRequests", help: "Base-URL fetches per project per quota day before 429 (Google: 75000)."),
        .init(name: "writesPerMinute", help: "Write requests per user per minute before a transient 429 with Retry-After; 0 = off."),
        .init(name: "quotaResetUTCOffsetHours", help: "UTC offset of the quota day's midnight (Google: Pacific, -8)."),
        .init(name: "maxPhotoBytes", help: "Largest photo batchCreate accepts (Google: 200 MB)."),
        .init(name: "maxVideoBytes", help: "Largest upload accepted at all (Google: 20 GB for videos)."),
        .init(name: "chunkGranularity", help: "X-Goog-Upload-Chunk-Granularity of resumable uploads, in bytes."),
        .init(name: "uploadTokenTTL", help: "Seconds an upload token stays valid (Google: 86400)."),
        .init(name: "uploadTokenSingleUse", help: "Whether an upload token works for one batchCreate only. [U]"),
        .init(name: "uploadSessionTTL", help: "Seconds a resumable session URL stays valid. [U]"),
        .init(name: "videoProcessingSeconds", help: "Seconds a new video stays PROCESSING before READY."),
        .init(name: "batchCreateReturnsBaseURL", help: "Whether batchCreate's mediaItem includes a baseUrl. [U]"),
        .init(name: "dedupForeignVisible", help: "Whether an upload deduplicated against another app's or the user's item appears in this app's listings. [U]"),
        .init(name: "maxAlbumItems", help: "Items an album may hold (Google: 20000)."),
        .init(name: "maxAlbumsPerUser", help: "Albums a user may have; 0 = unlimited. [U]"),
        .init(name: "oversizedPageSize", help: "Library pageSize above the maximum: coerce or reject. [U]"),
        .init(name: "shortPageEvery", help: "Every Nth page of a listing is short or empty but keeps nextPageToken; 0 = never."),
        .init(name: "bindPageTokens", help: "Whether a page token reused with a different query is a 400. [U]"),
        .init(name: "foreignIdError", help: "get/batchGet of a foreign or unknown id: not-found (404, code 5) or invalid-argument (400, code 3). [U]"),
        .init(name: "orderByWithoutDateFilter", help: "search orderBy without a dateFilter: ignore or reject. [U]"),
        .init(name: "baseURLTTL", help: "Seconds a base URL stays valid (Google: 3600)."),
        .init(name: "expiredBaseURLStatus", help: "Status of an expired or forged base URL: 403 or 404. [U]"),
        .init(name: "libraryBaseURLNeedsAuth", help: "Whether Library base URLs require a Bearer token (Picker ones always do). [U]"),
        .init(name: "accessTokenTTL", help: "Seconds an access token lives (Google: 3599)."),
        .init(name: "testingRefreshTokenTTL", help: "Seconds a Testing-mode client's refresh token lives (Google: 7 days)."),
        .init(name: "autoRegisterClients", help: "Register unknown OAuth clients at first use instead of answering invalid_client."),
        .init(name: "deviceFlowAllowsPicker", help: "Whether /device/code accepts the Picker scope (Library scopes never). [U]"),
        .init(name: "pickerSessionTTL", help: "Seconds a picker session lives. [U]"),
        .init(name: "maxPickerSessions", help: "Live picker sessions per user before 429. [U]"),
    ]

    /// The JSON text of one knob's value.
    public func value(of name: String) -> String {
        guard let data = try? JSONEncoder().encode(self),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let v = obj[name] else { return "?" }
        if let s = v as? String { return s }
        return "\(v)"
    }

    /// This config with `NAME=VALUE` applied (the value parsed as JSON, else taken as a string).
    public func setting(_ assignment: String) throws(ConfigError) -> EmulatorConfig {
        let kv = assignment.split(separator: "=", maxSplits: 1).map(String.init)
        guard kv.count == 2 else { throw ConfigError(message: "knob '\(assignment)': expected NAME=VALUE") }
        let raw = kv[1]
        let valueJSON: String
        if let d = raw.data(using: .utf8), (try? JSONSerialization.jsonObject(with: d, options: [.fragmentsAllowed])) != nil {
            valueJSON = raw
        } else {
            let escaped = raw.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            valueJSON = "\"\(escaped)\""
        }
        let name = kv[0].replacingOccurrences(of: "\"", with: "")
        return try merging(json: Data("{\"\(name)\":\(valueJSON)}".utf8))
    }
}
