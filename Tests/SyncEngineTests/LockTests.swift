// Path locks between runs: overlapping paths conflict unless both only read; released locks and dead runs free them.
import Foundation
import Testing
@testable import SyncEngine

@Suite("Run locks")
struct LockTests {
    @Test("a second run on an overlapping path is refused with the holder's name; disjoint or read-only pairs go on")
    func overlaps() throws {
        let dir = NSTemporaryDirectory() + "gphotos-sync-locks-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try RunLock.acquire(registryDir: dir, label: "task photos", paths: [PathLock(path: "/mnt/tank/photos", write: false),
                                                                                    PathLock(path: "/mnt/gphotos/album", write: true)])
        #expect(throws: SyncError.self) {
            _ = try RunLock.acquire(registryDir: dir, label: "task other", paths: [PathLock(path: "/mnt/gphotos/album/Trip", write: true)])
        }
        do {
            _ = try RunLock.acquire(registryDir: dir, label: "x", paths: [PathLock(path: "/mnt/gphotos", write: false)])
            Issue.record("a reader of a parent of a written path got the lock")
        } catch {
            #expect(error.kind == .temporary && error.message.contains("task photos"), "\(error)")
        }
        // Both only read the dataset: fine. A disjoint path: fine.
        let b = try RunLock.acquire(registryDir: dir, label: "reader", paths: [PathLock(path: "/mnt/tank/photos/2024", write: false)])
        let c = try RunLock.acquire(registryDir: dir, label: "other album", paths: [PathLock(path: "/mnt/gphotos/albums-old", write: true)])
        a.release(); b.release(); c.release()
        let d = try RunLock.acquire(registryDir: dir, label: "after", paths: [PathLock(path: "/mnt/gphotos/album/Trip", write: true)])
        d.release()
    }
}
