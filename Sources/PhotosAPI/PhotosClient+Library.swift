// Library API methods: albums and media items (§2.1).
import Foundation

extension PhotosClient {
    private struct AlbumsPage: Decodable { var albums: [Album]?; var nextPageToken: String? }
    private struct ItemsPage: Decodable { var mediaItems: [MediaItem]?; var nextPageToken: String? }
    private struct Empty: Decodable {}

    // MARK: Albums

    /// albums.list: one page (pageSize ≤ 50).
    public func listAlbums(pageSize: Int? = nil, pageToken: String? = nil) async throws(PhotosAPIError) -> Page<Album> {
        var q = Query(); q.add("pageSize", pageSize); q.add("pageToken", pageToken)
        let p = try await json(AlbumsPage.self, endpoint: "albums.list", method: "GET", url: endpoints.library + "/albums" + q.string, idempotent: true)
        return Page(items: p.albums ?? [], nextPageToken: p.nextPageToken)
    }

    /// Every app-created album, page by page.
    public func albums(pageSize: Int = 50) -> PagedSequence<Album> {
        PagedSequence { token in try await self.listAlbums(pageSize: pageSize, pageToken: token) }
    }

    /// albums.get.
    public func getAlbum(_ id: String) async throws(PhotosAPIError) -> Album {
        try await json(Album.self, endpoint: "albums.get", method: "GET", url: endpoints.library + "/albums/" + Self.seg(id), idempotent: true)
    }

    /// albums.create. Not retried after it may have reached Google: an outcomeUnknown error means "list albums to check".
    public func createAlbum(title: String) async throws(PhotosAPIError) -> Album {
        struct Body: Encodable { struct A: Encodable { var title: String }; var album: A }
        return try await json(Album.self, endpoint: "albums.create", method: "POST", url: endpoints.library + "/albums",
                              body: Body(album: .init(title: title)), idempotent: false)
    }

    /// albums.patch of title and/or cover.
    public func patchAlbum(_ id: String, title: String? = nil, coverPhotoMediaItemId: String? = nil) async throws(PhotosAPIError) -> Album {
        struct Body: Encodable { var title: String?; var coverPhotoMediaItemId: String? }
        var mask: [String] = []
        if title != nil { mask.append("title") }
        if coverPhotoMediaItemId != nil { mask.append("coverPhotoMediaItemId") }
        var q = Query(); q.add("updateMask", mask.joined(separator: ","))
        return try await json(Album.self, endpoint: "albums.patch", method: "PATCH",
                              url: endpoints.library + "/albums/" + Self.seg(id) + q.string,
                              body: Body(title: title, coverPhotoMediaItemId: coverPhotoMediaItemId), idempotent: true)
    }

    /// albums.batchAddMediaItems (≤ 50 ids, all or nothing).
    public func batchAddMediaItems(albumId: String, mediaItemIds: [String]) async throws(PhotosAPIError) {
        struct Body: Encodable { var mediaItemIds: [String] }
        _ = try await json(Empty.self, endpoint: "albums.batchAddMediaItems", method: "POST",
                           url: endpoints.library + "/albums/" + Self.seg(albumId) + ":batchAddMediaItems",
                           body: Body(mediaItemIds: mediaItemIds), idempotent: true)
    }

    /// albums.batchRemoveMediaItems (1..50 ids, no duplicates).
    public func batchRemoveMediaItems(albumId: String, mediaItemIds: [String]) async throws(PhotosAPIError) {
        struct Body: Encodable { var mediaItemIds: [String] }
        _ = try await json(Empty.self, endpoint: "albums.batchRemoveMediaItems", method: "POST",
                           url: endpoints.library + "/albums/" + Self.seg(albumId) + ":batchRemoveMediaItems",
                           body: Body(mediaItemIds: mediaItemIds), idempotent: true)
    }

    // MARK: Media items

    /// mediaItems.list: one page (pageSize ≤ 100).
    public func listMediaItems(pageSize: Int? = nil, pageToken: String? = nil) async throws(PhotosAPIError) -> Page<MediaItem> {
        var q = Query(); q.add("pageSize", pageSize); q.add("pageToken", pageToken)
        let p = try await json(ItemsPage.self, endpoint: "mediaItems.list", method: "GET", url: endpoints.library + "/mediaItems" + q.string, idempotent: true)
        return Page(items: p.mediaItems ?? [], nextPageToken: p.nextPageToken)
    }

