// NodeID: what an inode number stands for. Inodes are stable: SQLite row ids with a kind tag in the top byte.
import Foundation

/// Which of the three date trees a date directory belongs to.
public enum DateTree: UInt8, Sendable, Hashable {
    /// media/by-year/YYYY
    case byYear = 1
    /// media/by-month/YYYY/YYYY-MM
    case byMonth = 2
    /// media/by-day/YYYY/YYYY-MM-DD
    case byDay = 3
}

/// The node behind an inode number.
public enum NodeID: Sendable, Hashable {
    /// /
    case root
    /// /album
    case albumRoot
    /// /media
    case mediaRoot
    /// /media/all
    case mediaAll
    /// /media/by-year, /media/by-month, /media/by-day
    case dateRoot(DateTree)
    /// /upload
    case uploadRoot
    /// A date directory: `year` under any tree, `month` (1-12, 0 = year level) and `day` (0 = month level).
    case date(DateTree, year: Int, month: Int, day: Int)
    /// An album directory (albums.row).
    case album(Int64)
    /// A directory made by a nested title ("Trips" of "Trips/2024/Rome") that is not itself an album (interned id).
    case titlePrefix(Int64)
    /// A committed media item (items.row).
    case item(Int64)
    /// A file written through the mount, not yet committed (uploads.id).
    case pending(Int64)

    private static let shift: UInt64 = 56
    private static let mask: UInt64 = (1 << 56) - 1

    /// The inode number (FUSE_ROOT_ID = 1 for the root).
    public var ino: UInt64 {
        switch self {
        case .root: return 1
        case .albumRoot: return 2
        case .mediaRoot: return 3
        case .mediaAll: return 4
        case .dateRoot(let t): return 4 + UInt64(t.rawValue)   // 5, 6, 7
        case .uploadRoot: return 8
        case .date(let t, let y, let m, let d):
            return (1 << Self.shift) | UInt64(t.rawValue) << 32 | UInt64(y) << 16 | UInt64(m) << 8 | UInt64(d)
        case .album(let r): return (2 << Self.shift) | (UInt64(r) & Self.mask)
        case .titlePrefix(let r): return (3 << Self.shift) | (UInt64(r) & Self.mask)
        case .item(let r): return (4 << Self.shift) | (UInt64(r) & Self.mask)
        case .pending(let r): return (5 << Self.shift) | (UInt64(r) & Self.mask)
        }
    }

    /// Decodes an inode number; nil for a number this mount never handed out.
    public init?(ino: UInt64) {
        let low = ino & Self.mask
        switch ino >> Self.shift {
        case 0:
            switch ino {
            case 1: self = .root
            case 2: self = .albumRoot
            case 3: self = .mediaRoot
            case 4: self = .mediaAll
            case 5, 6, 7: self = .dateRoot(DateTree(rawValue: UInt8(ino - 4))!)
            case 8: self = .uploadRoot
            default: return nil
            }
        case 1:
            guard let t = DateTree(rawValue: UInt8((low >> 32) & 0xFF)) else { return nil }
            self = .date(t, year: Int((low >> 16) & 0xFFFF), month: Int((low >> 8) & 0xFF), day: Int(low & 0xFF))
        case 2: self = .album(Int64(low))
        case 3: self = .titlePrefix(Int64(low))
        case 4: self = .item(Int64(low))
        case 5: self = .pending(Int64(low))
        default: return nil
        }
    }
}
