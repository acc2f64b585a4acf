// Picker API models (§8.1): note createTime, mediaFile.filename and integer width/height differ from the Library shape.
import Foundation

/// A picking session.
public struct PickingSession: Codable, Sendable, Equatable {
    /// Session id, used to poll the session and list its picked items.
    public var id: String
    /// URL to show the user (link or QR code).
    public var pickerUri: String
    /// Seconds between polls, while the user has not finished.
    public var pollInterval: Double?
    /// Seconds left to poll, while the user has not finished.
    public var timeoutIn: Double?
    /// When access to the session and its items ends.
    public var expireTime: Date?
    /// Maximum number of items the user may pick.
    public var maxItemCount: Int64
    /// True once the user has picked.
    public var mediaItemsSet: Bool

    enum CodingKeys: String, CodingKey { case id, pickerUri, pollingConfig, expireTime, pickingConfig, mediaItemsSet }
    private enum PollKeys: String, CodingKey { case pollInterval, timeoutIn }
    private enum PickKeys: String, CodingKey { case maxItemCount }

    /// Tolerant decoding.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = c.str(.id); pickerUri = c.str(.pickerUri); expireTime = c.date(.expireTime); mediaItemsSet = c.bool(.mediaItemsSet)
        if let p = try? c.nestedContainer(keyedBy: PollKeys.self, forKey: .pollingConfig) {
            pollInterval = p.duration(.pollInterval); timeoutIn = p.duration(.timeoutIn)
        }
        maxItemCount = (try? c.nestedContainer(keyedBy: PickKeys.self, forKey: .pickingConfig))?.int64(.maxItemCount) ?? 0
    }

    /// Encodes the fields a caller may persist.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id); try c.encode(pickerUri, forKey: .pickerUri)
        if let expireTime { try c.encode(RFC3339.format(expireTime), forKey: .expireTime) }
        try c.encode(mediaItemsSet, forKey: .mediaItemsSet)
    }
}

/// A picked item's file metadata; width and height are plain integers here.
public struct MediaFileMetadata: Codable, Sendable, Equatable {
    /// Pixel width.
    public var width: Int64
    /// Pixel height.
    public var height: Int64
    /// Camera brand ("" when absent).
    public var cameraMake: String
    /// Camera model ("" when absent).
    public var cameraModel: String
    /// Video processing status (videoMetadata.processingStatus), "" for photos.
    public var processingStatus: String
    /// Video frame rate (videoMetadata.fps), 0 for photos.
    public var fps: Double
    enum CodingKeys: String, CodingKey { case width, height, cameraMake, cameraModel, videoMetadata }
    private enum VKeys: String, CodingKey { case fps, processingStatus }
    /// Tolerant decoding.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        width = c.int64(.width); height = c.int64(.height); cameraMake = c.str(.cameraMake); cameraModel = c.str(.cameraModel)
        let v = try? c.nestedContainer(keyedBy: VKeys.self, forKey: .videoMetadata)
        processingStatus = v?.str(.processingStatus) ?? ""; fps = v?.double(.fps) ?? 0
    }
    /// Encodes the scalar fields.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(width, forKey: .width); try c.encode(height, forKey: .height)
    }
}

/// A picked item's file.
public struct MediaFile: Codable, Sendable, Equatable {
    /// Temporary base URL; downloads need the Bearer header.
    public var baseUrl: String
    /// MIME type of the file.
    public var mimeType: String
    /// The file's name (the Picker puts it here, not on the item).
    public var filename: String
    /// Dimensions and camera details; nil when absent.
    public var mediaFileMetadata: MediaFileMetadata?
    enum CodingKeys: String, CodingKey { case baseUrl, mimeType, filename, mediaFileMetadata }
    /// Tolerant decoding.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        baseUrl = c.str(.baseUrl); mimeType = c.str(.mimeType); filename = c.str(.filename)
        mediaFileMetadata = c.nested(MediaFileMetadata.self, .mediaFileMetadata)
    }
}

/// An item the user picked.
public struct PickedMediaItem: Codable, Sendable, Equatable {
    /// The picked item's id in the Picker API.
    public var id: String
    /// Capture time.
    public var createTime: Date?
    /// PHOTO, VIDEO or TYPE_UNSPECIFIED.
    public var type: String
    /// The file to download (base URL, MIME type, filename); nil when absent.
    public var mediaFile: MediaFile?
    enum CodingKeys: String, CodingKey { case id, createTime, type, mediaFile }
    /// Tolerant decoding.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = c.str(.id); createTime = c.date(.createTime); type = c.str(.type); mediaFile = c.nested(MediaFile.self, .mediaFile)
    }
}
