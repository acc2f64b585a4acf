// Crashes: SIGKILL the mount process at each journal state, remount on the same cache dir → every closed file lands once.
import APITestSupport
import Foundation
import Harness
import PhotosAPI
import Testing
@testable import PhotosFS
#if canImport(Glibc)
import Glibc
#endif

/// Where in a file's journey the mount process is killed, and how the emulator holds files there (no test hooks in
/// the product: only mount options and emulator faults).
enum CrashPoint: String, CaseIterable, Sendable, CustomStringConvertible {
    /// Closed and journaled, waiting for the write-back delay (-o writeback=10m).
    case spooled
    /// Bytes on their way (the emulator answers uploads after 20 s).
    case uploading
    /// Upload token held, batchCreate backing off (every batchCreate answers 503, which the reconcile finds not applied).
    case uploaded
    /// batchCreate sent and unanswered (the emulator answers it after 6 s; it may have created the items by then);
    /// a 2 s write-back delay sends the files up together, so they share one batchCreate.
    case creating
    /// Google confirmed the items.
    case committed

    var description: String { rawValue }

    /// The journal state `user.gphotos.status` must show for every file before the kill.
    var journalState: String { rawValue }

    /// What `user.gphotos.state` on the file says in that state (SEMANTICS.md's xattr values).
    var xattrState: String {
        switch self {
        case .spooled: "pending"
        case .uploading, .uploaded, .creating: "uploading"
        case .committed: "committed"
        }
    }

    /// Emulator faults that hold the files in this state.
    var faults: [String] {
        switch self {
        case .spooled, .committed: []
        case .uploading: ["uploads:slow:delay=20000"]
        case .uploaded: ["mediaItems.batchCreate:503"]
        case .creating: ["mediaItems.batchCreate:slow:delay=\(CrashPoint.creatingDelayMs)"]
        }
    }

    /// How long the emulator sits on a batchCreate in the `creating` case.
    static let creatingDelayMs = 6000
}

@Suite("Crashes: SIGKILL at each journal state, remount → every closed file in its album exactly once", .serialized)
struct CrashTests {
    /// Files closed before each kill.
    static let files = 3

    @Test("SIGKILL at a journal state, remount on the same cache dir", .timeLimit(.minutes(3)), arguments: CrashPoint.allCases)
    func killAndRemount(point: CrashPoint) async throws {
        try await withEmulator { emu in
            let account = try await TestAccount(emu)
            let cache = TempDir()
            var first = testOptions()
            // spooled: held by the delay; creating: a 2 s delay makes the files go up together, in one batchCreate.
            first.writeback = point == .spooled ? 600 : point == .creating ? 2 : 0
            var written: [String: Data] = [:]

            // 1. Mount, write files (each close() returns 0), hold them in the state, SIGKILL.
            let m1 = try await MountProcess.start(account: account, cacheDir: cache.path, options: first)
            do {
                defer { m1.forceUnmount() }   // kill -9 leaves a dead FUSE mount: fusermount3 -uz it, always
                let fs = MountedFS(root: m1.mountpoint, cacheDir: cache.path, opTimeout: 30)
                try await fs.mkdir("album/Crash")
                try await emu.faults(point.faults)
                for i in 0..<CrashTests.files {
                    let name = "crash-\(point)-\(i).jpg"
                    let data = makeJPEG(tag: "crash-\(point)-\(i)", padding: 4096)
                    try await fs.write("album/Crash/\(name)", data)
                    written[name] = data
                }
                if point == .committed { try await fs.waitForUploads(timeout: 60) }
                try await waitForState(fs, point, names: written.keys.sorted())
                let batchCreatesBefore = try await emu.requestCounts()["mediaItems.batchCreate"] ?? 0
                #expect(kill(m1.child.process.processIdentifier, SIGKILL) == 0)
                #expect(m1.child.wait(timeout: 10) != nil, "the mount process did not die")
                if point == .creating {
                    // Let the emulator finish the batchCreate nobody is waiting for (it creates the items), so the
                    // remount must find them instead of creating them again. Bounded by the delay plus 5 s.
                    let deadline = Date().addingTimeInterval(Double(CrashPoint.creatingDelayMs) / 1000 + 5)
                    while Date() < deadline, (try await emu.requestCounts()["mediaItems.batchCreate"] ?? 0) <= batchCreatesBefore {
                        try await Task.sleep(for: .milliseconds(200))
                    }
                    let answered = (try await emu.requestCounts()["mediaItems.batchCreate"] ?? 0) > batchCreatesBefore
                    print("CrashTests[creating]: the emulator \(answered ? "carried out" : "had not finished") the unanswered batchCreate before the remount")
                }
            }
            try await emu.control("DELETE", "faults")

            // 2. Remount on the same cache dir: the journal resumes; every file lands exactly once.
            let m2 = try await MountProcess.start(account: account, cacheDir: cache.path, options: testOptions())
            do {
                defer { m2.forceUnmount() }
                let fs = MountedFS(root: m2.mountpoint, cacheDir: cache.path, opTimeout: 30)
                try await fs.waitForUploads(timeout: 90)
                #expect(try await fs.list("album/Crash") == written.keys.sorted())
                for (name, data) in written {
                    #expect(try await fs.getxattr("album/Crash/\(name)", "user.gphotos.state") == Data("committed".utf8), "\(name)")
                    #expect(try await fs.read("album/Crash/\(name)") == data, "\(name)")
                }
                let client = try await TestAccount(emu).client()
                let album = try await AlbumContents.fetch(client, title: "Crash")
                #expect(album.items.count == written.count, "\(point): the album holds \(album.items.map(\.filename))")
                #expect(contentCounts(album.bytes) == contentCounts(Array(written.values)),
                        "\(point): the album's bytes are not each closed file's bytes exactly once")
                #expect(try await client.mediaItems().collect().count == written.count, "\(point): items outside the album")
                try m2.unmount()
            }
        }
    }

    /// Polls `user.gphotos.status` until every written file is in the point's journal state and its
    /// `user.gphotos.state` xattr says so (bounded: 30 s).
    func waitForState(_ fs: MountedFS, _ point: CrashPoint, names: [String]) async throws {
        let deadline = Date().addingTimeInterval(30)
        var last = ""
        while Date() < deadline {
            let status = try await fs.getxattr("", "user.gphotos.status") ?? Data()
            last = String(decoding: status, as: UTF8.self)
            let obj = (try? JSONSerialization.jsonObject(with: status)) as? [String: Any] ?? [:]
            let pending = obj["pending"] as? [[String: Any]] ?? []
            let states = Dictionary(pending.compactMap { p -> (String, String)? in
                guard let path = p["path"] as? String, let s = p["state"] as? String else { return nil }
                return (String(path.split(separator: "/").last ?? ""), s)
            }, uniquingKeysWith: { a, _ in a })
            let inState: Bool
            if point == .committed {
                inState = pending.isEmpty && ((obj["counts"] as? [String: Any])?["committed"] as? NSNumber)?.intValue ?? 0 >= names.count
            } else {
                inState = names.allSatisfy { states[$0] == point.journalState }
            }
            if inState {
                for name in names {
                    let x = try await fs.getxattr("album/Crash/\(name)", "user.gphotos.state")
                    #expect(x == Data(point.xattrState.utf8), "\(name): user.gphotos.state \(x.map { String(decoding: $0, as: UTF8.self) } ?? "nil")")
                }
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("the files never all reached '\(point.journalState)' within 30 s; status: \(last.prefix(1500))")
    }
}
