// gphotos-sync entry point: a thin shim over the Commands library (usage errors exit 2, as rclone's do).
import Commands

@main
enum Entrypoint {
    static func main() async {
        await GPhotosSyncCommand.runMain(Array(CommandLine.arguments.dropFirst()))
    }
}
