// `gphotosfs`: the mount and its account commands, and the mount.fuse3/fstab call form.
import ArgumentParser
import Foundation

/// The `gphotosfs` command.
public struct GPhotosFSCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gphotosfs",
        abstract: "Google Photos app-created albums as a file system.",
        discussion: "fstab / mount.fuse3 form: gphotosfs ACCOUNT MOUNTPOINT -o OPTIONS (same as gphotosfs mount --account ACCOUNT MOUNTPOINT -o OPTIONS).",
        version: "0.1.0",
        subcommands: [MountCommand.self, StatusCommand.self, RefreshCommand.self, AuthCommand.self])
    public init() {}

    /// Subcommand names (and help words) that are never an account in the fstab form.
    static let commandWords: Set<String> = ["mount", "status", "refresh", "auth", "help"]

    /// Rewrites the two call forms ArgumentParser can't express:
    /// - `gphotosfs ACCOUNT MOUNTPOINT [-o OPTS]...` (mount.fuse3, fstab `fuse.gphotosfs`) → `mount --account ACCOUNT ...`;
    /// - `mount ... --emulator` with no URL after it → `--emulator=embedded`.
    public static func normalizedArguments(_ args: [String]) -> [String] {
        var a = args
        if let first = a.first, !first.hasPrefix("-"), !commandWords.contains(first) {
            var positionals = 0
            var i = 0
            while i < a.count {
                if a[i] == "-o" { i += 2; continue }
                if !a[i].hasPrefix("-") { positionals += 1 }
                i += 1
            }
            if positionals == 2 { a = ["mount", "--account", first] + a.dropFirst() }
        }
        if a.first == "mount", let i = a.firstIndex(of: "--emulator") {
            let next = i + 1 < a.count ? a[i + 1] : nil
            if next == nil || next!.hasPrefix("-") || !next!.contains("://") { a[i] = "--emulator=" + MountCommand.embedded }
        }
        return a
    }
}
