// Picker API (§8): sessions create/get/delete, picked items, and Bearer-authenticated base-URL downloads.
import Foundation

extension PhotosClient {
    /// sessions.create; `maxItemCount` limits the picks, `requestId` makes the create idempotent.
    public func createPickingSession(maxItemCount: Int64? = nil, requestId: String? = nil) async throws(PhotosAPIError) -> PickingSession {
        struct PC: Encodable { var maxItemCount: String }
        struct Body: Encodable { var pickingConfig: PC? }
        var q = Query(); q.add("requestId", requestId)
        return try await json(PickingSession.self, endpoint: "picker.sessions.create", method: "POST", url: endpoints.picker + "/sessions" + q.string,
                              body: Body(pickingConfig: maxItemCount.map { PC(maxItemCount: String($0)) }), idempotent: requestId != nil)
    }

    /// sessions.get (poll until mediaItemsSet).
    public func getPickingSession(_ id: String) async throws(PhotosAPIError) -> PickingSession {
        try await json(PickingSession.self, endpoint: "picker.sessions.get", method: "GET", url: endpoints.picker + "/sessions/" + Self.seg(id), idempotent: true)
    }

    /// sessions.delete.
    public func deletePickingSession(_ id: String) async throws(PhotosAPIError) {
        struct Empty: Decodable {}
        _ = try await json(Empty.self, endpoint: "picker.sessions.delete", method: "DELETE", url: endpoints.picker + "/sessions/" + Self.seg(id), idempotent: true)
    }

    /// mediaItems.list for a session: one page (default 50, max 100).
    public func listPickedItems(sessionId: String, pageSize: Int? = nil, pageToken: String? = nil) async throws(PhotosAPIError) -> Page<PickedMediaItem> {
        struct R: Decodable { var mediaItems: [PickedMediaItem]?; var nextPageToken: String? }
        var q = Query(); q.add("sessionId", sessionId); q.add("pageSize", pageSize); q.add("pageToken", pageToken)
        let r = try await json(R.self, endpoint: "picker.mediaItems.list", method: "GET", url: endpoints.picker + "/mediaItems" + q.string, idempotent: true)
        return Page(items: r.mediaItems ?? [], nextPageToken: r.nextPageToken)
    }

    /// Every picked item of a session.
    public func pickedItems(sessionId: String, pageSize: Int = 100) -> PagedSequence<PickedMediaItem> {
        PagedSequence { token in try await self.listPickedItems(sessionId: sessionId, pageSize: pageSize, pageToken: token) }
    }

    /// Downloads a picked item (Bearer required) into `path`.
    @discardableResult
    public func downloadPicked(_ item: PickedMediaItem, to path: String) async throws(PhotosAPIError) -> Int64 {
        guard let file = item.mediaFile, !file.baseUrl.isEmpty else { throw .invalidResponse(endpoint: "picker.media", detail: "item has no baseUrl") }
        let param = item.type == "VIDEO" ? "dv" : "d"
        return try await download(baseUrl: file.baseUrl, parameters: param, to: path, bearer: true, endpoint: "picker.media")
    }
}
