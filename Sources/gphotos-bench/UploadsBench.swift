// `gphotos-bench uploads`: uploads files through PhotosClient with bounded parallelism, commits them into one new album
// with serial batchCreate calls of at most 50, and prints one JSON line of timings and request counts.
import ArgumentParser
import Foundation
import PhotosAPI

/// Uploads files to an emulator and reports wall time, bytes and API requests (the client's own counters).
struct UploadsBench: AsyncParsableCommand {
    /// Command-line metadata.
    static let configuration = CommandConfiguration(
        commandName: "uploads",
        abstract: "Upload FILEs (raw) with at most --parallel transfers, batchCreate them into a new album, print JSON.")

    /// The emulator's base URL (loopback only).
    @Option(name: .long, help: "gphotos-emulator base URL, e.g. http://127.0.0.1:8080 (loopback only).")
    var emulator: String

    /// A mode-0600 file holding the access token (or the emulator's token JSON).
    @Option(name: .customLong("token-file"), help: "Mode 0600 file with the access token, or the token JSON from POST /emulator/v1/tokens.")
    var tokenFile: String

    /// Upper bound on concurrent uploads.
    @Option(name: .long, help: "At most this many uploads at once (1...64).")
    var parallel: Int = 1

    /// The OAuth client id the token was minted for (only used for logs and credentials bookkeeping).
    @Option(name: .customLong("client-id"), help: "OAuth client id the token belongs to.")
    var clientId: String = "bench.apps.googleusercontent.com"

    /// Client-side pacing; unpaced by default so the figure is the client's own cost.
    @Option(name: .customLong("requests-per-second"), help: "Client pacing in requests/s (default: unpaced; the client's default is 10).")
    var requestsPerSecond: Double?

    /// The files to upload.
    @Argument(help: "Files to upload (each must differ: the emulator dedupes identical bytes).")
    var files: [String]

    /// batchCreate accepts at most this many items per call.
    static let batchSize = 50

    /// Checks the arguments before anything is sent.
    func validate() throws {
        guard (1...64).contains(parallel) else { throw ValidationError("--parallel must be 1...64") }
        guard !files.isEmpty, files.count <= 100_000 else { throw ValidationError("give 1...100000 files") }
        guard Self.isLoopback(emulator) else { throw ValidationError("--emulator must be an http URL on 127.0.0.1, ::1 or localhost") }
        if let r = requestsPerSecond, !(r > 0) { throw ValidationError("--requests-per-second must be > 0") }
    }

