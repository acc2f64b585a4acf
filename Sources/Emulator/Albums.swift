// Library API albums methods (create, get, list, patch, batchAdd/batchRemove, addEnrichment) and the removed sharing ones.
import Foundation
import GRDB
import Hummingbird

extension Emulator {
    /// Scopes per method family (reference §2.1).
    static let readScopes: Set<String> = [Scope.readAppCreated]
    static let appendScopes: Set<String> = [Scope.appendOnly]
    static let appendOrEditScopes: Set<String> = [Scope.appendOnly, Scope.editAppCreated]
    static let editScopes: Set<String> = [Scope.editAppCreated]

    /// Every member of the `Album` message (known to the JSON front end, though only some are read).
    static let albumFields: Set<String> = ["id", "title", "productUrl", "isWriteable", "shareInfo", "mediaItemsCount",
                                           "coverPhotoBaseUrl", "coverPhotoMediaItemId"]

    static let albumRoutes: [Route] = [
        Route(method: "POST", pattern: "/v1/albums", endpoint: "albums.create", kind: .api(scopes: appendScopes, write: true)) {
            try $0.emulator.albumsCreate($0)
        },
        Route(method: "GET", pattern: "/v1/albums", endpoint: "albums.list", kind: .api(scopes: readScopes, write: false)) {
            try $0.emulator.albumsList($0)
        },
        Route(method: "GET", pattern: "/v1/albums/{albumId}", endpoint: "albums.get", kind: .api(scopes: readScopes, write: false)) {
            try $0.emulator.albumsGet($0)
        },
        Route(method: "PATCH", pattern: "/v1/albums/{albumId}", endpoint: "albums.patch", kind: .api(scopes: editScopes, write: true)) {
            try $0.emulator.albumsPatch($0)
        },
        Route(method: "POST", pattern: "/v1/albums/{albumId}:batchAddMediaItems", endpoint: "albums.batchAddMediaItems",
              kind: .api(scopes: appendOrEditScopes, write: true)) {
            try $0.emulator.albumsBatchAdd($0)
        },
        Route(method: "POST", pattern: "/v1/albums/{albumId}:batchRemoveMediaItems", endpoint: "albums.batchRemoveMediaItems",
              kind: .api(scopes: editScopes, write: true)) {
            try $0.emulator.albumsBatchRemove($0)
        },
        Route(method: "POST", pattern: "/v1/albums/{albumId}:addEnrichment", endpoint: "albums.addEnrichment",
              kind: .api(scopes: appendOrEditScopes, write: true)) {
            try $0.emulator.albumsAddEnrichment($0)
        },
        // Sharing was removed on 31 March 2025: these answer 403 PERMISSION_DENIED after authentication.
        Route(method: "POST", pattern: "/v1/albums/{albumId}:share", endpoint: "albums.share", kind: .removed) { _ in HTTPOut.empty },
        Route(method: "POST", pattern: "/v1/albums/{albumId}:unshare", endpoint: "albums.unshare", kind: .removed) { _ in HTTPOut.empty },
        Route(method: "GET", pattern: "/v1/sharedAlbums", endpoint: "sharedAlbums.list", kind: .removed) { _ in HTTPOut.empty },
        Route(method: "GET", pattern: "/v1/sharedAlbums/{shareToken}", endpoint: "sharedAlbums.get", kind: .removed) { _ in HTTPOut.empty },
        Route(method: "POST", pattern: "/v1/sharedAlbums:join", endpoint: "sharedAlbums.join", kind: .removed) { _ in HTTPOut.empty },
        Route(method: "POST", pattern: "/v1/sharedAlbums:leave", endpoint: "sharedAlbums.leave", kind: .removed) { _ in HTTPOut.empty },
    ]

    // MARK: Handlers

