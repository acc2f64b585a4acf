// MountOptions: every -o option of `gphotosfs mount`, with defaults (man/gphotosfs.1 documents each).
import Foundation

/// How close() relates to the upload.
public enum UploadMode: String, Sendable, Equatable {
    /// close() returns once the bytes are spooled and journaled; the upload follows.
    case async
    /// close() waits until the item is committed in its album and returns the upload's result.
    case sync
}

/// How st_size is learned.
public enum SizeMode: String, Sendable, Equatable {
    /// One HEAD per item at its first stat; st_size always equals the bytes a read returns.
    case exact
    /// Report 0 with direct I/O until the size is known (no HEAD).
    case lazy
}

/// The options of one mount.
public struct MountOptions: Sendable, Equatable {
    /// -o ro: browse only.
    public var readOnly = false
    /// -o allow_other.
    public var allowOther = false
    /// -o uid=N (default: the mounting user).
    public var uid: UInt32 = UInt32(getuid())
    /// -o gid=N.
    public var gid: UInt32 = UInt32(getgid())
    /// -o umask=OOO (applied to 0666 files / 0777 dirs; default 022).
    public var umask: UInt32 = 0o022
    /// -o cache_dir=PATH: spool + content cache + SQLite state (default: per-account under the XDG / /var dirs).
    public var cacheDir: String?
    /// -o cache_max_size=SIZE: content cache limit in bytes (default 10 GiB). The spool is never evicted.
    public var cacheMaxSize: Int64 = 10 << 30
    /// -o dir_cache_time=DURATION: listings older than this are refreshed from the API (default 60 s).
    public var dirCacheTime: Double = 60
    /// -o writeback=DURATION: delay between close() and the upload (default 5 s).
    public var writeback: Double = 5
    /// -o upload=async|sync.
    public var upload: UploadMode = .async
    /// -o transfers=N: parallel uploads/downloads (default 4).
    public var transfers: Int = 4
    /// -o size=exact|lazy.
    public var size: SizeMode = .exact
    /// -o config=PATH: the config file (endpoints, client).
    public var config: String?
    /// -o log_file=PATH.
    public var logFile: String?
    /// -o debug: debug logging (and libfuse's request trace).
    public var debug = false
    /// How long unmount waits for pending uploads before leaving them journaled (seconds).
    public var unmountGrace: Double = 30

    /// The defaults.
    public init() {}
}
