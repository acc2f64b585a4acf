// Shared test harness: start one of this package's built executables as a child process and stop it reliably.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A failure raised by test support code.
public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// Path of a built executable next to the test bundle (.build/debug/NAME), or under $GPHOTOS_BIN_DIR.
public func builtExecutable(_ name: String) -> URL {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    let env = ProcessInfo.processInfo.environment["GPHOTOS_BIN_DIR"] ?? ".build/debug"
    return URL(fileURLWithPath: env).appendingPathComponent(name)
}

/// A child process with piped output: first-line reads with a deadline, and a stop that always ends it.
public final class ChildProcess: @unchecked Sendable {
    /// The underlying process (only touched from the owning test).
    public let process = Process()
    private let stdoutPipe = Pipe()
    private let stderrPipe = Pipe()

    /// Starts `executable` with `arguments` (and `environment`, when given); standard input is /dev/null.
    public init(executable: URL, arguments: [String], environment: [String: String]? = nil) throws {
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// One line of standard output, waiting at most `timeout` seconds (empty when none came).
    public func readLine(timeout: Double) -> String {
        let fd = stdoutPipe.fileHandleForReading.fileDescriptor
        var line = Data()
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&pfd, 1, 200) > 0 {
                var byte: UInt8 = 0
                if Glibc.read(fd, &byte, 1) != 1 { break }
                if byte == 0x0A { break }
                line.append(byte)
            } else if !process.isRunning { break }
        }
        return String(decoding: line, as: UTF8.self)
    }

    /// Whatever the process wrote to standard error so far (without blocking).
    public func stderrSoFar() -> String { ChildProcess.drain(stderrPipe.fileHandleForReading.fileDescriptor) }

    /// Whatever is left on standard output (without blocking).
    public func stdoutSoFar() -> String { ChildProcess.drain(stdoutPipe.fileHandleForReading.fileDescriptor) }

    /// Waits up to `timeout` seconds for the process to exit; nil (and the process killed) on timeout.
    public func wait(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit(); return nil }
        return process.terminationStatus
    }

    private static func drain(_ fd: Int32) -> String {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var out = Data()
        var buf = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<10_000 {
            let n = Glibc.read(fd, &buf, buf.count)
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Stops the process: SIGTERM, then SIGKILL after 5 s. Returns its exit status.
    @discardableResult
    public func stop() -> Int32 {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}
