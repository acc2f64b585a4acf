// Plain values the core hands to its callers (the FUSE adapter, tests): attributes, entries, handles, options.
import Foundation

/// File or directory.
public enum NodeKind: Sendable, Equatable {
    /// A regular file (a media item or a pending upload).
    case file
    /// A directory.
    case directory
}

/// What stat() shows for one node.
public struct FileAttributes: Sendable, Equatable {
    /// The inode number (see NodeID).
    public var ino: UInt64
    /// File or directory.
    public var kind: NodeKind
    /// Permission bits only (0644, 0755, ...); the adapter adds S_IFREG/S_IFDIR.
    public var permissions: UInt32
    /// Size in bytes: exactly what a read returns.
    public var size: Int64
    /// Link count.
    public var nlink: UInt32
    /// Owner.
    public var uid: UInt32
    /// Group.
    public var gid: UInt32
    /// Modification time (capture time for items).
    public var mtime: Date
    /// Status-change time.
    public var ctime: Date
    /// True when the size is not known yet and reads must use direct I/O (-o size=lazy).
    public var sizeUnknown: Bool = false

    /// Creates attributes.
    public init(ino: UInt64, kind: NodeKind, permissions: UInt32, size: Int64, nlink: UInt32 = 1, uid: UInt32, gid: UInt32,
                mtime: Date, ctime: Date? = nil, sizeUnknown: Bool = false) {
        self.ino = ino; self.kind = kind; self.permissions = permissions; self.size = size; self.nlink = nlink
        self.uid = uid; self.gid = gid; self.mtime = mtime; self.ctime = ctime ?? mtime; self.sizeUnknown = sizeUnknown
    }
}

/// A lookup answer: the node's attributes and how long the kernel may cache them.
public struct EntryReply: Sendable, Equatable {
    /// The node.
    public var attributes: FileAttributes
    /// Seconds the kernel may cache the name → inode mapping.
    public var entryTimeout: Double
    /// Seconds the kernel may cache the attributes.
    public var attrTimeout: Double
    /// Creates a reply.
    public init(attributes: FileAttributes, entryTimeout: Double, attrTimeout: Double) {
        self.attributes = attributes; self.entryTimeout = entryTimeout; self.attrTimeout = attrTimeout
    }
}

/// One directory entry with its attributes (readdirplus).
public struct DirEntry: Sendable, Equatable {
    /// The name shown (already encoded, deduplicated, shortened).
    public var name: String
    /// The entry (attributes + cache timeouts).
    public var entry: EntryReply
    /// Creates an entry.
    public init(name: String, entry: EntryReply) { self.name = name; self.entry = entry }
}

/// How a file was opened.
public struct OpenFlags: Sendable, Equatable {
    /// The raw open(2) flags.
    public var raw: Int32
    /// Creates flags.
    public init(raw: Int32) { self.raw = raw }
    /// Opened for writing (O_WRONLY or O_RDWR).
    public var writes: Bool { raw & O_ACCMODE != O_RDONLY }
    /// O_TRUNC.
    public var truncates: Bool { raw & O_TRUNC != 0 }
    /// O_EXCL.
    public var exclusive: Bool { raw & O_EXCL != 0 }
}

/// An open-file answer.
/// Where the bytes of one read are.
public enum ReadReply: Sendable, Equatable {
    /// `count` bytes of the open descriptor `fd` at `offset`: the adapter hands the range to the kernel without
    /// copying it through memory (the descriptor stays open until the handle's release).
    case file(fd: Int32, offset: Int64, count: Int)
    /// Bytes in memory.
    case bytes(Data)
}

/// What open() answers.
public struct OpenReply: Sendable, Equatable {
    /// The handle for read/write/release.
    public var handle: UInt64
    /// Bypass the page cache (size unknown with -o size=lazy, or the file is being written).
    public var directIO: Bool
    /// Keep the page cache from an earlier open (items never change).
    public var keepCache: Bool
    /// Creates a reply.
    public init(handle: UInt64, directIO: Bool = false, keepCache: Bool = false) {
        self.handle = handle; self.directIO = directIO; self.keepCache = keepCache
    }
}

/// A setattr request: only the set fields change.
public struct SetAttributes: Sendable, Equatable {
    /// New permissions.
    public var mode: UInt32?
    /// New owner.
    public var uid: UInt32?
    /// New group.
    public var gid: UInt32?
    /// New size (truncate).
    public var size: Int64?
    /// New mtime.
    public var mtime: Date?
    /// Creates a request.
    public init(mode: UInt32? = nil, uid: UInt32? = nil, gid: UInt32? = nil, size: Int64? = nil, mtime: Date? = nil) {
        self.mode = mode; self.uid = uid; self.gid = gid; self.size = size; self.mtime = mtime
    }
}

/// statfs() figures.
public struct FSStats: Sendable, Equatable {
    /// Block size.
    public var blockSize: UInt64
    /// Total blocks.
    public var blocks: UInt64
    /// Free blocks.
    public var blocksFree: UInt64
    /// Total file nodes.
    public var files: UInt64
    /// Free file nodes.
    public var filesFree: UInt64
    /// Longest name.
    public var nameMax: UInt64
    /// Creates figures.
    public init(blockSize: UInt64, blocks: UInt64, blocksFree: UInt64, files: UInt64, filesFree: UInt64, nameMax: UInt64 = 255) {
        self.blockSize = blockSize; self.blocks = blocks; self.blocksFree = blocksFree
        self.files = files; self.filesFree = filesFree; self.nameMax = nameMax
    }
}
