// Runs the emulator as an HTTP server (Hummingbird) until SIGINT or SIGTERM.
import Foundation
import Hummingbird
import Logging
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Binds and serves an `Emulator`.
public enum EmulatorServer {
    /// Serves `emulator` on host:port (0 = any free port); calls `onListening` with "http://host:port" once bound.
    /// `handleSignals: false` leaves SIGINT/SIGTERM to the embedding process (the mount); cancel the task to stop.
    public static func run(_ emulator: Emulator, host: String, port: Int, handleSignals: Bool = true,
                           onListening: @escaping @Sendable (String) -> Void) async throws {
        var logger = Logger(label: "gphotos-emulator.http")
        logger.logLevel = .warning
        let app = Application(
            responder: emulator.responder,
            server: .http1(configuration: .init(additionalChannelHandlers: [ExpectContinueHandler()])),
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                let shownHost = host.contains(":") ? "[\(host)]" : host
                let base = "http://\(shownHost):\(bound)"
                emulator.setListening(base)
                onListening(base)
            },
            logger: logger)
        try await app.runService(gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [])
    }
}

/// Answers `Expect: 100-continue` with an interim `100 Continue`, as Google's front end does, so clients that
/// wait for it (curl does for bodies over 1 MiB) send their upload at once instead of after a timeout.
final class ExpectContinueHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data),
           head.headerFields[.expect]?.lowercased() == "100-continue" {
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
        }
        context.fireChannelRead(data)
    }
}