    /// albums.create: `{"album":{"title":…}}`; only the title is read.
    func albumsCreate(_ call: Call) throws -> Response {
        try call.checkQuery([])
        let me = try call.me
        let body = try JSONReader(call, try call.jsonObject(), path: "", allowed: ["album"])
        guard let album = try body.object("album", allowed: Emulator.albumFields) else {
            throw APIError.invalid("Request must contain an album.")
        }
        guard let title = try album.string("title"), !title.isEmpty else {
            throw APIError.invalid("Album title is required.")
        }
        guard title.count <= 500 else { throw APIError.invalid("Album title must be at most 500 characters.") }
        let limit = config.maxAlbumsPerUser
        let base = publicBase(call.request)
        let json = try store.db.write { db -> JSONValue in
            if limit > 0 {
                let n = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM albums WHERE user_id = ?", arguments: [me.userID]) ?? 0
                if n >= limit { throw APIError.invalid("The user has reached the maximum number of albums (\(limit)).") }
            }
            let id = Ids.object()
            try db.execute(sql: "INSERT INTO albums(id, user_id, owner_client, title, created_at) VALUES (?, ?, ?, CAST(? AS TEXT), ?)",
                           arguments: [id, me.userID, me.clientID, ItemRecord.fullText(title), clock.now()])
            guard let rec = try visibleAlbum(db, id: id, caller: me) else { throw APIError.internalError() }
            return try albumJSON(db, rec, caller: me, base: base)
        }
        return HTTPOut.json(json)
    }

    /// albums.get: the caller client's own albums only.
    func albumsGet(_ call: Call) throws -> Response {
        try call.checkQuery([])
        let me = try call.me
        let id = call.param("albumId")
        let base = publicBase(call.request)
        let json = try store.db.read { db -> JSONValue in
            let album = try ownAlbum(db, id: id, caller: me)
            return try albumJSON(db, album, caller: me, base: base)
        }
        return HTTPOut.json(json)
    }

    /// albums.list: the caller client's albums, in creation order.
    func albumsList(_ call: Call) throws -> Response {
        try call.checkQuery(["pageSize", "pageToken", "excludeNonAppCreatedData"])
        let me = try call.me
        _ = try call.queryBool("excludeNonAppCreatedData")
        let size = try pageSize(call.queryInt32("pageSize"), rule: .albums)
        let token = call.queryValue("pageToken")
        let base = publicBase(call.request)
        let json = try store.db.read { db -> JSONValue in
            let ids = try String.fetchAll(db, sql: "SELECT id FROM albums WHERE user_id = ? AND owner_client = ? ORDER BY seq",
                                          arguments: [me.userID, me.clientID])
            let page = try paginate(ids, size: size, token: token, queryKey: "albums.list")
            var out: [String: JSONValue] = [:]
            var albums: [JSONValue] = []
            for id in page.items {
                if let a = try visibleAlbum(db, id: id, caller: me) { albums.append(try albumJSON(db, a, caller: me, base: base)) }
            }
            if !albums.isEmpty { out["albums"] = .array(albums) }
            if let t = page.nextPageToken { out["nextPageToken"] = .string(t) }
            return .object(out)
        }
        return HTTPOut.json(json)
    }

