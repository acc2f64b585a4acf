// Library API mediaItems methods: get, batchGet, list, search (with filter validation) and patch.
import Foundation
import GRDB
import Hummingbird

extension Emulator {
    /// Every member of the `MediaItem` message (known to the JSON front end, though patch reads only the description).
    static let mediaItemFields: Set<String> = ["id", "description", "productUrl", "baseUrl", "mimeType", "mediaMetadata",
                                               "contributorInfo", "filename"]

    static let mediaItemRoutes: [Route] = [
        Route(method: "GET", pattern: "/v1/mediaItems", endpoint: "mediaItems.list", kind: .api(scopes: readScopes, write: false)) {
            try $0.emulator.mediaItemsList($0)
        },
        Route(method: "GET", pattern: "/v1/mediaItems:batchGet", endpoint: "mediaItems.batchGet",
              kind: .api(scopes: readScopes, write: false)) {
            try $0.emulator.mediaItemsBatchGet($0)
        },
        Route(method: "POST", pattern: "/v1/mediaItems:search", endpoint: "mediaItems.search",
              kind: .api(scopes: readScopes, write: false)) {
            try $0.emulator.mediaItemsSearch($0)
        },
        Route(method: "GET", pattern: "/v1/mediaItems/{mediaItemId}", endpoint: "mediaItems.get",
              kind: .api(scopes: readScopes, write: false)) {
            try $0.emulator.mediaItemsGet($0)
        },
        Route(method: "PATCH", pattern: "/v1/mediaItems/{mediaItemId}", endpoint: "mediaItems.patch",
              kind: .api(scopes: editScopes, write: true)) {
            try $0.emulator.mediaItemsPatch($0)
        },
    ]

    // MARK: Handlers

    /// mediaItems.get: an item the caller may see.
    func mediaItemsGet(_ call: Call) throws -> Response {
        try call.checkQuery([])
        let me = try call.me
        let id = call.param("mediaItemId")
        let base = publicBase(call.request)
        let item = try store.db.read { db -> ItemRecord? in
            guard Ids.plausible(id) else { return nil }
            return try visibleItem(db, id: id, caller: me)
        }
        guard let item else { throw foreignIdError() }
        return HTTPOut.json(mediaItemJSON(item, caller: me, base: base))
    }

    /// mediaItems.batchGet: 1..50 distinct ids (repeated `mediaItemIds`), one result per id in request order.
    func mediaItemsBatchGet(_ call: Call) throws -> Response {
        try call.checkQuery(["mediaItemIds"])
        let me = try call.me
        let ids = call.query.pairs.filter { Call.camel($0.0) == "mediaItemIds" }.map(\.1)
        guard !ids.isEmpty else { throw APIError.invalid("Request must contain at least one media item id.") }
        guard ids.count <= 50 else { throw APIError.invalid("Request must have at most 50 media item ids.") }
        guard Set(ids).count == ids.count else { throw APIError.invalid("Request contains duplicate media item ids.") }
        let base = publicBase(call.request)
        let missing = config.foreignIdError == "not-found"
            ? RPCStatus(code: 5, message: "Requested entity was not found.")
            : RPCStatus(code: 3, message: "Invalid media item ID.")
        let results = try store.db.read { db -> [JSONValue] in
            try ids.map { id -> JSONValue in
                if Ids.plausible(id), let item = try visibleItem(db, id: id, caller: me) {
                    return .object(["mediaItem": mediaItemJSON(item, caller: me, base: base)])
                }
                return .object(["status": missing.json])
            }
        }
        return HTTPOut.json(.object(["mediaItemResults": .array(results)]))
    }

    /// mediaItems.list: every item the caller may see, newest first, archived ones left out.
    func mediaItemsList(_ call: Call) throws -> Response {
        try call.checkQuery(["pageSize", "pageToken"])
        let me = try call.me
        let size = try pageSize(call.queryInt32("pageSize"), rule: .mediaItems)
        let token = call.queryValue("pageToken")
        let base = publicBase(call.request)
        let page = try store.db.read { db -> Page<ItemRecord> in
            try itemPage(db, ids: paginate(size: size, token: token, queryKey: "mediaItems.list") { offset, limit in
                try String.fetchAll(db, sql: """
                    SELECT m.id FROM media_items m WHERE m.user_id = ? AND m.archived = 0 AND \(Emulator.visibleItemSQL)
                    ORDER BY m.creation_time DESC, m.seq DESC LIMIT ? OFFSET ?
                    """, arguments: [me.userID, me.clientID, me.clientID, limit, offset])
            })
        }
        return HTTPOut.json(itemPageJSON(page, caller: me, base: base, albumID: nil))
    }

