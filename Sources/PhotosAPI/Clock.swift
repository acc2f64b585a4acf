// The injectable clock used for token expiry, backoff sleeps and rate limiting.
import Foundation
import Synchronization

/// A source of the current time and of sleeps; tests substitute a manual clock.
public protocol PhotosClock: Sendable {
    /// The current wall-clock time.
    func now() -> Date
    /// Sleeps for `seconds` (honours task cancellation).
    func sleep(seconds: Double) async throws
}

/// The real clock.
public struct SystemClock: PhotosClock {
    /// Creates the system clock.
    public init() {}
    /// The current wall-clock time.
    public func now() -> Date { Date() }
    /// Sleeps for `seconds` with Task.sleep.
    public func sleep(seconds: Double) async throws {
        guard seconds > 0 else { return }
        try await Task.sleep(nanoseconds: UInt64(min(seconds, 86_400) * 1_000_000_000))
    }
}

/// A clock that moves only when told to; sleeps advance it instantly and are recorded.
public final class ManualClock: PhotosClock {
    private let state: Mutex<(now: Date, slept: [Double])>

    /// Creates a manual clock starting at `start`.
    public init(start: Date = Date(timeIntervalSince1970: 1_750_000_000)) {
        state = Mutex((start, []))
    }
    /// The current manual time.
    public func now() -> Date { state.withLock { $0.now } }
    /// Moves time forward.
    public func advance(_ seconds: Double) { state.withLock { $0.now = $0.now.addingTimeInterval(seconds) } }
    /// Records the sleep and advances time without waiting.
    public func sleep(seconds: Double) async throws {
        try Task.checkCancellation()
        state.withLock { $0.slept.append(seconds); $0.now = $0.now.addingTimeInterval(max(0, seconds)) }
    }
    /// All sleeps requested so far.
    public var sleeps: [Double] { state.withLock { $0.slept } }
}
