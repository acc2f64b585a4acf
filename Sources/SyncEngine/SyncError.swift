// The sync engine's one error type, and its one mapping to gphotos-sync's exit codes (rclone's 0–10 meanings).
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A sync failure: what kind (which fixes the exit code) and a message that names the thing and what to do.
public struct SyncError: Error, LocalizedError, CustomStringConvertible, Sendable, Equatable {
    /// Failure classes, each with one exit code.
    public enum Kind: Sendable, Equatable {
        /// Wrong flags or a folder the rules refuse (exit 2).
        case usage
        /// A directory that does not exist (exit 3).
        case directoryNotFound
        /// A file that does not exist (exit 4).
        case fileNotFound
        /// Worth retrying later: network, quota, a lock held by another run (exit 5).
        case temporary
        /// One item failed and retrying will not help (exit 6).
        case noRetry
        /// The run cannot go on: disk full, no permission, a revoked token (exit 7).
        case fatal
        /// The run was aborted (SIGINT, SIGTERM, task abort) before this item was done (exit 1).
        case aborted
        /// Anything else (exit 1).
        case other
    }

    /// The class.
    public let kind: Kind
    /// What went wrong and what to do.
    public let message: String

    /// Creates an error.
    public init(_ kind: Kind, _ message: String) { self.kind = kind; self.message = message }

    /// The message.
    public var description: String { message }
    /// The message (Foundation's localizedDescription).
    public var errorDescription: String? { message }

    /// The process exit code for this class.
    public var exitCode: SyncExitCode {
        switch kind {
        case .usage: return .usageError
        case .directoryNotFound: return .directoryNotFound
        case .fileNotFound: return .fileNotFound
        case .temporary: return .temporaryError
        case .noRetry: return .lessSeriousError
        case .fatal: return .fatalError
        case .other, .aborted: return .uncategorizedError
        }
    }

    /// A failed system call on `path`, classed by its errno.
    public static func posix(_ code: Int32, _ path: String, _ what: String) -> SyncError {
        let text = "\(path): \(what): \(String(cString: strerror(code)))"
        switch code {
        case ENOENT: return SyncError(.fileNotFound, text)
        case ENOSPC, EDQUOT:
            // EDQUOT from the mount is Google's daily quota; from a local disk it is a user quota.
            return SyncError(code == ENOSPC ? .fatal : .temporary, text + (code == ENOSPC ? " (free some space and run again)" : " (try again later)"))
        case EACCES, EPERM, EROFS: return SyncError(.noRetry, text)
        case EMEDIUMTYPE: return SyncError(.noRetry, text + " (not a photo or video Google accepts)")
        case EIO, ETIMEDOUT, ENOTCONN, EAGAIN, EINTR: return SyncError(.temporary, text)
        default: return SyncError(.other, text)
        }
    }
}