    /// albums.patch: `updateMask` of `title` and/or `coverPhotoMediaItemId`; the body is an Album.
    func albumsPatch(_ call: Call) throws -> Response {
        try call.checkQuery(["updateMask"])
        let me = try call.me
        let id = call.param("albumId")
        let mask = try call.updateMask(allowed: ["title": "title", "coverPhotoMediaItemId": "cover", "cover_photo_media_item_id": "cover"])
        let body = try JSONReader(call, try call.jsonObject(), path: "", allowed: Emulator.albumFields)
        var newTitle: String?
        var newCover: String?
        if mask.contains("title") {
            guard let t = try body.string("title"), !t.isEmpty else { throw APIError.invalid("Album title is required.") }
            guard t.count <= 500 else { throw APIError.invalid("Album title must be at most 500 characters.") }
            newTitle = t
        }
        if mask.contains("cover") {
            guard let c = try body.string("coverPhotoMediaItemId"), !c.isEmpty else {
                throw APIError.invalid("Request contains an invalid media item id.")
            }
            newCover = c
        }
        let base = publicBase(call.request)
        let json = try store.db.write { db -> JSONValue in
            let album = try ownAlbum(db, id: id, caller: me)
            if let c = newCover {
                let member = try Bool.fetchOne(db, sql: "SELECT 1 FROM album_items WHERE album_id = ? AND item_id = ?",
                                               arguments: [album.id, c]) ?? false
                guard member else { throw APIError.invalid("Request contains an invalid media item id.") }
                try db.execute(sql: "UPDATE albums SET cover_item_id = ? WHERE id = ?", arguments: [c, album.id])
            }
            if let t = newTitle {
                try db.execute(sql: "UPDATE albums SET title = CAST(? AS TEXT) WHERE id = ?", arguments: [ItemRecord.fullText(t), album.id])
            }
            guard let rec = try visibleAlbum(db, id: album.id, caller: me) else { throw APIError.internalError() }
            return try albumJSON(db, rec, caller: me, base: base)
        }
        return HTTPOut.json(json)
    }

    /// albums.batchAddMediaItems: 1..50 of the caller's own items, appended in order, all or nothing.
    func albumsBatchAdd(_ call: Call) throws -> Response {
        try call.checkQuery([])
        let me = try call.me
        let albumID = call.param("albumId")
        let body = try JSONReader(call, try call.jsonObject(), path: "", allowed: ["mediaItemIds"])
        let ids = try body.stringArray("mediaItemIds") ?? []
        guard !ids.isEmpty else { throw APIError.invalid("Request must contain at least one media item id.") }
        guard ids.count <= 50 else { throw APIError.invalid("Request must have less than 50 items.") }
        let maxItems = config.maxAlbumItems
        try store.db.write { db in
            let album = try writableAlbum(db, id: albumID, caller: me, verb: "add media items to")
            for id in ids {
                guard try ownItem(db, id: id, caller: me) else { throw APIError.invalid("Request contains an invalid media item id.") }
            }
            var seen = Set<String>()
            let fresh = try ids.filter { id in
                guard seen.insert(id).inserted else { return false }
                return try !(Bool.fetchOne(db, sql: "SELECT 1 FROM album_items WHERE album_id = ? AND item_id = ?",
                                           arguments: [album.id, id]) ?? false)
            }
            if try albumCount(db, albumID: album.id) + fresh.count > maxItems {
                throw APIError.invalid("The album would exceed its limit of \(maxItems) media items.")
            }
            try appendToAlbum(db, albumID: album.id, itemIDs: fresh, addedBy: me.clientID)
        }
        return HTTPOut.empty
    }

    /// albums.batchRemoveMediaItems: 1..50 distinct members that the caller created; membership only, all or nothing.
    func albumsBatchRemove(_ call: Call) throws -> Response {
        try call.checkQuery([])
        let me = try call.me
        let albumID = call.param("albumId")
        let body = try JSONReader(call, try call.jsonObject(), path: "", allowed: ["mediaItemIds"])
        let ids = try body.stringArray("mediaItemIds") ?? []
        guard !ids.isEmpty else { throw APIError.invalid("Request must contain at least one media item id.") }
        guard ids.count <= 50 else { throw APIError.invalid("Request must have less than 50 items.") }
        guard Set(ids).count == ids.count else { throw APIError.invalid("Request contains duplicate media item ids.") }
        try store.db.write { db in
            let album = try writableAlbum(db, id: albumID, caller: me, verb: "remove media items from")
            for id in ids {
                let member = try Bool.fetchOne(db, sql: "SELECT 1 FROM album_items WHERE album_id = ? AND item_id = ?",
                                               arguments: [album.id, id]) ?? false
                guard member, try ownItem(db, id: id, caller: me) else {
                    throw APIError.invalid("Request contains an invalid media item id.")
                }
            }
            for id in ids {
                try db.execute(sql: "DELETE FROM album_items WHERE album_id = ? AND item_id = ?", arguments: [album.id, id])
            }
            if let cover = album.coverItemID, ids.contains(cover) {
                try db.execute(sql: "UPDATE albums SET cover_item_id = NULL WHERE id = ?", arguments: [album.id])
            }
        }
        return HTTPOut.empty
    }

