// POST /emulator/v1/seed: put albums, app-created items and "user library" items (owned by no app) into the state.
import Crypto
import Foundation
import GRDB
import Hummingbird

extension Emulator {
    static let seedRoutes: [Route] = [
        Route(method: "POST", pattern: "/emulator/v1/seed", endpoint: "control.seed", kind: .control) { call in
            try call.emulator.seed(try call.jsonObject(), base: call.emulator.publicBase(call.request))
        },
    ]

    /// Seeds items and albums from a JSON request (see gphotos-emulator(1), "Control API").
    func seed(_ o: [String: JSONValue], base: String) throws -> Response {
        let allowed: Set<String> = ["userId", "mediaItems", "albums", "generate"]
        for k in o.keys where !allowed.contains(k) { throw APIError.invalid("seed: unknown member '\(k)' (userId, mediaItems, albums, generate)") }
        let user = o["userId"]?.string ?? Emulator.defaultUser
        try ensureUser(user)
        let now = clock.now()
        var specs = o["mediaItems"]?.array ?? []
        if let g = o["generate"]?.object {
            let n = g["count"]?.int ?? 0
            guard (0...100_000).contains(n) else { throw APIError.invalid("seed: generate.count must be 0...100000") }
            let client: JSONValue = g["clientId"] ?? .null
            for i in 0..<n {
                specs.append(.object(["clientId": client, "filename": .string(String(format: "IMG_%05d.jpg", i + 1)),
                                      "ref": .string("gen\(i)")]))
            }
            if let title = g["albumTitle"]?.string {
                var albums = o["albums"]?.array ?? []
                albums.append(.object(["title": .string(title), "clientId": client,
                                       "items": .array((0..<n).map { .string("gen\($0)") })]))
                return try seedApply(user: user, items: specs, albums: albums, now: now)
            }
        }
        return try seedApply(user: user, items: specs, albums: o["albums"]?.array ?? [], now: now)
    }

