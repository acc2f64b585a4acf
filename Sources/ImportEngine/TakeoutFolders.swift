// Classifies Google Takeout folders by their (localized) names and Takeout JSON files by their content.
import Foundation

/// What a folder directly under the Takeout photos folder is.
public enum TakeoutFolderKind: Sendable, Equatable {
    /// "Photos from YYYY" and its translations.
    case year(Int)
    /// The trash ("Trash", "Papierkorb", …).
    case trash
    /// Archived items ("Archive", "Archiv", …).
    case archive
    /// "Locked Folder".
    case lockedFolder
    /// "Failed Videos": videos Google could not process.
    case failedVideos
    /// Anything else: an album or an auto-generated folder.
    case other
}

/// Recognizes the localized folder names of a Google Photos Takeout.
public enum TakeoutFolders {
    /// Year-folder prefixes: English (GPTH), Spanish and German (GPTH Neo), Italian.
    static let yearPrefixes = ["Photos from ", "Fotos del ", "Fotos von ", "Foto del "]
    /// Trash folder names: the reference's list, plus Portuguese, Dutch, Swedish and Turkish.
    static let trashNames: Set<String> = [
        "Trash", "Corbeille", "Papierkorb", "Papelera", "Cestino", "Kosz", "Корзина", "ゴミ箱",
        "Lixeira", "Prullenbak", "Papperskorg", "Çöp Kutusu",
    ]
    /// Archive folder names: English, German, Italian, Spanish, French, Russian.
    static let archiveNames: Set<String> = ["Archive", "Archiv", "Archivio", "Archivo", "Archives", "Архив"]
    /// Localized names of the "Google Photos" folder under "Takeout/".
    static let photosFolderNames: Set<String> = [
        "Google Photos", "Google Foto", "Google Fotos", "Fotky Google", "Google Фото", "Google Снимки",
        "Google Fotoğraflar", "Google Zdjęcia", "Google 포토", "Google フォト",
    ]

    /// Classifies a folder name: localized "Photos from YYYY", trash, archive, "Locked Folder", "Failed Videos" or other.
    public static func kind(ofFolder name: String) -> TakeoutFolderKind {
        let name = name.precomposedStringWithCanonicalMapping
        for prefix in yearPrefixes where name.hasPrefix(prefix) {
            let digits = name.dropFirst(prefix.count)
            if digits.count == 4, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let year = Int(digits) {
                return .year(year)
            }
        }
        if trashNames.contains(name) { return .trash }
        if archiveNames.contains(name) { return .archive }
        if name == "Locked Folder" { return .lockedFolder }
        if name == "Failed Videos" { return .failedVideos }
        return .other
    }

    /// True when `name` is a localized name of the Google Photos folder under "Takeout/".
    public static func isPhotosFolder(_ name: String) -> Bool {
        photosFolderNames.contains(name.precomposedStringWithCanonicalMapping)
    }
}

/// What a Takeout JSON file holds, classified by content, not by name (metadata.json's name is localized).
///
/// A sidecar has a `photoTakenTime` object (even with timestamp "0"), `imageViews`, a photo `url`,
/// or a `creationTime` with a file-name-like `title` (some sidecars carry only `creationTime`).
/// Otherwise an object with a string `title`, at the top or inside `albumData`, is an album (the title may be "").
public enum TakeoutJSON: Sendable, Equatable {
    /// A per-item sidecar.
    case sidecar(Sidecar)
    /// An album's metadata.
    case album(AlbumInfo)
    /// Anything else, including malformed JSON.
    case other

    /// Parses a JSON document (at most a few MB); malformed JSON → .other (never throws, never traps).
    public static func parse(_ data: Data) -> TakeoutJSON {
        guard let object = try? JSONSerialization.jsonObject(with: data), let root = object as? [String: Any] else {
            return .other
        }
        if isSidecar(root) { return .sidecar(Sidecar(root)) }
        if let album = AlbumInfo(root) { return .album(album) }
        return .other
    }

    /// True when a top-level JSON object looks like a per-item sidecar.
    static func isSidecar(_ root: [String: Any]) -> Bool {
        if root["photoTakenTime"] is [String: Any] || root["imageViews"] != nil { return true }
        if let url = root["url"] as? String, url.contains("/photo/") { return true }
        if root["creationTime"] is [String: Any], let title = root["title"] as? String {
            return TakeoutNames.splitExtension(title).ext != nil
        }
        return false
    }
}

