// Bearer-token checks: who is calling (OAuth client, user, project) and with which scopes.
import Foundation
import GRDB
import Hummingbird

/// The authenticated caller of one request.
struct Caller: Sendable {
    /// OAuth client id: "the app" whose objects this caller sees.
    let clientID: String
    /// The user whose library is addressed.
    let userID: String
    /// The Cloud project the client belongs to (quota is per project).
    let project: String
    /// Scopes the access token carries.
    let scopes: Set<String>

    /// True when the token holds at least one of `accepted`.
    func has(anyOf accepted: Set<String>) -> Bool { !scopes.isDisjoint(with: accepted) }
}

extension Emulator {
    /// The bearer token of a request: the Authorization header or the `access_token` query parameter.
    func bearerToken(_ request: Request, query: Query) -> String? {
        if let h = request.header("Authorization") {
            let parts = h.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { return String(parts[1]).trimmingCharacters(in: .whitespaces) }
            return nil
        }
        return query.first("access_token")
    }

    /// Resolves an access token to its caller, or throws 401 UNAUTHENTICATED.
    func authenticate(_ token: String?) throws(APIError) -> Caller {
        guard let token, !token.isEmpty, token.count < 4096 else { throw .unauthenticated }
        let now = clock.now()
        let row: Row?
        do {
            row = try store.db.read { db in
                try Row.fetchOne(db.cachedStatement(sql: """
                    SELECT a.client_id, a.user_id, a.scopes, a.expires_at, a.revoked, c.project
                    FROM access_tokens a JOIN clients c ON c.id = a.client_id WHERE a.token = ?
                    """), arguments: [token])
            }
        } catch { throw .internalError() }
        guard let row, (row["revoked"] as Int) == 0, (row["expires_at"] as Double) > now else { throw .unauthenticated }
        return Caller(clientID: row["client_id"], userID: row["user_id"], project: row["project"],
                      scopes: Scope.parse(row["scopes"]))
    }
}
