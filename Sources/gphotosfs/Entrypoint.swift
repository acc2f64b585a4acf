// gphotosfs entry point: a thin shim over the Commands library.
import Commands

@main
enum Entrypoint {
    static func main() async { await GPhotosFSCommand.main() }
}
