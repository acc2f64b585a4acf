// Picker API through the emulator: sessions, FAILED_PRECONDITION before picking, picked items, Bearer downloads.
import Foundation
import PhotosAPI
import Testing

@Suite("PhotosAPI Picker against the emulator")
struct PickerTests {
    @Test("create, get, list before picking (FAILED_PRECONDITION), delete; unknown session NOT_FOUND")
    func sessions() async throws {
        try await withEmulator { emu in
            let acct = try await TestAccount(emu, scopes: [PhotosScopes.picker])
            let c = acct.client()
            let s = try await c.createPickingSession()
            #expect(!s.id.isEmpty && !s.pickerUri.isEmpty && !s.mediaItemsSet)
            #expect(s.pollInterval != nil && s.maxItemCount == 2000)
            let g = try await c.getPickingSession(s.id)
            #expect(g.id == s.id)
            do throws(PhotosAPIError) {
                _ = try await c.listPickedItems(sessionId: s.id)
                Issue.record("expected FAILED_PRECONDITION")
            } catch let e {
                guard case .api(_, 400, let st) = e else { Issue.record("got \(e)"); return }
                #expect(st.status == "FAILED_PRECONDITION")
            }
            try await c.deletePickingSession(s.id)
            do throws(PhotosAPIError) {
                _ = try await c.getPickingSession(s.id)
                Issue.record("expected NOT_FOUND")
            } catch let e {
                guard case .api(_, 404, let st) = e else { Issue.record("got \(e)"); return }
                #expect(st.status == "NOT_FOUND")
            }
        }
    }

    @Test("after the user picks: items listed across pages and downloaded with the Bearer token")
    func picked() async throws {
        try await withEmulator { emu in
            let acct = try await TestAccount(emu, scopes: [PhotosScopes.picker])
            let c = acct.client()
            let (seeded, so) = try await emu.control("POST", "seed", ["generate": ["count": 5]])
            #expect(seeded == 200, "\(so)")
            let s = try await c.createPickingSession()
            let (st, o) = try await emu.control("POST", "picker/sessions/\(s.id):pick", ["count": 3])
            #expect(st == 200, "\(o)")
            let g = try await c.getPickingSession(s.id)
            #expect(g.mediaItemsSet && g.pollInterval == nil)
            let items = try await c.pickedItems(sessionId: s.id, pageSize: 2).collect()
            #expect(items.count == 3)
            guard let first = items.first, let file = first.mediaFile else { return }
            #expect(!file.filename.isEmpty && (file.mediaFileMetadata?.width ?? 0) > 0)
            let target = acct.dir.file("picked")
            let n = try await c.downloadPicked(first, to: target)
            #expect(n > 0)
            // Without the Bearer header the media host refuses.
            do throws(PhotosAPIError) {
                _ = try await c.downloadData(baseUrl: file.baseUrl, parameters: first.type == "VIDEO" ? "dv" : "d", bearer: false)
                Issue.record("expected a refusal")
            } catch let e {
                guard case .baseURLExpired(403) = e else { Issue.record("got \(e)"); return }
            }
        }
    }
}