/// The fields of a per-item sidecar that the import uses.
public struct Sidecar: Sendable, Equatable, Codable {
    /// The original upload file name.
    public var title: String?
    /// The item's description; nil when empty.
    public var description: String?
    /// Capture time, epoch seconds UTC (`photoTakenTime.timestamp`); nil when missing or 0.
    public var takenTime: Int64?
    /// Upload time, epoch seconds UTC (`creationTime.timestamp`); nil when missing or 0.
    public var creationTime: Int64?
    /// Latitude from `geoDataExif`, else `geoData`; nil when 0/0.
    public var latitude: Double?
    /// Longitude from the same source as `latitude`.
    public var longitude: Double?
    /// Altitude from the same source as `latitude`.
    public var altitude: Double?
    /// Marked as a favorite.
    public var favorited: Bool
    /// In the archive.
    public var archived: Bool
    /// In the trash.
    public var trashed: Bool

    /// Creates a sidecar value.
    public init(title: String? = nil, description: String? = nil, takenTime: Int64? = nil, creationTime: Int64? = nil,
                latitude: Double? = nil, longitude: Double? = nil, altitude: Double? = nil,
                favorited: Bool = false, archived: Bool = false, trashed: Bool = false) {
        self.title = title
        self.description = description
        self.takenTime = takenTime
        self.creationTime = creationTime
        self.latitude = latitude
        self.longitude = longitude
        self.altitude = altitude
        self.favorited = favorited
        self.archived = archived
        self.trashed = trashed
    }

    /// Reads the fields from a sidecar's top-level JSON object.
    init(_ root: [String: Any]) {
        let place = TakeoutJSON.Value.place(root["geoDataExif"]) ?? TakeoutJSON.Value.place(root["geoData"])
        self.init(title: root["title"] as? String, description: TakeoutJSON.Value.nonEmpty(root["description"]),
                  takenTime: TakeoutJSON.Value.timestamp(root["photoTakenTime"]), creationTime: TakeoutJSON.Value.timestamp(root["creationTime"]),
                  latitude: place?.latitude, longitude: place?.longitude, altitude: place?.altitude,
                  favorited: TakeoutJSON.Value.flag(root["favorited"]), archived: TakeoutJSON.Value.flag(root["archived"]),
                  trashed: TakeoutJSON.Value.flag(root["trashed"]))
    }
}

/// An album's metadata JSON (top level or wrapped in "albumData").
public struct AlbumInfo: Sendable, Equatable, Codable {
    /// The album title; "" for untitled albums.
    public var title: String
    /// The album description; nil when empty.
    public var description: String?
    /// `date.timestamp`, epoch seconds UTC; nil when missing or 0.
    public var date: Int64?

    /// Creates an album value.
    public init(title: String, description: String? = nil, date: Int64? = nil) {
        self.title = title
        self.description = description
        self.date = date
    }

    /// Reads an album from a top-level JSON object; nil without a string "title".
    init?(_ root: [String: Any]) {
        let album = root["albumData"] as? [String: Any] ?? root
        guard let title = album["title"] as? String else { return nil }
        self.init(title: title, description: TakeoutJSON.Value.nonEmpty(album["description"]), date: TakeoutJSON.Value.timestamp(album["date"]))
    }
}

extension TakeoutJSON {
    /// Lenient readers for JSONSerialization values, where Takeout writes numbers as strings or numbers.
    enum Value {
        /// A string, nil when absent or empty.
        static func nonEmpty(_ value: Any?) -> String? {
            guard let string = value as? String, !string.isEmpty else { return nil }
            return string
        }

        /// A finite number from a JSON number or numeric string.
        static func double(_ value: Any?) -> Double? {
            let number: Double? = switch value {
            case let string as String: Double(string.trimmingCharacters(in: .whitespaces))
            case let number as NSNumber: number.doubleValue
            default: nil
            }
            return number.flatMap { $0.isFinite ? $0 : nil }
        }

        /// An integer from a JSON number or numeric string, truncating fractions; nil when out of range.
        static func integer(_ value: Any?) -> Int64? {
            if let string = value as? String, let exact = Int64(string.trimmingCharacters(in: .whitespaces)) { return exact }
            if let number = value as? NSNumber, let exact = Int64(exactly: number) { return exact }
            return double(value).flatMap { Int64(exactly: $0.rounded(.towardZero)) }
        }

        /// `{"timestamp": …}` as epoch seconds; nil when missing, malformed or 0.
        static func timestamp(_ value: Any?) -> Int64? {
            guard let object = value as? [String: Any], let seconds = integer(object["timestamp"]), seconds != 0 else { return nil }
            return seconds
        }

        /// A geo object's coordinates; nil when missing or 0/0.
        static func place(_ value: Any?) -> (latitude: Double, longitude: Double, altitude: Double?)? {
            guard let object = value as? [String: Any], let latitude = double(object["latitude"]),
                  let longitude = double(object["longitude"]), latitude != 0 || longitude != 0 else { return nil }
            return (latitude, longitude, double(object["altitude"]))
        }

        /// A boolean from true/false, a number or "true"/"false"; false when absent.
        static func flag(_ value: Any?) -> Bool {
            switch value {
            case let string as String: string.lowercased() == "true"
            case let number as NSNumber: number.boolValue
            default: false
            }
        }
    }
}
