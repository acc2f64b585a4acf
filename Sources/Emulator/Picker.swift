// The Google Photos Picker API (sessions and picked media items) under /picker, and the control hook "the user picks".
import Foundation
import GRDB
import Hummingbird

extension Emulator {
    /// Picker API routes (Google's photospicker.googleapis.com paths under the `/picker` prefix) and the control call
    /// `POST /emulator/v1/picker/sessions/{sessionId}:pick` with `{"count":N}` or `{"mediaItemIds":[...]}`, which plays
    /// the user choosing items in the picker UI and tapping Done.
    static let pickerRoutes: [Route] = [
        Route(method: "POST", pattern: "/picker/v1/sessions", endpoint: "picker.sessions.create",
              kind: .picker(scopes: [Scope.picker], write: true)) { call in
            try call.emulator.createPickerSession(call)
        },
        Route(method: "GET", pattern: "/picker/v1/sessions/{sessionId}", endpoint: "picker.sessions.get",
              kind: .picker(scopes: [Scope.picker], write: false)) { call in
            let s = try call.emulator.pickerSession(call.param("sessionId"), caller: try call.me, allowExpired: false)
            return HTTPOut.json(call.emulator.pickerSessionJSON(s))
        },
        Route(method: "DELETE", pattern: "/picker/v1/sessions/{sessionId}", endpoint: "picker.sessions.delete",
              kind: .picker(scopes: [Scope.picker], write: true)) { call in
            // Deleting is clean-up, so it also works once the session has expired.
            let s = try call.emulator.pickerSession(call.param("sessionId"), caller: try call.me, allowExpired: true)
            try call.emulator.store.db.write { db in
                try db.execute(sql: "UPDATE picker_sessions SET deleted = 1 WHERE id = ?", arguments: [s.id])
            }
            return HTTPOut.empty
        },
        Route(method: "GET", pattern: "/picker/v1/mediaItems", endpoint: "picker.mediaItems.list",
              kind: .picker(scopes: [Scope.picker], write: false)) { call in
            try call.emulator.listPickedItems(call)
        },
        Route(method: "POST", pattern: "/emulator/v1/picker/sessions/{sessionId}:pick", endpoint: "control.picker.pick",
              kind: .control) { call in
            try call.emulator.simulatePick(call)
        },
    ]

    /// A picker session row.
    struct PickerSessionRecord: Sendable {
        let id: String
        let clientID: String
        let userID: String
        let expireTime: Double
        let maxItems: Int
        let mediaItemsSet: Bool

        init(row: Row) {
            id = row["id"]; clientID = row["client_id"]; userID = row["user_id"]; expireTime = row["expire_time"]
            maxItems = row["max_items"]; mediaItemsSet = (row["media_items_set"] as Int) != 0
        }
    }

    /// Google's default and largest `pickingConfig.maxItemCount`.
    static let pickerMaxItems = 2000
    /// Polling advice sent while the user has not finished picking.
    static let pickerPollInterval: Double = 5
    static let pickerPollTimeout: Double = 1800

    /// A `PickingSession`. Proto3 JSON: `mediaItemsSet` is omitted while false (the reference pages show it as
    /// `false`, but the service is proto3, so clients must treat absence as false); `pollingConfig` is present only
    /// until the items are set.
    func pickerSessionJSON(_ s: PickerSessionRecord) -> JSONValue {
        var o: [String: JSONValue] = [
            "id": .string(s.id),
            "pickerUri": .string("https://photos.google.com/picker/\(s.id)"),
            "expireTime": .string(RFC3339.format(s.expireTime)),
            "pickingConfig": .object(["maxItemCount": .int64(s.maxItems)]),
        ]
        if s.mediaItemsSet {
            o["mediaItemsSet"] = .bool(true)
        } else {
            let left = max(0, min(Emulator.pickerPollTimeout, (s.expireTime - clock.now()).rounded(.down)))
            o["pollingConfig"] = .object(["pollInterval": .string(RFC3339.duration(Emulator.pickerPollInterval)),
                                          "timeoutIn": .string(RFC3339.duration(left))])
        }
        return .object(o)
    }

