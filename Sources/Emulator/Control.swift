// The control API under /emulator/v1/: reset, seed, clock, knobs, faults, token minting, picking, request log.
import Foundation
import GRDB
import Hummingbird

extension Emulator {
    static let controlRoutes: [Route] = [
        Route(method: "GET", pattern: "/emulator/v1/health", endpoint: "control.health", kind: .control) { _ in
            HTTPOut.json(.object(["ok": .bool(true)]))
        },
        Route(method: "POST", pattern: "/emulator/v1/sink", endpoint: "control.sink", kind: .control, streamsBody: true) { call in
            // Reads and discards a body of any size: the HTTP-stack baseline for upload benchmarks.
            var total = 0
            for try await buf in call.request.body { total += buf.readableBytes }
            return HTTPOut.json(.object(["bytes": .int(total)]))
        },
        Route(method: "POST", pattern: "/emulator/v1/reset", endpoint: "control.reset", kind: .control) { call in
            try call.emulator.controlReset()
            return HTTPOut.empty
        },
        Route(method: "GET", pattern: "/emulator/v1/clock", endpoint: "control.clock", kind: .control) { call in
            call.emulator.clockJSON()
        },
        Route(method: "POST", pattern: "/emulator/v1/clock:advance", endpoint: "control.clock.advance", kind: .control) { call in
            let o = try call.jsonObject()
            try call.onlyFields(o, ["seconds"])
            guard let s = o["seconds"], case let secs = (s.int.map(Double.init) ?? { if case .double(let d) = s { return d } else { return nil } }()),
                  let secs, secs >= 0 else {
                throw APIError.invalid("seconds must be a number of seconds, 0 or more")
            }
            let off = call.emulator.clock.advance(by: secs)
            try call.emulator.store.setMeta("clock_offset", String(off))
            return call.emulator.clockJSON()
        },
        Route(method: "GET", pattern: "/emulator/v1/knobs", endpoint: "control.knobs", kind: .control) { call in
            HTTPOut.bytes(try JSONEncoder().encode(call.emulator.config), contentType: "application/json")
        },
        Route(method: "PATCH", pattern: "/emulator/v1/knobs", endpoint: "control.knobs.set", kind: .control) { call in
            let merged: EmulatorConfig
            do { merged = try call.emulator.config.merging(json: call.body) } catch let e as ConfigError { throw APIError.invalid(e.message) }
            call.emulator.setConfig(merged)
            return HTTPOut.bytes(try JSONEncoder().encode(merged), contentType: "application/json")
        },
        Route(method: "GET", pattern: "/emulator/v1/faults", endpoint: "control.faults", kind: .control) { call in
            HTTPOut.bytes(try JSONEncoder().encode(["faults": call.emulator.faults.rules]), contentType: "application/json")
        },
        Route(method: "POST", pattern: "/emulator/v1/faults", endpoint: "control.faults.add", kind: .control) { call in
            struct Body: Decodable { var faults: [FaultRule]?; var spec: [String]? }
            guard let b = try? JSONDecoder().decode(Body.self, from: call.body) else {
                throw APIError.invalid("expected {\"faults\":[{endpoint,kind,probability?,count?,retryAfter?,delayMs?,afterBytes?}]} or {\"spec\":[\"ENDPOINT:KIND:...\"]}")
            }
            var rules = b.faults ?? []
            do {
                for r in rules { try r.validate() }
                for s in b.spec ?? [] { rules.append(try FaultRule.parse(s)) }
            } catch let e as ConfigError { throw APIError.invalid(e.message) }
            call.emulator.faults.add(rules)
            return HTTPOut.bytes(try JSONEncoder().encode(["faults": call.emulator.faults.rules]), contentType: "application/json")
        },
        Route(method: "DELETE", pattern: "/emulator/v1/faults", endpoint: "control.faults.clear", kind: .control) { call in
            call.emulator.faults.clear()
            return HTTPOut.empty
        },
        Route(method: "GET", pattern: "/emulator/v1/requests", endpoint: "control.requests", kind: .control) { call in
            let limit = min(RequestLog.capacity, max(0, Int(call.query.first("limit") ?? "100") ?? 100))
            let snap = call.emulator.log.snapshot(limit: limit)
            let total = snap.counts.values.reduce(0, +)
            return HTTPOut.json(.object([
                "total": .int(total),
                "counts": .object(snap.counts.mapValues { .int($0) }),
                "recent": .array(snap.recent.map { e in
                    var o: [String: JSONValue] = ["time": .string(RFC3339.format(e.time)), "method": .string(e.method),
                                                  "path": .string(e.path), "endpoint": .string(e.endpoint), "status": .int(e.status)]
                    if let c = e.clientID { o["clientId"] = .string(c) }
                    return .object(o)
                }),
            ]))
        },
        Route(method: "DELETE", pattern: "/emulator/v1/requests", endpoint: "control.requests.clear", kind: .control) { call in
            call.emulator.log.clear()
            return HTTPOut.empty
        },
        Route(method: "GET", pattern: "/emulator/v1/quota", endpoint: "control.quota", kind: .control) { call in
            let project = call.query.first("project") ?? Emulator.defaultProject
            let used = try call.emulator.quotaUsage(project: project)
            let cfg = call.emulator.config
            return HTTPOut.json(.object([
                "project": .string(project), "day": .string(call.emulator.quotaDay(call.emulator.clock.now())),
                "apiRequests": .int(used.api), "apiLimit": .int(cfg.dailyAPIRequests),
                "mediaRequests": .int(used.media), "mediaLimit": .int(cfg.dailyMediaRequests),
            ]))
        },
        Route(method: "POST", pattern: "/emulator/v1/clients", endpoint: "control.clients", kind: .control) { call in
            let o = try call.jsonObject()
            try call.onlyFields(o, ["clientId", "clientSecret", "project", "testingMode"])
            guard let id = o["clientId"]?.string, !id.isEmpty, id.count <= 256 else { throw APIError.invalid("clientId is required") }
            try call.emulator.registerClient(id: id, secret: o["clientSecret"]?.string,
                                             project: o["project"]?.string ?? Emulator.defaultProject,
                                             testingMode: o["testingMode"]?.bool ?? false, replace: true)
            return HTTPOut.json(.object(["clientId": .string(id)]))
        },
        Route(method: "POST", pattern: "/emulator/v1/users", endpoint: "control.users", kind: .control) { call in
            let o = try call.jsonObject()
            try call.onlyFields(o, ["userId", "hasPhotosAccount"])
            guard let id = o["userId"]?.string, !id.isEmpty, id.count <= 256 else { throw APIError.invalid("userId is required") }
            try call.emulator.store.db.write { db in
                try db.execute(sql: "INSERT OR REPLACE INTO users(id, has_photos_account) VALUES (?, ?)",
                               arguments: [id, (o["hasPhotosAccount"]?.bool ?? true) ? 1 : 0])
            }
            return HTTPOut.json(.object(["userId": .string(id)]))
        },
        Route(method: "POST", pattern: "/emulator/v1/tokens", endpoint: "control.tokens", kind: .control) { call in
            let o = try call.jsonObject()
            try call.onlyFields(o, ["clientId", "clientSecret", "userId", "scopes", "project", "testingMode"])
            guard let client = o["clientId"]?.string, !client.isEmpty, client.count <= 256 else {
                throw APIError.invalid("clientId is required")
            }
            let scopes: Set<String>
            if let arr = o["scopes"]?.array { scopes = Set(arr.compactMap(\.string)) }
            else if let s = o["scopes"]?.string { scopes = Scope.parse(s) }
            else { scopes = [Scope.appendOnly, Scope.readAppCreated, Scope.editAppCreated] }
            let user = o["userId"]?.string ?? Emulator.defaultUser
            try call.emulator.registerClient(id: client, secret: o["clientSecret"]?.string,
                                             project: o["project"]?.string ?? Emulator.defaultProject,
                                             testingMode: o["testingMode"]?.bool ?? false, replace: false)
            try call.emulator.ensureUser(user)
            let grant = try call.emulator.issueTokens(clientID: client, userID: user, scopes: scopes, withRefresh: true)
            return HTTPOut.json(grant)
        },
    ]

