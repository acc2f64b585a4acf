// PhotosAPI: the Google Photos Library and Picker API client (HTTP over libcurl, OAuth2, uploads, retries).
//
// Layout: Transport.swift + CurlTransport.swift (HTTP), Endpoints.swift, Models.swift + PickerModels.swift,
// Errors.swift (the one error type), RetryPolicy.swift (the one retry/pacing policy), TokenStore.swift +
// OAuth.swift + TokenManager.swift (credentials), PhotosClient*.swift (the API methods), Loopback.swift (login).
import Logging

/// Logger labels used by this module.
public enum PhotosAPILog {
    /// The default logger for the client when none is injected.
    public static let defaultLogger = Logger(label: "gphotosfs.photosapi")
}
