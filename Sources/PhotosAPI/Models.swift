// Library API models: Codable, decoded tolerantly (int64 as string or number, missing = default, unknown ignored).
import Foundation

/// An integer that may arrive as a JSON number or a string (proto3 int64).
struct FlexInt: Decodable {
    let value: Int
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let i = try? c.decode(Int.self) { value = i; return }
        if let d = try? c.decode(Double.self) { value = Int(d); return }
        if let s = try? c.decode(String.self), let i = Int(s.trimmingCharacters(in: .whitespaces)) { value = i; return }
        throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an integer")
    }
}

/// Parses RFC 3339 timestamps with or without fractional seconds.
enum RFC3339 {
    /// The Date for `text`, or nil.
    static func parse(_ text: String) -> Date? {
        if let d = try? Date(text, strategy: .iso8601) { return d }
        let frac = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        if let d = try? Date(text, strategy: frac) { return d }
        return nil
    }
    /// Formats `date` as RFC 3339 UTC with Z.
    static func format(_ date: Date) -> String { date.formatted(.iso8601) }
}

/// Parses proto3 Duration strings ("5s", "0.005s").
enum ProtoDuration {
    /// Seconds for `text`, or nil.
    static func parse(_ text: String) -> Double? {
        var t = text.trimmingCharacters(in: .whitespaces)
        if t.hasSuffix("s") { t.removeLast() }
        return Double(t)
    }
}

extension KeyedDecodingContainer {
    /// A string or "" when missing or mistyped.
    func str(_ k: Key) -> String { (try? decodeIfPresent(String.self, forKey: k)) ?? "" }
    /// An optional string.
    func optStr(_ k: Key) -> String? { (try? decodeIfPresent(String.self, forKey: k)) ?? nil }
    /// An int64 from a string or number, 0 when missing.
    func int64(_ k: Key) -> Int64 { Int64((try? decodeIfPresent(FlexInt.self, forKey: k))??.value ?? 0) }
    /// A bool, false when missing.
    func bool(_ k: Key) -> Bool { (try? decodeIfPresent(Bool.self, forKey: k)) ?? false }
    /// A double from a number or string, 0 when missing.
    func double(_ k: Key) -> Double {
        if let d = try? decodeIfPresent(Double.self, forKey: k) { return d }
        if let s = try? decodeIfPresent(String.self, forKey: k) { return Double(s) ?? 0 }
        return 0
    }
    /// An RFC 3339 timestamp or nil.
    func date(_ k: Key) -> Date? { optStr(k).flatMap(RFC3339.parse) }
    /// A Duration ("5s") in seconds or nil.
    func duration(_ k: Key) -> Double? { optStr(k).flatMap(ProtoDuration.parse) }
    /// A nested value decoded tolerantly, nil when missing or malformed.
    func nested<T: Decodable>(_ t: T.Type, _ k: Key) -> T? { (try? decodeIfPresent(T.self, forKey: k)) ?? nil }
    /// An array decoded tolerantly, [] when missing or malformed.
    func array<T: Decodable>(_ t: T.Type, _ k: Key) -> [T] { (try? decodeIfPresent([T].self, forKey: k)) ?? [] }
}

/// An album (§4.2).
public struct Album: Codable, Sendable, Equatable {
    /// Persistent id.
    public var id: String
    /// Title (≤ 500 chars).
    public var title: String
    /// Link into Google Photos.
    public var productUrl: String
    /// True iff this app can add items.
    public var isWriteable: Bool
    /// Number of media items (int64 string on the wire).
    public var mediaItemsCount: Int64
    /// Temporary cover base URL.
    public var coverPhotoBaseUrl: String
    /// Cover media item id.
    public var coverPhotoMediaItemId: String

    enum CodingKeys: String, CodingKey { case id, title, productUrl, isWriteable, mediaItemsCount, coverPhotoBaseUrl, coverPhotoMediaItemId }

    /// Creates an album value.
    public init(id: String = "", title: String = "", productUrl: String = "", isWriteable: Bool = false, mediaItemsCount: Int64 = 0,
                coverPhotoBaseUrl: String = "", coverPhotoMediaItemId: String = "") {
        self.id = id; self.title = title; self.productUrl = productUrl; self.isWriteable = isWriteable
        self.mediaItemsCount = mediaItemsCount; self.coverPhotoBaseUrl = coverPhotoBaseUrl; self.coverPhotoMediaItemId = coverPhotoMediaItemId
    }

    /// Tolerant decoding.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(id: c.str(.id), title: c.str(.title), productUrl: c.str(.productUrl), isWriteable: c.bool(.isWriteable),
                  mediaItemsCount: c.int64(.mediaItemsCount), coverPhotoBaseUrl: c.str(.coverPhotoBaseUrl),
                  coverPhotoMediaItemId: c.str(.coverPhotoMediaItemId))
    }
}

