// Test fixture: an emulator process + a file system over it, as the core (CoreFS) or a real mount (MountedFS).
import APITestSupport
import Foundation
import Harness
import Logging
import PhotosAPI
@testable import PhotosFS

/// Which way a test body reaches the file system.
enum FSMode: String, CaseIterable, Sendable, CustomStringConvertible {
    /// PhotosFS called directly.
    case core
    /// A real FUSE mount of the `gphotosfs` binary in a temp dir.
    case mount
    var description: String { rawValue }
}

/// Options for tests: no write-back delay, fast refreshes.
func testOptions(_ edit: (inout MountOptions) -> Void = { _ in }) -> MountOptions {
    var o = MountOptions()
    o.writeback = 0
    o.unmountGrace = 10
    edit(&o)
    return o
}

/// One file system over one emulator for the length of `body`; always torn down (unmounted) afterwards.
func withFS<T>(_ mode: FSMode, emulator args: [String] = [], options: MountOptions = testOptions(),
               _ body: (any FSUnderTest, EmulatorProcess) async throws -> T) async throws -> T {
    try await withEmulator(args) { emu in
        let account = try await TestAccount(emu)
        let cache = TempDir()
        switch mode {
        case .core:
            let fs = try makeCore(account: account, cacheDir: cache.path, options: options)
            await fs.start()
            do {
                let r = try await body(CoreFS(fs: fs), emu)
                _ = await fs.shutdown(grace: options.unmountGrace)
                return r
            } catch {
                _ = await fs.shutdown(grace: 0)
                throw error
            }
        case .mount:
            return try await MountedFS.with(account: account, cacheDir: cache.path, options: options) { m in
                try await body(m, emu)
            }
        }
    }
}

/// A core on a manual clock (`ManualClock` starting now) over one emulator for the length of `body`; shut down after.
func withClockedCore<T>(options: MountOptions, _ body: (PhotosFS, CoreFS, ManualClock, EmulatorProcess) async throws -> T) async throws -> T {
    try await withEmulator { emu in
        let account = try await TestAccount(emu)
        let cache = TempDir()
        let clock = ManualClock(start: Date())
        let core = try makeCore(account: account, cacheDir: cache.path, options: options, clock: clock)
        defer { withExtendedLifetime(cache) {} }
        do {
            let r = try await body(core, CoreFS(fs: core), clock, emu)
            _ = await core.shutdown(grace: 0)
            return r
        } catch {
            _ = await core.shutdown(grace: 0)
            throw error
        }
    }
}

/// A PhotosFS for a test account with its state under `cacheDir`.
func makeCore(account: TestAccount, cacheDir: String, options: MountOptions, clock: (any PhotosClock)? = nil) throws -> PhotosFS {
    var o = options
    o.cacheDir = cacheDir
    return try PhotosFS(client: account.client(testConfig(clock: clock)), paths: StatePaths(cacheDir: cacheDir), options: o,
                        clock: clock ?? SystemClock())
}