    private func seedApply(user: String, items: [JSONValue], albums: [JSONValue], now: Double) throws -> Response {
        var refs: [String: String] = [:]
        var outItems: [JSONValue] = []
        var outAlbums: [JSONValue] = []
        // Bytes are written outside the transaction.
        struct Pending { let id: String; let ref: String?; let filename: String; let row: [(any DatabaseValueConvertible)?]; let bytes: Data; let sha: String }
        var pending: [Pending] = []
        for (i, v) in items.enumerated() {
            guard let m = v.object else { throw APIError.invalid("seed: mediaItems[\(i)] is not an object") }
            let fields: Set<String> = ["ref", "clientId", "filename", "mimeType", "width", "height", "creationTime", "description",
                                       "cameraMake", "cameraModel", "archived", "favorite", "categories", "bytesBase64", "uploadTime", "id"]
            for k in m.keys where !fields.contains(k) { throw APIError.invalid("seed: mediaItems[\(i)] has unknown member '\(k)'") }
            let id = m["id"]?.string ?? Ids.object()
            guard Ids.plausible(id) else { throw APIError.invalid("seed: mediaItems[\(i)].id is not URL-safe") }
            let mime = m["mimeType"]?.string ?? "image/jpeg"
            let kind = mime.hasPrefix("video/") ? "video" : "photo"
            let width = m["width"]?.int ?? 640, height = m["height"]?.int ?? 480
            let bytes: Data
            if let b64 = m["bytesBase64"]?.string {
                guard let d = Data(base64Encoded: b64) else { throw APIError.invalid("seed: mediaItems[\(i)].bytesBase64 is not base64") }
                bytes = d
            } else {
                bytes = Emulator.syntheticJPEG(width: width, height: height, comment: "gphotos-emulator seed \(id)")
            }
            let sha = Data(SHA256.hash(data: bytes)).hexString
            var creation = now, captured = false
            if let s = m["creationTime"]?.string {
                guard let t = RFC3339.parse(s) else { throw APIError.invalid("seed: mediaItems[\(i)].creationTime is not RFC 3339") }
                creation = t; captured = true
            }
            var upload = now
            if let s = m["uploadTime"]?.string {
                guard let t = RFC3339.parse(s) else { throw APIError.invalid("seed: mediaItems[\(i)].uploadTime is not RFC 3339") }
                upload = t
            }
            let owner: String? = m["clientId"]?.string
            let filename = m["filename"]?.string ?? "IMG_\(i + 1).jpg"
            let cats = (m["categories"]?.array ?? []).compactMap(\.string).joined(separator: ",")
            let row: [(any DatabaseValueConvertible)?] = [
                id, user, owner, sha, bytes.count, ItemRecord.fullText(filename), mime, kind, m["description"]?.string ?? "", creation, captured ? 1 : 0,
                upload, width, height, m["cameraMake"]?.string, m["cameraModel"]?.string,
                (m["archived"]?.bool ?? false) ? 1 : 0, (m["favorite"]?.bool ?? false) ? 1 : 0, cats,
            ]
            pending.append(Pending(id: id, ref: m["ref"]?.string, filename: filename, row: row, bytes: bytes, sha: sha))
        }
        for p in pending {
            let url = store.contentURL(sha256: p.sha)
            if !FileManager.default.fileExists(atPath: url.path) { try p.bytes.write(to: url, options: .atomic) }
        }
        try store.db.write { db in
            for p in pending {
                try db.execute(sql: """
                    INSERT INTO media_items(id, user_id, owner_client, sha256, size, filename, mime_type, kind, description,
                        creation_time, has_capture_time, upload_time, width, height, camera_make, camera_model, archived, favorite, categories)
                    VALUES (?, ?, ?, ?, ?, CAST(? AS TEXT), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: StatementArguments(p.row.map { $0?.databaseValue ?? .null }))
                if let r = p.ref { refs[r] = p.id }
                var o: [String: JSONValue] = ["id": .string(p.id), "filename": .string(p.filename)]
                if let r = p.ref { o["ref"] = .string(r) }
                outItems.append(.object(o))
            }
            for (i, v) in albums.enumerated() {
                guard let a = v.object else { throw APIError.invalid("seed: albums[\(i)] is not an object") }
                for k in a.keys where !["title", "clientId", "items", "id"].contains(k) {
                    throw APIError.invalid("seed: albums[\(i)] has unknown member '\(k)'")
                }
                guard let title = a["title"]?.string, title.count <= 500 else {
                    throw APIError.invalid("seed: albums[\(i)].title is required (at most 500 characters)")
                }
                let id = a["id"]?.string ?? Ids.object()
                try db.execute(sql: "INSERT INTO albums(id, user_id, owner_client, title, created_at) VALUES (?, ?, ?, CAST(? AS TEXT), ?)",
                               arguments: [id, user, a["clientId"]?.string, ItemRecord.fullText(title), now])
                var members: [String] = []
                for ref in (a["items"]?.array ?? []).compactMap(\.string) {
                    guard let itemID = try refs[ref] ?? (String.fetchOne(db, sql: "SELECT id FROM media_items WHERE id = ?", arguments: [ref])) else {
                        throw APIError.invalid("seed: albums[\(i)].items names '\(ref)', which is neither a ref nor an item id")
                    }
                    members.append(itemID)
                }
                try appendToAlbum(db, albumID: id, itemIDs: members, addedBy: a["clientId"]?.string)
                outAlbums.append(.object(["id": .string(id), "title": .string(title)]))
            }
        }
        return HTTPOut.json(.object(["mediaItems": .array(outItems), "albums": .array(outAlbums)]))
    }

    /// A small structurally valid JPEG (SOI, JFIF, COM, SOF0 with the given size, EOI) unique by its comment.
    static func syntheticJPEG(width: Int, height: Int, comment: String) -> Data {
        var d = Data([0xFF, 0xD8])
        d += [0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]
        let c = Array(comment.utf8.prefix(60000))
        d += [0xFF, 0xFE, UInt8((c.count + 2) >> 8), UInt8((c.count + 2) & 0xFF)] + c
        let w = UInt16(clamping: width), h = UInt16(clamping: height)
        d += [0xFF, 0xC0, 0x00, 0x11, 0x08, UInt8(h >> 8), UInt8(h & 0xFF), UInt8(w >> 8), UInt8(w & 0xFF), 0x03,
              0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]
        d += [0xFF, 0xD9]
        return d
    }
}