    /// The caller's live session: 404 when unknown, deleted or another app's or user's; 403 once expired.
    func pickerSession(_ id: String, caller: Caller, allowExpired: Bool) throws -> PickerSessionRecord {
        guard let s = try store.db.read({ db in
            try Row.fetchOne(db, sql: "SELECT * FROM picker_sessions WHERE id = ? AND client_id = ? AND user_id = ? AND deleted = 0",
                             arguments: [id, caller.clientID, caller.userID])
        }).map(PickerSessionRecord.init) else {
            throw APIError.notFound()
        }
        if !allowExpired && clock.now() >= s.expireTime {
            throw APIError.denied("Access to this session has expired.")
        }
        return s
    }

    /// POST /v1/sessions.
    func createPickerSession(_ call: Call) throws -> Response {
        let me = try call.me
        let o = try call.jsonObject()
        try call.onlyFields(o, ["id", "pickerUri", "pollingConfig", "expireTime", "pickingConfig", "mediaItemsSet"])
        var maxItems = Emulator.pickerMaxItems
        if let pc = o["pickingConfig"] {
            guard let pco = pc.object else { throw APIError.invalid("Invalid JSON payload received. pickingConfig must be an object.") }
            try call.onlyFields(pco, ["maxItemCount"], in: "pickingConfig")
            if let v = pco["maxItemCount"] {
                guard let n = v.int else {
                    throw APIError.invalid("Invalid value at 'session.picking_config.max_item_count' (TYPE_INT64), \(String(decoding: v.serialized(), as: UTF8.self))")
                }
                guard (0...Emulator.pickerMaxItems).contains(n) else {
                    throw APIError.invalid("pickingConfig.maxItemCount must be between 1 and \(Emulator.pickerMaxItems).")
                }
                if n > 0 { maxItems = n }
            }
        }
        let requestID = call.query.first("requestId")
        if let r = requestID, UUID(uuidString: r) == nil {
            throw APIError.invalid("Invalid value for requestId: it must be a UUID.")
        }
        let now = clock.now()
        let cfg = config
        let row = try store.db.write { db -> Row in
            guard let account = try Int.fetchOne(db, sql: "SELECT has_photos_account FROM users WHERE id = ?", arguments: [me.userID]),
                  account != 0 else {
                throw APIError.precondition("The user does not have an active Google Photos account.")
            }
            if let requestID, let existing = try Row.fetchOne(db, sql: """
                SELECT * FROM picker_sessions WHERE request_id = ? AND client_id = ? AND user_id = ? AND deleted = 0 AND expire_time > ?
                """, arguments: [requestID, me.clientID, me.userID, now]) {
                return existing
            }
            let live = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM picker_sessions WHERE user_id = ? AND deleted = 0 AND expire_time > ?",
                                        arguments: [me.userID, now]) ?? 0
            if live >= cfg.maxPickerSessions {
                throw APIError(http: 429, status: "RESOURCE_EXHAUSTED",
                               message: "The user has too many active picking sessions. Delete sessions that are no longer needed.")
            }
            let id = Ids.random(48)
            try db.execute(sql: """
                INSERT INTO picker_sessions(id, client_id, user_id, created_at, expire_time, max_items, request_id)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [id, me.clientID, me.userID, now, now + cfg.pickerSessionTTL, maxItems, requestID])
            return try Row.fetchOne(db, sql: "SELECT * FROM picker_sessions WHERE id = ?", arguments: [id])!
        }
        return HTTPOut.json(pickerSessionJSON(PickerSessionRecord(row: row)))
    }

    /// GET /v1/mediaItems?sessionId=…: the picked items, in the Picker shape.
    func listPickedItems(_ call: Call) throws -> Response {
        let me = try call.me
        guard let sid = call.query.first("sessionId"), !sid.isEmpty else {
            throw APIError.invalid("Request is missing required parameter: sessionId.")
        }
        var requested: Int?
        if let raw = call.query.first("pageSize") {
            guard let n = Int(raw) else { throw APIError.invalid("Invalid value at 'page_size' (TYPE_INT32), \"\(raw)\"") }
            requested = n
        }
        let size = try pageSize(requested, rule: .picker)
        let s = try pickerSession(sid, caller: me, allowExpired: false)
        guard s.mediaItemsSet else {
            throw APIError.precondition("The user has not finished picking media items for this session yet.")
        }
        let items = try store.db.read { db in
            try Row.fetchAll(db, sql: """
                SELECT m.*, CAST(m.filename AS BLOB) AS filename_bytes FROM picked_items p JOIN media_items m ON m.id = p.item_id
                WHERE p.session_id = ? ORDER BY p.position
                """, arguments: [s.id]).map(ItemRecord.init)
        }
        let page = try paginate(items, size: size, token: call.query.first("pageToken"), queryKey: "picker|\(s.id)")
        let base = publicBase(call.request)
        var o: [String: JSONValue] = [:]
        if !page.items.isEmpty { o["mediaItems"] = .array(page.items.map { pickedItemJSON($0, session: s, base: base) }) }
        if let t = page.nextPageToken { o["nextPageToken"] = .string(t) }
        return HTTPOut.json(.object(o))
    }

    /// A `PickedMediaItem`: note `createTime`, `mediaFile.filename`, integer width/height and `processingStatus`.
    func pickedItemJSON(_ item: ItemRecord, session: PickerSessionRecord, base: String) -> JSONValue {
        var meta: [String: JSONValue] = [:]
        if item.width > 0 { meta["width"] = .int(item.width) }
        if item.height > 0 { meta["height"] = .int(item.height) }
        if let m = item.cameraMake { meta["cameraMake"] = .string(m) }
        if let m = item.cameraModel { meta["cameraModel"] = .string(m) }
        if item.kind == "video" {
            meta["videoMetadata"] = .object([
                "processingStatus": .string(item.videoStatus(now: clock.now(), processingSeconds: config.videoProcessingSeconds)),
            ])
        } else {
            meta["photoMetadata"] = .object([:])
        }
        return .object([
            "id": .string(item.id),
            "createTime": .string(RFC3339.format(item.creationTime)),
            "type": .string(item.kind == "video" ? "VIDEO" : "PHOTO"),
            "mediaFile": .object([
                "baseUrl": .string(mintBaseURL(base: base, itemID: item.id, clientID: session.clientID, userID: session.userID, picker: true)),
                "mimeType": .string(item.mimeType),
                "filename": .string(item.filename),
                "mediaFileMetadata": .object(meta),
            ]),
        ])
    }

    /// Control: the user picks items in the session's picker UI and taps Done.
    func simulatePick(_ call: Call) throws -> Response {
        let o = try call.jsonObject()
        try call.onlyFields(o, ["count", "mediaItemIds"])
        let sid = call.param("sessionId")
        let now = clock.now()
        let picked = try store.db.write { db -> [String] in
            guard let s = try Row.fetchOne(db, sql: "SELECT * FROM picker_sessions WHERE id = ? AND deleted = 0", arguments: [sid])
                .map(PickerSessionRecord.init) else {
                throw APIError.notFound("no live picker session '\(sid)'")
            }
            guard now < s.expireTime else { throw APIError.precondition("the session has expired") }
            guard !s.mediaItemsSet else { throw APIError.precondition("the user already finished picking in this session") }
            var ids: [String]
            if let arr = o["mediaItemIds"]?.array {
                ids = []
                for v in arr {
                    guard let id = v.string else { throw APIError.invalid("mediaItemIds must be strings") }
                    guard try Int.fetchOne(db, sql: "SELECT 1 FROM media_items WHERE id = ? AND user_id = ?", arguments: [id, s.userID]) != nil else {
                        throw APIError.invalid("'\(id)' is not in the library of \(s.userID)")
                    }
                    if !ids.contains(id) { ids.append(id) }
                }
                guard ids.count <= s.maxItems else { throw APIError.invalid("more than maxItemCount (\(s.maxItems)) items") }
            } else if let n = o["count"]?.int {
                guard n >= 0 else { throw APIError.invalid("count must be 0 or more") }
                ids = try String.fetchAll(db, sql: """
                    SELECT id FROM media_items WHERE user_id = ? ORDER BY creation_time DESC, seq DESC LIMIT ?
                    """, arguments: [s.userID, min(n, s.maxItems)])
            } else {
                throw APIError.invalid("expected {\"count\":N} or {\"mediaItemIds\":[...]}")
            }
            for (i, id) in ids.enumerated() {
                try db.execute(sql: "INSERT INTO picked_items(session_id, item_id, position) VALUES (?, ?, ?)", arguments: [sid, id, i])
            }
            try db.execute(sql: "UPDATE picker_sessions SET media_items_set = 1 WHERE id = ?", arguments: [sid])
            return ids
        }
        return HTTPOut.json(.object(["mediaItemIds": .array(picked.map { .string($0) })]))
    }
}
