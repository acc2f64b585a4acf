// FSError: the core's one error type, and the one mapping from every lower layer's errors to errno.
import Foundation
import MetadataStore
import PhotosAPI
#if canImport(Glibc)
import Glibc
#endif

/// A file-system error: the errno the caller sees and a message for the log naming the path and the reason.
public struct FSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The errno returned to the kernel (positive).
    public let errno: Int32
    /// What happened, for the log (names the path and what to do).
    public let message: String

    /// Creates an error.
    public init(_ errno: Int32, _ message: String) { self.errno = errno; self.message = message }

    /// "ENOENT: album/Trip/a.jpg: no such file".
    public var description: String { "\(FSError.name(errno)): \(message)" }

    /// No such entry.
    public static func noEntry(_ path: String) -> FSError { FSError(ENOENT, "\(path): no such file or directory") }
    /// The operation is never possible here (docs/SEMANTICS.md says why).
    public static func notPermitted(_ path: String, _ why: String) -> FSError { FSError(EPERM, "\(path): \(why)") }
    /// The mount is read-only (-o ro).
    public static func readOnly(_ path: String) -> FSError { FSError(EROFS, "\(path): mounted read-only (-o ro)") }
    /// Unsupported operation.
    public static func notSupported(_ what: String) -> FSError { FSError(ENOTSUP, "\(what): not supported") }
    /// A stale file handle (the item vanished remotely, or the handle is unknown).
    public static func stale(_ path: String) -> FSError { FSError(ESTALE, "\(path): the item is no longer in Google Photos") }

    /// Maps an API error for an operation on `path`. The one place PhotosAPIError becomes an errno.
    public init(_ error: PhotosAPIError, path: String) {
        switch error {
        case .invalidGrant, .insufficientScopes, .notAuthorized, .unauthenticated:
            self.init(EACCES, "\(path): \(error) — re-authorize: gphotosfs auth login")
        case .dailyQuotaExceeded:
            self.init(EDQUOT, "\(path): the daily Google Photos API quota is used up; it resets at midnight Pacific time")
        case .rateLimited:
            self.init(EAGAIN, "\(path): \(error)")
        case .api(_, let http, let status):
            switch http {
            case 404: self.init(ENOENT, "\(path): \(status.message.isEmpty ? "not found" : status.message)")
            case 403: self.init(EACCES, "\(path): \(error)")
            case 400 where status.message.localizedCaseInsensitiveContains("media type")
                        || status.message.localizedCaseInsensitiveContains("not a valid"):
                self.init(EMEDIUMTYPE, "\(path): \(status.message)")
            case 400: self.init(EINVAL, "\(path): \(error)")
            case 409: self.init(EEXIST, "\(path): \(error)")
            default: self.init(EIO, "\(path): \(error)")
            }
        case .baseURLExpired:
            self.init(EIO, "\(path): the download URL expired and could not be renewed")
        case .cancelled:
            self.init(EINTR, "\(path): cancelled")
        case .io(let m):
            self.init(m.contains("No space") ? ENOSPC : EIO, "\(path): \(m)")
        case .outcomeUnknown, .transport, .http, .invalidResponse, .uploadSessionGone, .oauth, .insecureURL:
            self.init(EIO, "\(path): \(error)")
        }
    }

    /// Maps a store error (the state database) for `path`.
    public init(_ error: StoreError, path: String) {
        self.init(error.description.contains("full") ? ENOSPC : EIO, "\(path): \(error)")
    }

    /// Maps a failed system call's errno for `path`.
    public static func posix(_ code: Int32, _ path: String, _ what: String) -> FSError {
        FSError(code, "\(path): \(what): \(String(cString: strerror(code)))")
    }

    /// Symbolic errno name for logs.
    public static func name(_ e: Int32) -> String {
        switch e {
        case EPERM: "EPERM"; case ENOENT: "ENOENT"; case EIO: "EIO"; case EBADF: "EBADF"; case EAGAIN: "EAGAIN"
        case EACCES: "EACCES"; case EEXIST: "EEXIST"; case EXDEV: "EXDEV"; case ENOTDIR: "ENOTDIR"; case EISDIR: "EISDIR"
        case EINVAL: "EINVAL"; case ENOSPC: "ENOSPC"; case EROFS: "EROFS"; case ENAMETOOLONG: "ENAMETOOLONG"
        case ENOTEMPTY: "ENOTEMPTY"; case ENOTSUP: "ENOTSUP"; case ESTALE: "ESTALE"; case EDQUOT: "EDQUOT"
        case EMEDIUMTYPE: "EMEDIUMTYPE"; case ENODATA: "ENODATA"; case EINTR: "EINTR"; case ERANGE: "ERANGE"
        case ENOSYS: "ENOSYS"; case EFBIG: "EFBIG"
        default: "errno \(e)"
        }
    }
}