    /// True for http(s) URLs whose host is a loopback address.
    static func isLoopback(_ url: String) -> Bool {
        guard let c = URLComponents(string: url), let scheme = c.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = c.host?.lowercased() else { return false }
        return host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    /// The run.
    func run() async throws {
        let (token, expiresIn) = try Self.readToken(tokenFile)
        var sizes: [Int64] = []
        for f in files {
            guard let n = (try? FileManager.default.attributesOfItem(atPath: f))?[.size] as? NSNumber, n.int64Value > 0 else {
                throw ValidationError("not a non-empty readable file: \(f)")
            }
            sizes.append(n.int64Value)
        }
        let credentials = StoredCredentials(account: "bench", clientId: clientId, clientSecret: nil, refreshToken: "",
                                            accessToken: token, expiry: Date().addingTimeInterval(expiresIn),
                                            endpoints: .emulator(emulator), source: "emulator")
        var config = PhotosClientConfiguration()
        config.requestsPerSecond = requestsPerSecond
        let client = PhotosClient(credentials: credentials, store: nil, configuration: config)

        let clock = ContinuousClock()
        let start = clock.now
        let album = try await client.createAlbum(title: "gphotos-bench \(files.count) files, \(parallel) parallel")
        let (results, uploadsDone) = try await uploadAndCommit(client: client, albumId: album.id, clock: clock)
        let end = clock.now

        let committed = results.filter(\.succeeded).count
        let counts = client.counters.snapshot
        let report: [String: Any] = [
            "files": files.count,
            "seconds": Self.seconds(end - start),
            "bytes": sizes.reduce(0, +),
            "apiRequests": client.counters.total,
            "parallel": parallel,
            "committed": committed,
            "uploadsDoneSeconds": Self.seconds(uploadsDone - start),
            "requests": counts,
        ]
        let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
        if committed != files.count {
            let failed = results.first { !$0.succeeded }
            let firstError = failed?.error.map { String(describing: $0) } ?? "no media item"
            throw BenchFailure("only \(committed) of \(files.count) items were created; first failure: \(firstError)")
        }
    }

    /// Uploads with at most `parallel` transfers while one committer task turns every 50 tokens into a batchCreate
    /// (one at a time, in the order the uploads finish). Returns the batchCreate results and when the last upload ended.
    private func uploadAndCommit(client: PhotosClient, albumId: String,
                                 clock: ContinuousClock) async throws -> ([NewMediaItemResult], ContinuousClock.Instant) {
        let (tokens, sink) = AsyncStream<NewMediaItem>.makeStream(bufferingPolicy: .unbounded)
        let total = files.count
        let committer = Task { () throws -> [NewMediaItemResult] in
            var results: [NewMediaItemResult] = []
            var pending: [NewMediaItem] = []
            for await item in tokens {
                pending.append(item)
                if pending.count == Self.batchSize {
                    results += try await client.batchCreate(pending, albumId: albumId)
                    pending.removeAll(keepingCapacity: true)
                }
            }
            if !pending.isEmpty { results += try await client.batchCreate(pending, albumId: albumId) }
            return results
        }
        let uploadsDone: ContinuousClock.Instant
        do {
            try await withThrowingTaskGroup(of: NewMediaItem.self) { group in
                var next = 0
                func launch(_ i: Int) {
                    let path = files[i]
                    let name = URL(fileURLWithPath: path).lastPathComponent
                    group.addTask {
                        let token = try await client.upload(file: path, mimeType: "image/jpeg", fileName: name)
                        return NewMediaItem(uploadToken: token, fileName: name)
                    }
                }
                while next < min(parallel, total) { launch(next); next += 1 }
                for _ in 0..<total {
                    guard let item = try await group.next() else { break }
                    sink.yield(item)
                    if next < total { launch(next); next += 1 }
                }
            }
            uploadsDone = clock.now
            sink.finish()
        } catch {
            sink.finish()
            committer.cancel()
            throw error
        }
        return (try await committer.value, uploadsDone)
    }

    /// Reads the token file, refusing one that group or others may read. Accepts a bare token or the token JSON.
    static func readToken(_ path: String) throws -> (token: String, expiresIn: Double) {
        var st = stat()
        guard stat(path, &st) == 0 else { throw BenchFailure("cannot stat the token file \(path)") }
        guard st.st_mode & 0o077 == 0 else { throw BenchFailure("the token file \(path) must be mode 0600 (it is readable by others)") }
        guard let data = FileManager.default.contents(atPath: path), data.count <= 64 << 10 else {
            throw BenchFailure("cannot read the token file \(path)")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("{") {
            struct Grant: Decodable { var access_token: String; var expires_in: Double? }
            guard let g = try? JSONDecoder().decode(Grant.self, from: data), !g.access_token.isEmpty else {
                throw BenchFailure("the token file holds JSON without an access_token")
            }
            return (g.access_token, g.expires_in ?? 3600)
        }
        guard !text.isEmpty, !text.contains(where: \.isWhitespace) else { throw BenchFailure("the token file is empty or malformed") }
        return (text, 3600)
    }

    /// A duration in seconds as a Double.
    static func seconds(_ d: Duration) -> Double {
        let c = d.components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}

/// A benchmark failure with a message for stderr.
struct BenchFailure: Error, CustomStringConvertible {
    /// What went wrong.
    let description: String
    /// Creates a failure.
    init(_ d: String) { description = d }
}