/// Photo metadata.
public struct PhotoMetadata: Codable, Sendable, Equatable {
    /// Camera brand ("" when absent).
    public var cameraMake: String
    /// Camera model ("" when absent).
    public var cameraModel: String
    /// Lens focal length in millimetres (0 when absent).
    public var focalLength: Double
    /// Aperture f-number (0 when absent).
    public var apertureFNumber: Double
    /// ISO sensitivity (0 when absent).
    public var isoEquivalent: Int64
    /// Exposure in seconds (from "0.005s").
    public var exposureTime: Double?
    enum CodingKeys: String, CodingKey { case cameraMake, cameraModel, focalLength, apertureFNumber, isoEquivalent, exposureTime }
    /// Tolerant decoding.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cameraMake = c.str(.cameraMake); cameraModel = c.str(.cameraModel); focalLength = c.double(.focalLength)
        apertureFNumber = c.double(.apertureFNumber); isoEquivalent = c.int64(.isoEquivalent); exposureTime = c.duration(.exposureTime)
    }
}

/// Video metadata.
public struct VideoMetadata: Codable, Sendable, Equatable {
    /// Camera brand ("" when absent).
    public var cameraMake: String
    /// Camera model ("" when absent).
    public var cameraModel: String
    /// Frame rate (0 when absent).
    public var fps: Double
    /// UNSPECIFIED, PROCESSING, READY or FAILED.
    public var status: String
    enum CodingKeys: String, CodingKey { case cameraMake, cameraModel, fps, status }
    /// Tolerant decoding.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cameraMake = c.str(.cameraMake); cameraModel = c.str(.cameraModel); fps = c.double(.fps); status = c.str(.status)
    }
}

/// A media item's metadata (§4.1).
public struct MediaMetadata: Codable, Sendable, Equatable {
    /// Capture time (EXIF) or upload time.
    public var creationTime: Date?
    /// Pixel width (int64 string on the wire).
    public var width: Int64
    /// Pixel height.
    public var height: Int64
    /// Present for photos.
    public var photo: PhotoMetadata?
    /// Present for videos.
    public var video: VideoMetadata?
    enum CodingKeys: String, CodingKey { case creationTime, width, height, photo, video }
    /// An empty metadata value.
    public init() { creationTime = nil; width = 0; height = 0; photo = nil; video = nil }
    /// Tolerant decoding.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        creationTime = c.date(.creationTime); width = c.int64(.width); height = c.int64(.height)
        photo = c.nested(PhotoMetadata.self, .photo); video = c.nested(VideoMetadata.self, .video)
    }
}

/// A Library API media item (§4.1).
public struct MediaItem: Codable, Sendable, Equatable {
    /// Persistent media item id.
    public var id: String
    /// The item's description (caption), "" when none.
    public var description: String
    /// Link to the item in the Google Photos web app (needs the user's login).
    public var productUrl: String
    /// Temporary (60 min) base URL; never persist it.
    public var baseUrl: String
    /// MIME type (e.g. image/jpeg, video/mp4).
    public var mimeType: String
    /// Filename as shown in Google Photos (the name it was uploaded with).
    public var filename: String
    /// Capture time, dimensions and photo or video details.
    public var mediaMetadata: MediaMetadata
    enum CodingKeys: String, CodingKey { case id, description, productUrl, baseUrl, mimeType, filename, mediaMetadata }
    /// Tolerant decoding.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = c.str(.id); description = c.str(.description); productUrl = c.str(.productUrl); baseUrl = c.str(.baseUrl)
        mimeType = c.str(.mimeType); filename = c.str(.filename)
        mediaMetadata = c.nested(MediaMetadata.self, .mediaMetadata) ?? MediaMetadata()
    }
    /// True for videos (by metadata or MIME type).
    public var isVideo: Bool { mediaMetadata.video != nil || mimeType.hasPrefix("video/") }
}

/// One page of a listing.
public struct Page<Element: Sendable>: Sendable {
    /// The items of this page (possibly none).
    public var items: [Element]
    /// The token for the next page; nil means this was the last page.
    public var nextPageToken: String?
}

/// A per-item result of mediaItems.batchGet.
public struct MediaItemResult: Decodable, Sendable, Equatable {
    /// The item, when it could be fetched.
    public var mediaItem: MediaItem?
    /// Why the item could not be fetched; nil or code 0 on success.
    public var status: GoogleStatus?
    enum CodingKeys: String, CodingKey { case mediaItem, status }
    /// Tolerant decoding.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mediaItem = c.nested(MediaItem.self, .mediaItem); status = c.nested(GoogleStatus.self, .status)
    }
}

