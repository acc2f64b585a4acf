// Runs the emulator as an HTTP server (Hummingbird) until SIGINT or SIGTERM.
import Foundation
import Hummingbird
import Logging
import NIOCore

/// Binds and serves an `Emulator`.
public enum EmulatorServer {
    /// Serves `emulator` on host:port (0 = any free port); calls `onListening` with "http://host:port" once bound.
    public static func run(_ emulator: Emulator, host: String, port: Int,
                           onListening: @escaping @Sendable (String) -> Void) async throws {
        var logger = Logger(label: "gphotos-emulator.http")
        logger.logLevel = .warning
        let app = Application(
            responder: emulator.responder,
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                let shownHost = host.contains(":") ? "[\(host)]" : host
                let base = "http://\(shownHost):\(bound)"
                emulator.setListening(base)
                onListening(base)
            },
            logger: logger)
        try await app.runService()
    }
}