    /// albums.addEnrichment: one text, location or map enrichment at an album position.
    func albumsAddEnrichment(_ call: Call) throws -> Response {
        try call.checkQuery([])
        let me = try call.me
        let albumID = call.param("albumId")
        let body = try JSONReader(call, try call.jsonObject(), path: "", allowed: ["newEnrichmentItem", "albumPosition"])
        guard let item = try body.object("newEnrichmentItem", allowed: ["textEnrichment", "locationEnrichment", "mapEnrichment"]) else {
            throw APIError.invalid("Request must contain a new enrichment item.")
        }
        let kinds = ["textEnrichment", "locationEnrichment", "mapEnrichment"].filter { item.has($0) }
        guard kinds.count == 1 else { throw APIError.invalid("The enrichment item must have exactly one of text, location or map enrichment.") }
        if let t = try item.object("textEnrichment", allowed: ["text"]) {
            guard let text = try t.string("text"), !text.isEmpty else { throw APIError.invalid("Text enrichment must have text.") }
            guard text.count <= 1000 else { throw APIError.invalid("Text enrichment must be at most 1000 characters.") }
        }
        if let l = try item.object("locationEnrichment", allowed: ["location"]) {
            guard let loc = try l.object("location", allowed: ["locationName", "latlng"]) else {
                throw APIError.invalid("Location enrichment must have a location.")
            }
            try Emulator.checkLocation(loc)
        }
        if let m = try item.object("mapEnrichment", allowed: ["origin", "destination"]) {
            guard let o = try m.object("origin", allowed: ["locationName", "latlng"]),
                  let d = try m.object("destination", allowed: ["locationName", "latlng"]) else {
                throw APIError.invalid("Map enrichment must have an origin and a destination.")
            }
            try Emulator.checkLocation(o)
            try Emulator.checkLocation(d)
        }
        guard let pos = try body.object("albumPosition", allowed: ["position", "relativeMediaItemId", "relativeEnrichmentItemId"]) else {
            throw APIError.invalid("Request must contain an album position.")
        }
        let position = try pos.enumValue("position", type: "AlbumPosition.PositionType",
                                         values: ["POSITION_TYPE_UNSPECIFIED", "FIRST_IN_ALBUM", "LAST_IN_ALBUM",
                                                  "AFTER_MEDIA_ITEM", "AFTER_ENRICHMENT_ITEM"]) ?? "POSITION_TYPE_UNSPECIFIED"
        let relItem = try pos.string("relativeMediaItemId")
        let relEnrichment = try pos.string("relativeEnrichmentItemId")
        let stored = (call.jsonObjectOrEmpty()["newEnrichmentItem"] ?? .object([:])).serialized()
        let id = Ids.object()
        try store.db.write { db in
            let album = try writableAlbum(db, id: albumID, caller: me, verb: "add enrichments to")
            let allPositions = try Double.fetchAll(db, sql: """
                SELECT position FROM album_items WHERE album_id = ? UNION ALL SELECT position FROM enrichments WHERE album_id = ?
                ORDER BY position
                """, arguments: [album.id, album.id])
            func after(_ p: Double) -> Double {
                if let next = allPositions.first(where: { $0 > p }) { return (p + next) / 2 }
                return p + 1
            }
            let at: Double
            switch position {
            case "FIRST_IN_ALBUM":
                guard relItem == nil, relEnrichment == nil else { throw APIError.invalid("Relative ids are only allowed with AFTER_ positions.") }
                at = (allPositions.first ?? 1) - 1
            case "LAST_IN_ALBUM":
                guard relItem == nil, relEnrichment == nil else { throw APIError.invalid("Relative ids are only allowed with AFTER_ positions.") }
                at = (allPositions.last ?? 0) + 1
            case "AFTER_MEDIA_ITEM":
                guard let r = relItem, relEnrichment == nil,
                      let p = try Double.fetchOne(db, sql: "SELECT position FROM album_items WHERE album_id = ? AND item_id = ?",
                                                  arguments: [album.id, r]) else {
                    throw APIError.invalid("Request contains an invalid media item id.")
                }
                at = after(p)
            case "AFTER_ENRICHMENT_ITEM":
                guard let r = relEnrichment, relItem == nil,
                      let p = try Double.fetchOne(db, sql: "SELECT position FROM enrichments WHERE album_id = ? AND id = ?",
                                                  arguments: [album.id, r]) else {
                    throw APIError.invalid("Request contains an invalid enrichment item id.")
                }
                at = after(p)
            default:
                throw APIError.invalid("Album position must be specified.")
            }
            try db.execute(sql: "INSERT INTO enrichments(id, album_id, body, position) VALUES (?, ?, ?, ?)",
                           arguments: [id, album.id, String(decoding: stored, as: UTF8.self), at])
        }
        return HTTPOut.json(.object(["enrichmentItem": .object(["id": .string(id)])]))
    }