/// A per-item result of mediaItems.batchCreate.
public struct NewMediaItemResult: Decodable, Sendable, Equatable {
    /// The upload token of the request item this result answers.
    public var uploadToken: String
    /// Per-item status; absent or code 0 is success.
    public var status: GoogleStatus
    /// The created item; nil when creation failed.
    public var mediaItem: MediaItem?
    enum CodingKeys: String, CodingKey { case uploadToken, status, mediaItem }
    /// Tolerant decoding.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        uploadToken = c.str(.uploadToken); status = c.nested(GoogleStatus.self, .status) ?? GoogleStatus()
        mediaItem = c.nested(MediaItem.self, .mediaItem)
    }
    /// True when the item was created.
    public var succeeded: Bool { status.isOK && mediaItem != nil }
    /// The per-item failure as the layer's error, or nil on success.
    public var error: PhotosAPIError? {
        succeeded ? nil : .api(endpoint: "mediaItems.batchCreate", httpStatus: 200, status: status)
    }
}

/// One item to create from an upload token.
public struct NewMediaItem: Sendable, Equatable {
    /// Token returned by the bytes upload (valid for a day).
    public var uploadToken: String
    /// Filename to show in Google Photos (simpleMediaItem.fileName); nil leaves Google's choice.
    public var fileName: String?
    /// Description (caption) to give the item; nil for none.
    public var description: String?
    /// Creates an item spec.
    public init(uploadToken: String, fileName: String? = nil, description: String? = nil) {
        self.uploadToken = uploadToken; self.fileName = fileName; self.description = description
    }
}

/// Where batchCreate places new items in the album.
public struct AlbumPosition: Sendable, Equatable, Encodable {
    /// FIRST_IN_ALBUM, LAST_IN_ALBUM, AFTER_MEDIA_ITEM or AFTER_ENRICHMENT_ITEM.
    public var position: String
    /// The media item to insert after (with AFTER_MEDIA_ITEM).
    public var relativeMediaItemId: String?
    /// The enrichment item to insert after (with AFTER_ENRICHMENT_ITEM).
    public var relativeEnrichmentItemId: String?
    /// Creates a position (FIRST_IN_ALBUM, LAST_IN_ALBUM, AFTER_MEDIA_ITEM, AFTER_ENRICHMENT_ITEM).
    public init(position: String, relativeMediaItemId: String? = nil, relativeEnrichmentItemId: String? = nil) {
        self.position = position; self.relativeMediaItemId = relativeMediaItemId; self.relativeEnrichmentItemId = relativeEnrichmentItemId
    }
}

/// mediaItems.search filters (a subset sufficient for the mount and sync).
public struct SearchFilters: Sendable, Equatable, Encodable {
    /// A calendar date; 0 = unspecified part.
    public struct DateValue: Sendable, Equatable, Encodable {
        /// Year (0 = any year), month 1-12 and day 1-31 (0 = unspecified).
        public var year: Int, month: Int, day: Int
        /// Creates a date.
        public init(year: Int, month: Int = 0, day: Int = 0) { self.year = year; self.month = month; self.day = day }
    }
    /// A date range.
    public struct DateRange: Sendable, Equatable, Encodable {
        /// First and last day of the range, both included.
        public var startDate: DateValue, endDate: DateValue
        /// Creates a range.
        public init(startDate: DateValue, endDate: DateValue) { self.startDate = startDate; self.endDate = endDate }
    }
    /// Days to match (at most 5); an item matching any date or range passes.
    public var dates: [DateValue] = []
    /// Date ranges to match (at most 5); an item matching any date or range passes.
    public var ranges: [DateRange] = []
    /// ALL_MEDIA, PHOTO or VIDEO.
    public var mediaType: String?
    /// Also return archived items (the API leaves them out by default).
    public var includeArchivedMedia: Bool = false
    /// Only items the user marked as favourite (featureFilter FAVORITES).
    public var favoritesOnly: Bool = false
    /// Creates empty filters.
    public init() {}

    enum CodingKeys: String, CodingKey { case dateFilter, mediaTypeFilter, featureFilter, includeArchivedMedia }
    /// Encodes the Filters JSON object.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        if !dates.isEmpty || !ranges.isEmpty {
            struct DF: Encodable { var dates: [DateValue]?; var ranges: [DateRange]? }
            try c.encode(DF(dates: dates.isEmpty ? nil : dates, ranges: ranges.isEmpty ? nil : ranges), forKey: .dateFilter)
        }
        if let mediaType { try c.encode(["mediaTypes": [mediaType]], forKey: .mediaTypeFilter) }
        if favoritesOnly { try c.encode(["includedFeatures": ["FAVORITES"]], forKey: .featureFilter) }
        if includeArchivedMedia { try c.encode(true, forKey: .includeArchivedMedia) }
    }
}