    /// mediaItems.search: an album's items in album order, or the caller's items through filters.
    func mediaItemsSearch(_ call: Call) throws -> Response {
        try call.checkQuery([])
        let me = try call.me
        let body = try JSONReader(call, try call.jsonObject(), path: "",
                                  allowed: ["albumId", "pageSize", "pageToken", "filters", "orderBy"])
        let albumID = try body.string("albumId").flatMap { $0.isEmpty ? nil : $0 }
        let size = try pageSize(body.int32("pageSize"), rule: .mediaItems)
        let token = try body.string("pageToken")
        if albumID != nil && body.has("filters") {
            throw APIError.invalid("Album ID and filters cannot both be set in a search request.")
        }
        let filter = try SearchFilter(body.object("filters", allowed: SearchFilter.fields))
        var ascending = false
        if let raw = try body.string("orderBy"), !raw.trimmingCharacters(in: .whitespaces).isEmpty {
            let words = raw.split(separator: " ").map(String.init)
            guard words.first == "MediaMetadata.creation_time", words.count <= 2,
                  words.count == 1 || words[1].lowercased() == "desc" else {
                throw APIError.invalid("Invalid orderBy \"\(raw.prefix(100))\": only MediaMetadata.creation_time and MediaMetadata.creation_time desc are supported.")
            }
            if filter.hasDateFilter {
                ascending = words.count == 1
            } else if config.orderByWithoutDateFilter == "reject" {
                throw APIError.invalid("orderBy is only supported together with a dateFilter.")
            }
        }
        let base = publicBase(call.request)
        let filtersKey = body.members["filters"].map { String(decoding: $0.serialized(), as: UTF8.self) } ?? ""
        let queryKey = "mediaItems.search|\(albumID ?? "")|\(filtersKey)|\(ascending)"
        if let albumID {
            let page = try store.db.read { db -> Page<ItemRecord> in
                let album = try ownAlbum(db, id: albumID, caller: me)
                return try itemPage(db, ids: paginate(size: size, token: token, queryKey: queryKey) { offset, limit in
                    try String.fetchAll(db, sql: """
                        SELECT m.id FROM album_items ai JOIN media_items m ON m.id = ai.item_id
                        WHERE ai.album_id = ? AND m.user_id = ? ORDER BY ai.position LIMIT ? OFFSET ?
                        """, arguments: [album.id, me.userID, limit, offset])
                })
            }
            return HTTPOut.json(itemPageJSON(page, caller: me, base: base, albumID: albumID))
        }
        let items: [ItemRecord] = try store.db.read { db -> [ItemRecord] in
            let all = try Row.fetchAll(db, sql: """
                SELECT m.*, CAST(m.filename AS BLOB) AS filename_bytes FROM media_items m WHERE m.user_id = ? AND \(Emulator.visibleItemSQL)
                ORDER BY m.creation_time DESC, m.seq DESC
                """, arguments: [me.userID, me.clientID, me.clientID]).map(ItemRecord.init)
            let kept = all.filter(filter.matches)
            return ascending ? Array(kept.reversed()) : kept
        }
        let page = try paginate(items, size: size, token: token, queryKey: queryKey)
        return HTTPOut.json(itemPageJSON(page, caller: me, base: base, albumID: albumID))
    }

    /// mediaItems.patch: `updateMask=description` on one of the caller's own items.
    func mediaItemsPatch(_ call: Call) throws -> Response {
        try call.checkQuery(["updateMask"])
        let me = try call.me
        let id = call.param("mediaItemId")
        _ = try call.updateMask(allowed: ["description": "description"])
        let body = try JSONReader(call, try call.jsonObject(), path: "", allowed: Emulator.mediaItemFields)
        let description = try body.string("description") ?? ""
        guard description.count <= 1000 else { throw APIError.invalid("Description must be at most 1000 characters.") }
        let base = publicBase(call.request)
        let item = try store.db.write { db -> ItemRecord in
            guard Ids.plausible(id), try visibleItem(db, id: id, caller: me) != nil else { throw foreignIdError() }
            guard try ownItem(db, id: id, caller: me) else { throw APIError.invalid("Request contains an invalid media item id.") }
            try db.execute(sql: "UPDATE media_items SET description = ? WHERE id = ?", arguments: [description, id])
            guard let rec = try visibleItem(db, id: id, caller: me) else { throw APIError.internalError() }
            return rec
        }
        return HTTPOut.json(mediaItemJSON(item, caller: me, base: base))
    }

