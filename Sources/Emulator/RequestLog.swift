// The request log: per-endpoint counts and the most recent requests, for tests and benchmarks.
import Foundation
import Synchronization

/// Counts of API requests by endpoint, plus a bounded list of recent requests.
final class RequestLog: Sendable {
    /// One logged request.
    struct Entry: Sendable {
        let time: Double
        let method: String
        let path: String
        let endpoint: String
        let status: Int
        let clientID: String?
    }
    private struct State {
        var counts: [String: Int] = [:]
        var recent: [Entry] = []
    }
    private let state = Mutex(State())
    /// How many recent entries are kept.
    static let capacity = 2000

    /// Records a finished request.
    func record(_ e: Entry) {
        state.withLock { s in
            s.counts[e.endpoint, default: 0] += 1
            s.recent.append(e)
            if s.recent.count > RequestLog.capacity { s.recent.removeFirst(s.recent.count - RequestLog.capacity) }
        }
    }

    /// Counts and the newest `limit` entries.
    func snapshot(limit: Int) -> (counts: [String: Int], recent: [Entry]) {
        state.withLock { s in (s.counts, Array(s.recent.suffix(limit))) }
    }

    /// Forgets all counts and entries.
    func clear() { state.withLock { $0 = State() } }
}