    /// Every app-created media item.
    public func mediaItems(pageSize: Int = 100) -> PagedSequence<MediaItem> {
        PagedSequence { token in try await self.listMediaItems(pageSize: pageSize, pageToken: token) }
    }

    /// mediaItems.search: one page. `albumId` and `filters` exclude each other (Google answers 400).
    public func searchMediaItems(albumId: String? = nil, filters: SearchFilters? = nil, orderBy: String? = nil,
                                 pageSize: Int? = nil, pageToken: String? = nil) async throws(PhotosAPIError) -> Page<MediaItem> {
        struct Body: Encodable { var albumId: String?; var pageSize: Int?; var pageToken: String?; var filters: SearchFilters?; var orderBy: String? }
        let p = try await json(ItemsPage.self, endpoint: "mediaItems.search", method: "POST", url: endpoints.library + "/mediaItems:search",
                               body: Body(albumId: albumId, pageSize: pageSize, pageToken: pageToken, filters: filters, orderBy: orderBy),
                               idempotent: true)
        return Page(items: p.mediaItems ?? [], nextPageToken: p.nextPageToken)
    }

    /// Every item of an album (search with albumId), in album order.
    public func mediaItems(inAlbum albumId: String, pageSize: Int = 100) -> PagedSequence<MediaItem> {
        PagedSequence { token in try await self.searchMediaItems(albumId: albumId, pageSize: pageSize, pageToken: token) }
    }

    /// Every item matching `filters`.
    public func search(filters: SearchFilters, orderBy: String? = nil, pageSize: Int = 100) -> PagedSequence<MediaItem> {
        PagedSequence { token in try await self.searchMediaItems(filters: filters, orderBy: orderBy, pageSize: pageSize, pageToken: token) }
    }

    /// mediaItems.get.
    public func getMediaItem(_ id: String) async throws(PhotosAPIError) -> MediaItem {
        try await json(MediaItem.self, endpoint: "mediaItems.get", method: "GET", url: endpoints.library + "/mediaItems/" + Self.seg(id), idempotent: true)
    }

    /// mediaItems.batchGet (1..50 distinct ids): results in request order, failures per item.
    public func batchGetMediaItems(_ ids: [String]) async throws(PhotosAPIError) -> [MediaItemResult] {
        struct R: Decodable { var mediaItemResults: [MediaItemResult]? }
        var q = Query()
        for id in ids { q.pairs.append(("mediaItemIds", id)) }
        let r = try await json(R.self, endpoint: "mediaItems.batchGet", method: "GET", url: endpoints.library + "/mediaItems:batchGet" + q.string, idempotent: true)
        return r.mediaItemResults ?? []
    }

    /// mediaItems.batchCreate (≤ 50). Never retried blindly: on outcomeUnknown, search the album before trying again.
    /// Per-item failures come back in the results (check `succeeded` / `error`).
    public func batchCreate(_ items: [NewMediaItem], albumId: String? = nil, position: AlbumPosition? = nil) async throws(PhotosAPIError) -> [NewMediaItemResult] {
        struct Simple: Encodable { var uploadToken: String; var fileName: String? }
        struct Item: Encodable { var description: String?; var simpleMediaItem: Simple }
        struct Body: Encodable { var albumId: String?; var newMediaItems: [Item]; var albumPosition: AlbumPosition? }
        struct R: Decodable { var newMediaItemResults: [NewMediaItemResult]? }
        let body = Body(albumId: albumId, newMediaItems: items.map {
            Item(description: $0.description, simpleMediaItem: Simple(uploadToken: $0.uploadToken, fileName: $0.fileName))
        }, albumPosition: position)
        let r = try await json(R.self, endpoint: "mediaItems.batchCreate", method: "POST", url: endpoints.library + "/mediaItems:batchCreate",
                               body: body, idempotent: false)
        let results = r.newMediaItemResults ?? []
        guard results.count == items.count else {
            throw .invalidResponse(endpoint: "mediaItems.batchCreate", detail: "expected \(items.count) results, got \(results.count)")
        }
        return results
    }

    /// mediaItems.patch of the description.
    public func patchMediaItem(_ id: String, description: String) async throws(PhotosAPIError) -> MediaItem {
        struct Body: Encodable { var description: String }
        return try await json(MediaItem.self, endpoint: "mediaItems.patch", method: "PATCH",
                              url: endpoints.library + "/mediaItems/" + Self.seg(id) + "?updateMask=description",
                              body: Body(description: description), idempotent: true)
    }
}
