// Process exit codes of gphotos-sync, with the same numbers and meanings as rclone's.
import Foundation

/// Exit status of a sync run; numbers and meanings follow rclone's documented exit codes.
public enum SyncExitCode: Int32, Sendable, CaseIterable {
    /// Success.
    case success = 0
    /// Error not otherwise categorised.
    case uncategorizedError = 1
    /// Syntax or usage error.
    case usageError = 2
    /// Directory not found.
    case directoryNotFound = 3
    /// File not found.
    case fileNotFound = 4
    /// Temporary error (one that more retries might fix).
    case temporaryError = 5
    /// Less serious errors (like 461 errors from Dropbox); retrying will not help.
    case lessSeriousError = 6
    /// Fatal error (one that more retries won't fix, like account suspended).
    case fatalError = 7
    /// Transfer exceeded the limit set by a max-transfer option.
    case transferLimitReached = 8
    /// Operation successful, but no files transferred (only with a flag such as --error-on-no-transfer).
    case noFilesTransferred = 9
    /// Duration exceeded the limit set by a max-duration option.
    case durationLimitReached = 10

    /// One-line meaning, for the man page's exit status table.
    public var meaning: String {
        switch self {
        case .success: "Success."
        case .uncategorizedError: "Error not otherwise categorised."
        case .usageError: "Syntax or usage error."
        case .directoryNotFound: "Directory not found."
        case .fileNotFound: "File not found."
        case .temporaryError: "Temporary error; retrying may help."
        case .lessSeriousError: "Less serious error; retrying will not help."
        case .fatalError: "Fatal error; retrying will not help."
        case .transferLimitReached: "Transfer limit reached."
        case .noFilesTransferred: "Success, but nothing was transferred (only with --error-on-no-transfer)."
        case .durationLimitReached: "Duration limit reached."
        }
    }
}