    /// Validates a `Location` (name and/or latlng within range).
    static func checkLocation(_ loc: JSONReader) throws(APIError) {
        _ = try loc.string("locationName")
        if let ll = try loc.object("latlng", allowed: ["latitude", "longitude"]) {
            let lat = try ll.double("latitude") ?? 0, lng = try ll.double("longitude") ?? 0
            guard (-90...90).contains(lat), (-180...180).contains(lng) else {
                throw APIError.invalid("Latitude must be in [-90, 90] and longitude in [-180, 180].")
            }
        }
    }

    // MARK: Ownership helpers

    /// The error for a foreign or unknown id, per the `foreignIdError` knob.
    func foreignIdError() -> APIError {
        config.foreignIdError == "not-found" ? .notFound() : .invalid("Request contains an invalid argument.")
    }

    /// The caller client's own album, or the foreign-id error.
    func ownAlbum(_ db: Database, id: String, caller: Caller) throws -> AlbumRecord {
        guard Ids.plausible(id), let a = try visibleAlbum(db, id: id, caller: caller) else { throw foreignIdError() }
        return a
    }

    /// An album the caller may change: its own. A foreign album of the same user is "No permission…"; unknown is not found.
    func writableAlbum(_ db: Database, id: String, caller: Caller, verb: String) throws -> AlbumRecord {
        guard Ids.plausible(id) else { throw foreignIdError() }
        if let a = try visibleAlbum(db, id: id, caller: caller) { return a }
        let exists = try Bool.fetchOne(db, sql: "SELECT 1 FROM albums WHERE id = ? AND user_id = ?", arguments: [id, caller.userID]) ?? false
        if exists { throw APIError.invalid("No permission to \(verb) this album.") }
        throw foreignIdError()
    }

    /// Whether `id` is an item this caller's client created (visibility through deduplication does not count).
    func ownItem(_ db: Database, id: String, caller: Caller) throws -> Bool {
        guard Ids.plausible(id) else { return false }
        return try Bool.fetchOne(db, sql: "SELECT 1 FROM media_items WHERE id = ? AND user_id = ? AND owner_client = ?",
                                 arguments: [id, caller.userID, caller.clientID]) ?? false
    }
}

// MARK: Request reading shared by the albums and mediaItems handlers

extension Call {
    /// Query parameters every Google API accepts.
    static let standardQuery: Set<String> = ["access_token", "alt", "callback", "fields", "key", "oauth_token", "prettyPrint",
                                             "quotaUser", "upload_protocol", "uploadType", "$.xgafv"]