    /// The records of one page of ids, in page order. Listings page over ids and decode only the page's rows, so a
    /// page of a 100,000-item listing costs one id scan, not 100,000 record decodes.
    func itemPage(_ db: Database, ids page: Page<String>) throws -> Page<ItemRecord> {
        let statement = try db.cachedStatement(sql: "SELECT *, CAST(filename AS BLOB) AS filename_bytes FROM media_items WHERE id = ?")
        let items = try page.items.compactMap { try Row.fetchOne(statement, arguments: [$0]).map(ItemRecord.init) }
        return Page(items: items, nextPageToken: page.nextPageToken)
    }

    /// `{mediaItems[], nextPageToken}` with proto3 omissions.
    func itemPageJSON(_ page: Page<ItemRecord>, caller: Caller, base: String, albumID: String?) -> JSONValue {
        var out: [String: JSONValue] = [:]
        if !page.items.isEmpty {
            out["mediaItems"] = .array(page.items.map { mediaItemJSON($0, caller: caller, base: base, albumID: albumID) })
        }
        if let t = page.nextPageToken { out["nextPageToken"] = .string(t) }
        return .object(out)
    }
}

/// The validated `filters` of a mediaItems.search request.
struct SearchFilter: Sendable {
    static let fields: Set<String> = ["dateFilter", "contentFilter", "mediaTypeFilter", "featureFilter",
                                      "includeArchivedMedia", "excludeNonAppCreatedData"]
    static let categories = ["NONE", "LANDSCAPES", "RECEIPTS", "CITYSCAPES", "LANDMARKS", "SELFIES", "PEOPLE", "PETS", "WEDDINGS",
                             "BIRTHDAYS", "DOCUMENTS", "TRAVEL", "ANIMALS", "FOOD", "SPORT", "NIGHT", "PERFORMANCES", "WHITEBOARDS",
                             "SCREENSHOTS", "UTILITY", "ARTS", "CRAFTS", "FASHION", "HOUSES", "GARDENS", "FLOWERS", "HOLIDAYS"]

    /// A `Date` with 0 meaning "any".
    struct DateSpec: Sendable {
        let year: Int, month: Int, day: Int
    }

    var dates: [DateSpec] = []
    var ranges: [(DateSpec, DateSpec)] = []
    var hasDateFilter = false
    var included: Set<String> = []
    var excluded: Set<String> = []
    var mediaType = "ALL_MEDIA"
    var favoritesOnly = false
    var includeArchived = false

    /// Validates `filters` (nil = no filters) with Google's rules (reference §2.2).
    init(_ f: JSONReader?) throws(APIError) {
        guard let f else { return }
        if let d = try f.object("dateFilter", allowed: ["dates", "ranges"]) {
            hasDateFilter = true
            let ds = try d.objectArray("dates", allowed: ["year", "month", "day"]) ?? []
            let rs = try d.objectArray("ranges", allowed: ["startDate", "endDate"]) ?? []
            guard ds.count <= 5 else { throw .invalid("A date filter can have at most 5 dates.") }
            guard rs.count <= 5 else { throw .invalid("A date filter can have at most 5 date ranges.") }
            dates = try ds.map(SearchFilter.date)
            for r in rs {
                guard let s = try r.object("startDate", allowed: ["year", "month", "day"]),
                      let e = try r.object("endDate", allowed: ["year", "month", "day"]) else {
                    throw .invalid("A date range needs both a startDate and an endDate.")
                }
                let start = try SearchFilter.date(s), end = try SearchFilter.date(e)
                guard (start.year == 0) == (end.year == 0) else {
                    throw .invalid("The start and end of a date range must both have a year or both have none.")
                }
                guard SearchFilter.key(start, upper: false) <= SearchFilter.key(end, upper: true) else {
                    throw .invalid("The start date of a date range must not be after its end date.")
                }
                ranges.append((start, end))
            }
        }
        if let c = try f.object("contentFilter", allowed: ["includedContentCategories", "excludedContentCategories"]) {
            let inc = try c.enumArray("includedContentCategories", type: "ContentCategory", values: SearchFilter.categories) ?? []
            let exc = try c.enumArray("excludedContentCategories", type: "ContentCategory", values: SearchFilter.categories) ?? []
            guard inc.count <= 10, exc.count <= 10 else {
                throw .invalid("A content filter can include at most 10 and exclude at most 10 content categories.")
            }
            included = Set(inc); excluded = Set(exc)
            guard included.isDisjoint(with: excluded) else {
                throw .invalid("A content category cannot be both included and excluded.")
            }
        }
        if let m = try f.object("mediaTypeFilter", allowed: ["mediaTypes"]) {
            let types = try m.enumArray("mediaTypes", type: "MediaTypeFilter.MediaType", values: ["ALL_MEDIA", "VIDEO", "PHOTO"]) ?? []
            guard types.count <= 1 else { throw .invalid("A media type filter can have only one media type.") }
            mediaType = types.first ?? "ALL_MEDIA"
        }
        if let ft = try f.object("featureFilter", allowed: ["includedFeatures"]) {
            let feats = try ft.enumArray("includedFeatures", type: "FeatureFilter.Feature", values: ["NONE", "FAVORITES"]) ?? []
            favoritesOnly = feats.contains("FAVORITES")
        }
        includeArchived = try f.bool("includeArchivedMedia") ?? false
        _ = try f.bool("excludeNonAppCreatedData")
    }