    /// Forgets all state: records, bytes, faults, the request log, the clock offset, per-minute windows.
    func controlReset() throws {
        try store.reset()
        faults.clear()
        log.clear()
        clock.set(offset: 0)
        writeWindows.withLock { $0.removeAll() }
        try ensureDefaults()
    }

    /// The clock as JSON.
    func clockJSON() -> Response {
        let now = clock.now()
        return HTTPOut.json(.object(["now": .string(RFC3339.format(now)), "offsetSeconds": .double(clock.currentOffset)]))
    }

    /// Registers an OAuth client (or updates it when `replace`).
    func registerClient(id: String, secret: String?, project: String, testingMode: Bool, replace: Bool) throws {
        try store.db.write { db in
            try db.execute(sql: replace
                ? "INSERT OR REPLACE INTO clients(id, secret, project, testing_mode, created_at) VALUES (?, ?, ?, ?, ?)"
                : "INSERT OR IGNORE INTO clients(id, secret, project, testing_mode, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [id, secret, project, testingMode ? 1 : 0, clock.now()])
        }
    }

    /// Makes sure a user exists.
    func ensureUser(_ id: String) throws {
        try store.db.write { db in try db.execute(sql: "INSERT OR IGNORE INTO users(id) VALUES (?)", arguments: [id]) }
    }

    /// Issues an access token (and, when asked, a refresh token) and returns Google's token-response JSON.
    func issueTokens(clientID: String, userID: String, scopes: Set<String>, withRefresh: Bool,
                     refreshToken existing: String? = nil) throws -> JSONValue {
        let now = clock.now()
        let ttl = config.accessTokenTTL
        let access = Ids.accessToken()
        let refresh = withRefresh ? Ids.refreshToken() : nil
        try store.db.write { db in
            if let refresh {
                try db.execute(sql: "INSERT INTO refresh_tokens(token, client_id, user_id, scopes, issued_at) VALUES (?, ?, ?, ?, ?)",
                               arguments: [refresh, clientID, userID, Scope.join(scopes), now])
            }
            try db.execute(sql: """
                INSERT INTO access_tokens(token, client_id, user_id, scopes, expires_at, refresh_token) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [access, clientID, userID, Scope.join(scopes), now + ttl, refresh ?? existing])
        }
        var o: [String: JSONValue] = [
            "access_token": .string(access), "expires_in": .int(Int(ttl)), "scope": .string(Scope.join(scopes)),
            "token_type": .string("Bearer"),
        ]
        if let refresh { o["refresh_token"] = .string(refresh) }
        return .object(o)
    }
}
