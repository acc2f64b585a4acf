// The emulator's documentation stays true: its man page names every flag, knob and control call the binary has.
import Foundation
import Testing

@Suite("Emulator documentation")
struct DocsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Output of the emulator binary with these arguments.
    func run(_ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = EmulatorProcess.executable("gphotos-emulator")
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = Pipe()
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// The man page as plain text (roff escapes for '-' removed).
    func manPage() throws -> String {
        try String(contentsOf: DocsTests.root.appendingPathComponent("man/gphotos-emulator.1"), encoding: .utf8)
            .replacingOccurrences(of: "\\-", with: "-")
    }

    @Test("the man page documents every knob")
    func everyKnob() throws {
        let man = try manPage()
        let names = try run(["knobs"]).split(separator: "\n").filter { !$0.hasPrefix(" ") }
            .compactMap { $0.split(separator: "=").first.map(String.init) }
        #expect(names.count >= 20)
        for n in names { #expect(man.contains(".B \(n)\n"), "man page lacks knob \(n)") }
        let help = try run(["serve", "--help"])
        for n in names { #expect(help.contains(n), "--help lacks knob \(n)") }
    }

    @Test("the man page documents every serve flag")
    func everyFlag() throws {
        let man = try manPage()
        let help = try run(["serve", "--help"])
        let flags = Set(help.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," })
            .filter { $0.hasPrefix("--") && $0 != "--help" }.map { String($0.prefix { $0.isLetter || $0.isNumber || $0 == "-" }) })
        #expect(flags.count >= 8)
        for f in flags { #expect(man.contains(f), "man page lacks \(f)") }
    }

    @Test("the man page documents every control call")
    func everyControlCall() throws {
        let man = try manPage()
        let dir = DocsTests.root.appendingPathComponent("Sources/Emulator")
        var paths: Set<String> = []
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) where name.hasSuffix(".swift") {
            let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            var rest = text[...]
            while let r = rest.range(of: "pattern: \"/emulator/v1/") {
                let tail = rest[r.upperBound...]
                guard let end = tail.firstIndex(of: "\"") else { break }
                // {sessionId} and the like are written ID in the man page.
                let path = String(tail[..<end]).replacingOccurrences(of: #"\{[^}]*\}"#, with: "ID", options: .regularExpression)
                paths.insert(path)
                rest = tail[end...]
            }
        }
        #expect(paths.count >= 10)
        for p in paths { #expect(man.contains(p), "man page lacks control call \(p)") }
    }
}

@Suite("gphotosfs documentation")
struct GPhotosFSDocsTests {
    @Test("man/gphotosfs.1 documents every auth subcommand and flag")
    func everyAuthFlag() throws {
        let man = try String(contentsOf: DocsTests.root.appendingPathComponent("man/gphotosfs.1"), encoding: .utf8)
            .replacingOccurrences(of: "\\-", with: "-")
        for sub in ["login", "authorize", "import", "verify", "status", "logout"] {
            #expect(man.contains("auth \(sub)"), "man page lacks auth \(sub)")
            let p = Process()
            p.executableURL = EmulatorProcess.executable("gphotosfs")
            p.arguments = ["auth", sub, "--help"]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = Pipe()
            try p.run()
            let help = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            let flags = Set(help.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "/" || $0 == "[" || $0 == "]" })
                .filter { $0.hasPrefix("--") }
                .map { String($0.prefix { $0.isLetter || $0.isNumber || $0 == "-" }) }
                .filter { $0 != "--help" && $0 != "--version" })
            #expect(!flags.isEmpty)
            for f in flags { #expect(man.contains(f), "man page lacks \(f) of auth \(sub)") }
        }
    }

    /// `gphotosfs ARGS --help` output.
    func help(_ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = EmulatorProcess.executable("gphotosfs")
        p.arguments = args + ["--help"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = Pipe()
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return text
    }

    @Test("man/gphotosfs.1 documents mount, status and refresh with every flag")
    func everyMountFlag() throws {
        let man = try String(contentsOf: DocsTests.root.appendingPathComponent("man/gphotosfs.1"), encoding: .utf8)
            .replacingOccurrences(of: "\\-", with: "-")
        for sub in ["mount", "status", "refresh"] {
            #expect(man.contains(".B \(sub)\n") || man.contains(".B gphotosfs \(sub)"), "man page lacks \(sub)")
            let text = try help([sub])
            let flags = Set(text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "/" || $0 == "[" || $0 == "]" })
                .filter { $0.hasPrefix("--") }
                .map { String($0.prefix { $0.isLetter || $0.isNumber || $0 == "-" }) }
                .filter { $0 != "--help" && $0 != "--version" && $0.count > 2 })
            #expect(sub != "mount" || flags.contains("--emulator"))
            for f in flags { #expect(man.contains(f), "man page lacks \(f) of \(sub)") }
        }
        for short in [".B \\-f", ".BI \\-o"] {
            #expect(try String(contentsOf: DocsTests.root.appendingPathComponent("man/gphotosfs.1"), encoding: .utf8).contains(short))
        }
    }

    @Test("man/gphotosfs.1 and mount --help document every -o option")
    func everyMountOption() throws {
        let man = try String(contentsOf: DocsTests.root.appendingPathComponent("man/gphotosfs.1"), encoding: .utf8)
            .replacingOccurrences(of: "\\-", with: "-")
        let source = try String(contentsOf: DocsTests.root.appendingPathComponent("Sources/PhotosFS/MountOptions.swift"), encoding: .utf8)
        guard let start = source.range(of: "acceptedNames = ["), let end = source[start.upperBound...].firstIndex(of: "]") else {
            Issue.record("MountOptions.acceptedNames not found"); return
        }
        let names = source[start.upperBound..<end].split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            .filter { !$0.isEmpty }
        #expect(names.count >= 15)
        let mountHelp = try help(["mount"])
        for n in names {
            #expect(man.contains(".B \(n)") || man.contains(".BI \(n)=") || man.contains(".BR \(n)=") || man.contains(".BI uid= N") && ["uid", "gid", "umask"].contains(n),
                    "man page lacks -o \(n)")
            #expect(mountHelp.contains(n), "mount --help lacks -o \(n)")
        }
    }
}
