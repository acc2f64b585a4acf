// `gphotosfs`: the mount and its account commands.
import ArgumentParser
import Foundation

/// The `gphotosfs` command.
public struct GPhotosFSCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gphotosfs",
        abstract: "Google Photos app-created albums as a file system.",
        version: "0.1.0",
        subcommands: [AuthCommand.self])
    public init() {}
}
