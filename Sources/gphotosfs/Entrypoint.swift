// gphotosfs entry point: a thin shim over the Commands library (it also accepts mount.fuse3's call form).
import Commands

@main
enum Entrypoint {
    static func main() async {
        await GPhotosFSCommand.main(GPhotosFSCommand.normalizedArguments(Array(CommandLine.arguments.dropFirst())))
    }
}