    /// Reads and checks one `Date`: unsupported are all zeros, only month zero, and day and year both zero.
    static func date(_ r: JSONReader) throws(APIError) -> DateSpec {
        let d = DateSpec(year: try r.int32("year") ?? 0, month: try r.int32("month") ?? 0, day: try r.int32("day") ?? 0)
        guard (0...9999).contains(d.year), (0...12).contains(d.month), (0...31).contains(d.day) else {
            throw .invalid("Invalid date \(d.year)-\(d.month)-\(d.day): year must be 0...9999, month 0...12, day 0...31.")
        }
        let unsupported = (d.year == 0 && d.month == 0 && d.day == 0)
            || (d.year != 0 && d.month == 0 && d.day != 0)
            || (d.year == 0 && d.day == 0)
        if unsupported { throw .invalid("Invalid date \(d.year)-\(d.month)-\(d.day): this combination of unset fields is not supported.") }
        return d
    }

    /// A sortable key for a range bound; unset month/day widen to the start or end of the period.
    static func key(_ d: DateSpec, upper: Bool) -> Int {
        let m = d.month == 0 ? (upper ? 12 : 1) : d.month
        let day = d.day == 0 ? (upper ? 31 : 1) : d.day
        return d.year * 10_000 + m * 100 + day
    }

    private static let utc: Calendar = {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC")!
        return c
    }()

    /// Whether an item passes every filter.
    func matches(_ item: ItemRecord) -> Bool {
        if item.archived && !includeArchived { return false }
        if favoritesOnly && !item.favorite { return false }
        switch mediaType {
        case "PHOTO": if item.kind != "photo" { return false }
        case "VIDEO": if item.kind != "video" { return false }
        default: break
        }
        let cats = Set(item.categories)
        if !included.isEmpty {
            let hit = !cats.isDisjoint(with: included) || (included.contains("NONE") && cats.isEmpty)
            if !hit { return false }
        }
        if !cats.isDisjoint(with: excluded) || (excluded.contains("NONE") && cats.isEmpty) { return false }
        if hasDateFilter {
            // Date filters only ever match items with capture metadata; upload time is no fallback.
            guard item.hasCaptureTime else { return false }
            let c = SearchFilter.utc.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: item.creationTime))
            let y = c.year ?? 0, m = c.month ?? 0, d = c.day ?? 0
            let dateHit = dates.contains { (($0.year == 0 || $0.year == y) && ($0.month == 0 || $0.month == m) && ($0.day == 0 || $0.day == d)) }
            let rangeHit = ranges.contains { r in
                let (s, e) = r
                if s.year == 0 {
                    let k = m * 100 + d
                    return SearchFilter.key(s, upper: false) <= k && k <= SearchFilter.key(e, upper: true)
                }
                let k = y * 10_000 + m * 100 + d
                return SearchFilter.key(s, upper: false) <= k && k <= SearchFilter.key(e, upper: true)
            }
            if !(dateHit || rangeHit) && !(dates.isEmpty && ranges.isEmpty) { return false }
        }
        return true
    }
}
