// OAuth scopes of the Google Photos APIs after 31 March 2025, and which are gone.
import Foundation

/// Scope strings the emulator knows.
enum Scope {
    static let prefix = "https://www.googleapis.com/auth/"
    /// Upload, batchCreate, albums.create, add to app albums.
    static let appendOnly = prefix + "photoslibrary.appendonly"
    /// Read app-created albums and items.
    static let readAppCreated = prefix + "photoslibrary.readonly.appcreateddata"
    /// Patch and remove on app-created data.
    static let editAppCreated = prefix + "photoslibrary.edit.appcreateddata"
    /// The Picker API.
    static let picker = prefix + "photospicker.mediaitems.readonly"
    /// Scopes Google removed on 31 March 2025: tokens holding only these get 403 insufficient scopes.
    static let removed: Set<String> = [prefix + "photoslibrary", prefix + "photoslibrary.readonly", prefix + "photoslibrary.sharing"]
    /// Identity scopes clients commonly add.
    static let identity: Set<String> = ["openid", "profile", "email", prefix + "userinfo.profile", prefix + "userinfo.email"]
    /// Every scope the authorize and token endpoints accept.
    static let known: Set<String> = Set([appendOnly, readAppCreated, editAppCreated, picker]).union(removed).union(identity)

    /// Splits a space-separated scope string into a set, dropping empties.
    static func parse(_ s: String) -> Set<String> {
        Set(s.split(whereSeparator: { $0 == " " || $0 == "+" || $0 == "," }).map(String.init))
    }

    /// Joins scopes into a stable space-separated string.
    static func join(_ s: Set<String>) -> String { s.sorted().joined(separator: " ") }
}
