// MediaItems routes of the emulator.
import Foundation
import GRDB
import Hummingbird

extension Emulator {
    static let mediaItemRoutes: [Route] = []
}
