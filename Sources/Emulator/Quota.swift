// Per-project daily quotas (API requests, media fetches) and the per-user write-rate limit, with Google's 429 bodies.
import Foundation
import GRDB

extension Emulator {
    /// Which daily counter a request spends.
    enum QuotaKind: String { case api, media }

    /// The quota day (e.g. "2026-11-28") that `t` falls in, with days starting at the configured UTC offset.
    func quotaDay(_ t: Double) -> String {
        let shifted = t + Double(config.quotaResetUTCOffsetHours) * 3600
        return String(RFC3339.format(floor(shifted / 86_400) * 86_400).prefix(10))
    }

    /// Counts one request against the project's daily quota, or throws Google's daily-quota 429.
    func spendQuota(project: String, kind: QuotaKind) throws(APIError) {
        let cfg = config
        let limit = kind == .api ? cfg.dailyAPIRequests : cfg.dailyMediaRequests
        let day = quotaDay(clock.now())
        let allowed: Bool
        do {
            allowed = try store.db.write { db -> Bool in
                let used = try Int.fetchOne(db.cachedStatement(sql: "SELECT \(kind.rawValue) FROM quota_usage WHERE project = ? AND day = ?"),
                                            arguments: [project, day]) ?? 0
                if used >= limit { return false }
                try db.execute(sql: """
                    INSERT INTO quota_usage(project, day, \(kind.rawValue)) VALUES (?, ?, 1)
                    ON CONFLICT(project, day) DO UPDATE SET \(kind.rawValue) = \(kind.rawValue) + 1
                    """, arguments: [project, day])
                return true
            }
        } catch { throw .internalError() }
        if !allowed { throw Emulator.dailyQuotaError(project: project, kind: kind, limit: limit) }
    }

    /// Used and limit of today's counters for a project.
    func quotaUsage(project: String) throws -> (api: Int, media: Int) {
        let day = quotaDay(clock.now())
        return try store.db.read { db in
            let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT api, media FROM quota_usage WHERE project = ? AND day = ?"), arguments: [project, day])
            return (row?["api"] ?? 0, row?["media"] ?? 0)
        }
    }

    /// Counts a write for the per-user per-minute limit, or throws the transient 429 (with Retry-After).
    func spendWrite(userID: String, project: String) throws(APIError) {
        let limit = config.writesPerMinute
        guard limit > 0 else { return }
        let now = clock.now()
        let minute = Int(now / 60)
        let ok = writeWindows.withLock { windows -> Bool in
            var w = windows[userID] ?? (minute, 0)
            if w.0 != minute { w = (minute, 0) }
            if w.1 >= limit { windows[userID] = w; return false }
            w.1 += 1
            windows[userID] = w
            return true
        }
        if !ok {
            let wait = max(1, Int(ceil(Double(minute + 1) * 60 - now)))
            throw Emulator.quotaError(
                message: "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user' of service 'photoslibrary.googleapis.com' for consumer 'project_number:\(project)'.",
                project: project, quotaLimit: "WritesPerMinutePerUser", limitValue: limit,
                metric: "photoslibrary.googleapis.com/write_requests", retryAfter: wait)
        }
    }

    /// Google's daily-quota 429 body, verbatim in shape.
    static func dailyQuotaError(project: String, kind: QuotaKind, limit: Int) -> APIError {
        switch kind {
        case .api:
            return quotaError(
                message: "Quota exceeded for quota metric 'All requests' and limit 'All requests per day' of service 'photoslibrary.googleapis.com' for consumer 'project_number:\(project)'.",
                project: project, quotaLimit: "ApiCallsPerProjectPerDay", limitValue: limit,
                metric: "photoslibrary.googleapis.com/all_requests", retryAfter: nil)
        case .media:
            return quotaError(
                message: "Quota exceeded for quota metric 'Media bytes requests' and limit 'Media bytes requests per day' of service 'photoslibrary.googleapis.com' for consumer 'project_number:\(project)'.",
                project: project, quotaLimit: "MediaBytesRequestsPerProjectPerDay", limitValue: limit,
                metric: "photoslibrary.googleapis.com/media_bytes_requests", retryAfter: nil)
        }
    }

    /// A RESOURCE_EXHAUSTED error with the ErrorInfo and Help details Google attaches.
    static func quotaError(message: String, project: String, quotaLimit: String, limitValue: Int, metric: String,
                           retryAfter: Int?) -> APIError {
        var e = APIError(http: 429, status: "RESOURCE_EXHAUSTED", message: message)
        e.extra["errors"] = .array([.object(["message": .string(message), "domain": .string("global"),
                                             "reason": .string("rateLimitExceeded")])])
        e.extra["details"] = .array([
            .object([
                "@type": .string("type.googleapis.com/google.rpc.ErrorInfo"),
                "reason": .string("RATE_LIMIT_EXCEEDED"),
                "domain": .string("googleapis.com"),
                "metadata": .object([
                    "quota_limit_value": .string(String(limitValue)),
                    "consumer": .string("projects/\(project)"),
                    "service": .string("photoslibrary.googleapis.com"),
                    "quota_limit": .string(quotaLimit),
                    "quota_location": .string("global"),
                    "quota_metric": .string(metric),
                ]),
            ]),
            .object([
                "@type": .string("type.googleapis.com/google.rpc.Help"),
                "links": .array([.object([
                    "description": .string("Request a higher quota limit."),
                    "url": .string("https://cloud.google.com/docs/quota#requesting_higher_quota"),
                ])]),
            ]),
        ])
        if let retryAfter { e.headers.append(("Retry-After", String(retryAfter))) }
        return e
    }
}
