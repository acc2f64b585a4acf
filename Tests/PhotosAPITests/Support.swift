// Test support: run gphotos-emulator as a process (through the shared Harness target) and build clients for it.
import Foundation
@_exported import APITestSupport
import Harness
import Logging
import PhotosAPI
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Test-support failures (from the shared harness).
typealias TestFailure = Harness.TestFailure

/// A `gphotosfs` child process (its environment minus any desktop, plus `extra`), read line by line.
final class CommandProcess: Sendable {
    let child: ChildProcess

    init(_ arguments: [String], environment extra: [String: String]) throws {
        var env = ProcessInfo.processInfo.environment
        env["DISPLAY"] = nil; env["WAYLAND_DISPLAY"] = nil
        for (k, v) in extra { env[k] = v }
        child = try ChildProcess(executable: builtExecutable("gphotosfs"), arguments: arguments, environment: env)
    }

    /// The next line of standard output ("" on timeout or exit).
    func line(timeout: Double = 20) -> String { child.readLine(timeout: timeout) }

    /// Waits for exit; returns the status, or nil on timeout (the process is then killed).
    func wait(timeout: Double = 20) -> Int32? { child.wait(timeout: timeout) }

    /// Everything left on standard output (after exit).
    func rest() -> String { child.stdoutSoFar() }
}
