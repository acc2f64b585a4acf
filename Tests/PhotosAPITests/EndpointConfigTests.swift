// Endpoint configuration: flags over the environment over the config file over Google's defaults.
import Foundation
import PhotosAPI
import Testing

@Suite("Endpoint configuration")
struct EndpointConfigTests {
    /// Writes `text` to a fresh config file and returns an environment that points at it.
    func env(_ text: String?, extra: [String: String] = [:]) throws -> [String: String] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gphotosfs-cfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("config.json").path
        if let text { try Data(text.utf8).write(to: URL(fileURLWithPath: path)) }
        return ["GPHOTOSFS_CONFIG": path].merging(extra) { _, b in b }
    }

    @Test("no environment and no file: Google's endpoints")
    func defaults() throws {
        #expect(try PhotosEndpoints.configured(env(nil)) == nil)
    }

    @Test("the config file selects an emulator, or single endpoints")
    func fromFile() throws {
        let e = try PhotosEndpoints.configured(env(#"{"endpoints":{"emulator":"http://127.0.0.1:9999"}}"#))
        #expect(e == .emulator("http://127.0.0.1:9999"))
        let single = try PhotosEndpoints.configured(env(#"{"endpoints":{"token":"https://example.test/token"}}"#))
        #expect(single?.token == "https://example.test/token")
        #expect(single?.library == PhotosEndpoints.google.library)
    }

    @Test("the environment wins over the config file")
    func environmentWins() throws {
        let e = try PhotosEndpoints.configured(env(#"{"endpoints":{"emulator":"http://127.0.0.1:1"}}"#,
                                                  extra: ["GPHOTOSFS_EMULATOR": "http://127.0.0.1:2"]))
        #expect(e?.library == "http://127.0.0.1:2/v1")
    }

    @Test("a malformed file or an unknown endpoint is an error naming the file")
    func malformed() throws {
        for text in ["{not json", #"{"endpoints":{"libary":"https://x"}}"#, #"{"endpoints":["x"]}"#] {
            let e = try env(text)
            #expect(throws: PhotosAPIError.self) { _ = try PhotosEndpoints.configured(e) }
            do { _ = try PhotosEndpoints.configured(e) } catch { #expect(error.description.contains("config.json")) }
        }
    }
}