    /// Rejects query parameters the method does not have, as Google's front end does. Accepts snake_case names too.
    func checkQuery(_ allowed: Set<String>) throws(APIError) {
        for (name, _) in query.pairs where !Call.standardQuery.contains(name) && !allowed.contains(Call.camel(name)) {
            let shown = name.count > 100 ? String(name.prefix(100)) + "…" : name
            throw .invalid("Invalid JSON payload received. Unknown name \"\(shown)\": Cannot bind query parameter. Field '\(shown)' could not be found in request message.")
        }
    }

    /// A query value by camelCase name, also found under its snake_case name.
    func queryValue(_ name: String) -> String? {
        query.pairs.first { Call.camel($0.0) == name }?.1
    }

    /// An int32 query parameter, or Google's 400 for a non-number.
    func queryInt32(_ name: String) throws(APIError) -> Int? {
        guard let v = queryValue(name) else { return nil }
        guard let n = Int32(v.trimmingCharacters(in: .whitespaces)) else {
            throw .invalid("Invalid value at '\(Call.snake(name))' (TYPE_INT32), \"\(v.prefix(100))\"")
        }
        return Int(n)
    }

    /// A bool query parameter, or Google's 400 for anything but true/false.
    func queryBool(_ name: String) throws(APIError) -> Bool? {
        guard let v = queryValue(name) else { return nil }
        switch v.lowercased() {
        case "true", "1": return true
        case "false", "0", "": return false
        default: throw .invalid("Invalid value at '\(Call.snake(name))' (TYPE_BOOL), \"\(v.prefix(100))\"")
        }
    }

    /// The `updateMask` query parameter resolved through `allowed` (path → canonical name); missing or bad paths are 400.
    func updateMask(allowed: [String: String]) throws(APIError) -> Set<String> {
        guard let raw = queryValue("updateMask") else { throw .invalid("Request must have an update mask (updateMask).") }
        let paths = raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !paths.isEmpty else { throw .invalid("Request must have an update mask (updateMask).") }
        var out = Set<String>()
        for p in paths {
            guard let c = allowed[p] else {
                throw .invalid("Invalid update mask path: \"\(p.prefix(100))\". Allowed: \(Set(allowed.keys).sorted().joined(separator: ", ")).")
            }
            out.insert(c)
        }
        return out
    }

    /// The body as an object, or `[:]` when it is not one (for re-reading an already validated body).
    func jsonObjectOrEmpty() -> [String: JSONValue] { (try? jsonObject()) ?? [:] }

    /// snake_case → camelCase (`page_size` → `pageSize`).
    static func camel(_ s: String) -> String {
        guard s.contains("_") else { return s }
        var out = ""
        var up = false
        for ch in s {
            if ch == "_" { up = true; continue }
            if up { out += ch.uppercased() } else { out.append(ch) }
            up = false
        }
        return out
    }

    /// camelCase → snake_case, the form Google's errors name fields in.
    static func snake(_ s: String) -> String {
        var out = ""
        for ch in s {
            if ch.isUppercase { out += "_" + ch.lowercased() } else { out.append(ch) }
        }
        return out
    }
}

/// Typed reads of one JSON request object, failing the way Google's JSON front end does (unknown names, wrong types).
struct JSONReader: Sendable {
    /// The object's members.
    let members: [String: JSONValue]
    /// snake_case path of this object for error messages, e.g. `filters.date_filter`; empty at the top.
    let path: String

    /// Wraps `object`, rejecting members outside `allowed`.
    init(_ call: Call, _ object: [String: JSONValue], path: String, allowed: Set<String>) throws(APIError) {
        try call.onlyFields(object, allowed, in: path)
        self.members = object
        self.path = path
        self.call = call
    }

    private let call: Call

    private func at(_ key: String) -> String { path.isEmpty ? Call.snake(key) : path + "." + Call.snake(key) }

