// Open handles: directory snapshots, item readers and spool files, keyed by the number the kernel hands back.
import Foundation
import Synchronization

/// What an open handle refers to.
enum OpenNode: Sendable {
    /// An open directory (a listing snapshot).
    case directory(DirListing)
    /// A committed item opened for reading.
    case reader(ItemReader)
    /// A file being written or a pending file (its spool).
    case spool(SpoolFile)
}

/// The table of open handles. Handle numbers are never reused during a mount.
final class HandleTable: Sendable {
    private struct State { var next: UInt64 = 1; var open: [UInt64: OpenNode] = [:] }
    private let state = Mutex(State())

    /// Stores a node and returns its handle.
    func insert(_ node: OpenNode) -> UInt64 {
        state.withLock { s in
            let h = s.next
            s.next += 1
            s.open[h] = node
            return h
        }
    }

    /// The node behind a handle.
    func get(_ handle: UInt64) -> OpenNode? { state.withLock { $0.open[handle] } }

    /// Removes a handle and returns what it held.
    @discardableResult
    func remove(_ handle: UInt64) -> OpenNode? { state.withLock { $0.open.removeValue(forKey: handle) } }

    /// Every open node (for status and shutdown).
    func all() -> [OpenNode] { state.withLock { Array($0.open.values) } }
}

/// What a directory means to the write side (create, mkdir, rename targets).
enum DirectoryRole: Sendable, Equatable {
    /// `/`: nothing may be created.
    case root
    /// `album/` (prefix "") or a nested-title directory that is not an album (prefix "Trips/2024"): mkdir creates albums.
    case albumParent(prefix: String)
    /// An album directory: files upload into it; mkdir creates the nested album "title/name".
    case album(row: Int64, googleId: String, title: String)
    /// `upload/`: files go to the library without an album.
    case upload
    /// `media/...`: read-only.
    case readOnly
}
