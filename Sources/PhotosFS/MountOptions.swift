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

/// A bad `-o` option: names the option and what it accepts.
public struct MountOptionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The message shown to the user.
    public let description: String
    /// Creates an error.
    public init(_ description: String) { self.description = description }
}

extension MountOptions {
    /// Options mount(8) and mount.fuse3 pass to every helper; they mean nothing to gphotosfs and are ignored.
    public static let genericMountOptions: Set<String> = [
        "rw", "dev", "nodev", "suid", "nosuid", "exec", "noexec", "auto", "noauto", "user", "nouser", "users",
        "_netdev", "nofail", "defaults", "async", "atime", "noatime", "relatime", "strictatime", "nodiratime",
    ]

    /// The accepted options, for messages and help.
    public static let acceptedNames = [
        "ro", "allow_other", "uid", "gid", "umask", "cache_dir", "cache_max_size", "dir_cache_time", "writeback",
        "upload", "transfers", "size", "config", "log_file", "debug",
    ]

    /// Parses `-o` values (each may hold several comma-separated options) over the defaults.
    public static func parse(_ opts: [String]) throws(MountOptionError) -> MountOptions {
        var o = MountOptions()
        try o.apply(opts)
        return o
    }

    /// Applies `-o` values (comma-separated `name` or `name=value`) to these options.
    public mutating func apply(_ opts: [String]) throws(MountOptionError) {
        for item in opts.flatMap({ $0.split(separator: ",", omittingEmptySubsequences: true) }) {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0]).trimmingCharacters(in: .whitespaces)
            let value = parts.count > 1 ? String(parts[1]) : nil
            if Self.genericMountOptions.contains(name) || name.hasPrefix("x-") || name.hasPrefix("comment=") { continue }
            try set(name, value)
        }
    }

    private mutating func set(_ name: String, _ value: String?) throws(MountOptionError) {
        func need() throws(MountOptionError) -> String {
            guard let value, !value.isEmpty else { throw MountOptionError("-o \(name) needs a value (\(name)=...)") }
            return value
        }
        func flag() throws(MountOptionError) {
            if value != nil { throw MountOptionError("-o \(name) takes no value") }
        }
        switch name {
        case "ro": try flag(); readOnly = true
        case "allow_other": try flag(); allowOther = true
        case "debug": try flag(); debug = true
        case "uid": uid = try Self.id(name, try need())
        case "gid": gid = try Self.id(name, try need())
        case "umask":
            let v = try need()
            guard let m = UInt32(v, radix: 8), m <= 0o777 else {
                throw MountOptionError("-o umask=\(v): expected an octal mask 000...777 (e.g. umask=022)")
            }
            umask = m
        case "cache_dir": cacheDir = try need()
        case "cache_max_size": cacheMaxSize = try Self.size(name, try need())
        case "dir_cache_time": dirCacheTime = try Self.duration(name, try need())
        case "writeback": writeback = try Self.duration(name, try need())
        case "upload":
            let v = try need()
            guard let m = UploadMode(rawValue: v) else { throw MountOptionError("-o upload=\(v): expected upload=async or upload=sync") }
            upload = m
        case "transfers":
            let v = try need()
            guard let n = Int(v), (1...64).contains(n) else { throw MountOptionError("-o transfers=\(v): expected a number 1...64") }
            transfers = n
        case "size":
            let v = try need()
            guard let m = SizeMode(rawValue: v) else { throw MountOptionError("-o size=\(v): expected size=exact or size=lazy") }
            size = m
        case "config": config = try need()
        case "log_file": logFile = try need()
        default:
            throw MountOptionError("unknown mount option '-o \(name)'; accepted: \(Self.acceptedNames.joined(separator: ", "))")
        }
    }

    /// A user or group id.
    static func id(_ name: String, _ v: String) throws(MountOptionError) -> UInt32 {
        guard let n = UInt32(v), n != UInt32.max else { throw MountOptionError("-o \(name)=\(v): expected a numeric id") }
        return n
    }

    /// A size: bytes, or a number with K, M, G or T (powers of 1024; a trailing B or iB is allowed).
    public static func size(_ name: String, _ v: String) throws(MountOptionError) -> Int64 {
        var s = v.uppercased()
        if s.hasSuffix("IB") { s.removeLast(2) } else if s.hasSuffix("B") { s.removeLast() }
        let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var mult: Int64 = 1
        if let last = s.last, let m = units[last] { mult = m; s.removeLast() }
        guard let n = Double(s), n >= 0, n.isFinite, n * Double(mult) < 9e18 else {
            throw MountOptionError("-o \(name)=\(v): expected a size such as 512M, 10G or 1073741824")
        }
        return Int64(n * Double(mult))
    }

    /// A duration: seconds, or a number with s, m, h or d; 0 is allowed.
    public static func duration(_ name: String, _ v: String) throws(MountOptionError) -> Double {
        var s = v.lowercased()
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        var mult = 1.0
        if s.hasSuffix("ms") { mult = 0.001; s.removeLast(2) } else if let last = s.last, let m = units[last] { mult = m; s.removeLast() }
        guard let n = Double(s), n >= 0, n.isFinite else {
            throw MountOptionError("-o \(name)=\(v): expected a duration such as 0, 5s, 2m or 1h")
        }
        return n * mult
    }

    /// These options as `-o` text (what a re-exec or a test passes on).
    public var optionString: String {
        var out: [String] = []
        if readOnly { out.append("ro") }
        if allowOther { out.append("allow_other") }
        out.append("uid=\(uid)"); out.append("gid=\(gid)"); out.append("umask=" + String(umask, radix: 8))
        if let cacheDir { out.append("cache_dir=\(cacheDir)") }
        out.append("cache_max_size=\(cacheMaxSize)")
        out.append("dir_cache_time=\(Self.seconds(dirCacheTime))"); out.append("writeback=\(Self.seconds(writeback))")
        out.append("upload=\(upload.rawValue)"); out.append("transfers=\(transfers)"); out.append("size=\(size.rawValue)")
        if let config { out.append("config=\(config)") }
        if let logFile { out.append("log_file=\(logFile)") }
        if debug { out.append("debug") }
        return out.joined(separator: ",")
    }

    private static func seconds(_ d: Double) -> String {
        d == d.rounded() ? "\(Int64(d))s" : "\(Int64((d * 1000).rounded()))ms"
    }
}
