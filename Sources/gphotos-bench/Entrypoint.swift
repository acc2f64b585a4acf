// gphotos-bench entry point: benchmarks of the PhotosAPI client against a gphotos-emulator (driven by scripts/bench).
import ArgumentParser

/// The `gphotos-bench` command: one subcommand per benchmark.
@main
struct BenchCommand: AsyncParsableCommand {
    /// Command-line metadata.
    static let configuration = CommandConfiguration(
        commandName: "gphotos-bench",
        abstract: "Benchmarks of the PhotosAPI client against a local gphotos-emulator (see scripts/bench).",
        subcommands: [UploadsBench.self])
}