    private func bad(_ key: String, _ type: String, _ v: JSONValue) -> APIError {
        var text = String(decoding: v.serialized(), as: UTF8.self)
        if text.count > 100 { text = String(text.prefix(100)) + "…" }
        return .invalid("Invalid JSON payload received. Invalid value at '\(at(key))' (\(type)), \(text)")
    }

    /// Whether a non-null member is present.
    func has(_ key: String) -> Bool {
        if let v = members[key], v != .null { return true }
        return false
    }

    /// A string member (absent or null is nil).
    func string(_ key: String) throws(APIError) -> String? {
        guard let v = members[key], v != .null else { return nil }
        guard case .string(let s) = v else { throw bad(key, "TYPE_STRING", v) }
        return s
    }

    /// A bool member.
    func bool(_ key: String) throws(APIError) -> Bool? {
        guard let v = members[key], v != .null else { return nil }
        guard case .bool(let b) = v else { throw bad(key, "TYPE_BOOL", v) }
        return b
    }

    /// An int32 member, given as a number or a decimal string.
    func int32(_ key: String) throws(APIError) -> Int? {
        guard let v = members[key], v != .null else { return nil }
        guard let n = v.int, n >= Int(Int32.min), n <= Int(Int32.max) else { throw bad(key, "TYPE_INT32", v) }
        return n
    }

    /// A double member.
    func double(_ key: String) throws(APIError) -> Double? {
        guard let v = members[key], v != .null else { return nil }
        switch v {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .string(let s): if let d = Double(s) { return d }
        default: break
        }
        throw bad(key, "TYPE_DOUBLE", v)
    }

    /// A nested message, with its own allowed members.
    func object(_ key: String, allowed: Set<String>) throws(APIError) -> JSONReader? {
        guard let v = members[key], v != .null else { return nil }
        guard case .object(let o) = v else { throw bad(key, "TYPE_MESSAGE", v) }
        return try JSONReader(call, o, path: at(key), allowed: allowed)
    }

    /// A repeated member's raw elements.
    func array(_ key: String, elementType: String) throws(APIError) -> [JSONValue]? {
        guard let v = members[key], v != .null else { return nil }
        guard case .array(let a) = v else { throw bad(key, elementType, v) }
        return a
    }

    /// A repeated string member.
    func stringArray(_ key: String) throws(APIError) -> [String]? {
        guard let a = try array(key, elementType: "TYPE_STRING") else { return nil }
        var out: [String] = []
        for (i, e) in a.enumerated() {
            guard case .string(let s) = e else { throw bad("\(key)[\(i)]", "TYPE_STRING", e) }
            out.append(s)
        }
        return out
    }

    /// A repeated message member, each element checked against `allowed`.
    func objectArray(_ key: String, allowed: Set<String>) throws(APIError) -> [JSONReader]? {
        guard let a = try array(key, elementType: "TYPE_MESSAGE") else { return nil }
        var out: [JSONReader] = []
        for (i, e) in a.enumerated() {
            guard case .object(let o) = e else { throw bad("\(key)[\(i)]", "TYPE_MESSAGE", e) }
            out.append(try JSONReader(call, o, path: at(key) + "[\(i)]", allowed: allowed))
        }
        return out
    }

    /// An enum member given by name, checked against `values`.
    func enumValue(_ key: String, type: String, values: [String]) throws(APIError) -> String? {
        guard let s = try string(key) else { return nil }
        guard values.contains(s) else { throw bad(key, "type.googleapis.com/google.photos.library.v1.\(type)", .string(s)) }
        return s
    }

    /// A repeated enum member, each checked against `values`.
    func enumArray(_ key: String, type: String, values: [String]) throws(APIError) -> [String]? {
        guard let a = try stringArray(key) else { return nil }
        for (i, s) in a.enumerated() where !values.contains(s) {
            throw bad("\(key)[\(i)]", "type.googleapis.com/google.photos.library.v1.\(type)", .string(s))
        }
        return a
    }
}
