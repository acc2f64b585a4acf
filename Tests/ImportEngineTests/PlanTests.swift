// Names and folders of an import's output: album titles as folder names, restored original names, numbered copies,
// the --layout template, and XMP's text.
import Foundation
import Testing
@testable import ImportEngine

@Suite struct FolderNameTests {
    @Test func albumTitlesBecomeOneSafeName() {
        #expect(FolderNames.safe("Paris 6/10/23") == "Paris 6／10／23")
        #expect(FolderNames.safe("..") == "．．" && FolderNames.safe(".") == "．")
        #expect(FolderNames.safe("tab\there\u{7F}") == "tabhere")
        #expect(FolderNames.safe("") == "Untitled album")
        let long = String(repeating: "é", count: 200)   // 400 bytes
        #expect(FolderNames.safe(long).utf8.count <= 255 && FolderNames.safe(long).hasPrefix("éé"))
    }

    @Test func cutNamesAreRestoredFromTheTitle() {
        let title = "PXL_20230809_203449253.LONG_EXPOSURE-02.ORIGINAL.jpg"
        #expect(FolderNames.restoredName("PXL_20230809_203449253.LONG_EXPOSURE-02.ORIGINA.jpg", title: title, rule: .truncated) == title)
        // The counter stays.
        #expect(FolderNames.restoredName("PXL_20230809_203449253.LONG_EXPOSURE-02.ORIGINA(1).jpg", title: title, rule: .counter)
                == "PXL_20230809_203449253.LONG_EXPOSURE-02.ORIGINAL(1).jpg")
        // Not a cut of the title, another extension, an edited copy, a title with a slash: the member's own name.
        #expect(FolderNames.restoredName("IMG_1.jpg", title: "Holiday.jpg", rule: .title) == "IMG_1.jpg")
        #expect(FolderNames.restoredName("IMG_1.jpg", title: "IMG_1234.heic", rule: .title) == "IMG_1.jpg")
        #expect(FolderNames.restoredName("IMG-edited.jpg", title: "IMG-edited-more.jpg", rule: .edited) == "IMG-edited.jpg")
        #expect(FolderNames.restoredName("IMG_1.jpg", title: "IMG_1/../x.jpg", rule: .exact) == "IMG_1.jpg")
    }

    @Test func copiesAreNumberedAsTakeoutDoes() {
        #expect(FolderNames.numbered("IMG.jpg", 1) == "IMG(1).jpg")
        #expect(FolderNames.numbered("README", 2) == "README(2)")
    }
}

@Suite struct LayoutTests {
    @Test func templatesAreChecked() {
        for bad in ["", "/abs/{year}", "../{year}", "{year}/../x", "{yaer}", "{year}//x", "a/./b"] {
            #expect(throws: (any Error).self, "\(bad)") { try FolderLayout(bad) }
        }
        #expect((try? FolderLayout("{year}/{month}")) != nil)
    }

    @Test func foldersComeFromTheCaptureDateInUTC() throws {
        let t: Int64 = 1_696_573_800   // 2023-10-06 06:30 UTC
        #expect(try FolderLayout("{year}").render(time: t, year: nil) == "2023")
        #expect(try FolderLayout("{year}/{month}/{day}").render(time: t, year: nil) == "2023/10/06")
        // The year Google filed the item under wins; no date at all: Undated.
        #expect(try FolderLayout("{year}").render(time: t, year: 2022) == "2022")
        #expect(try FolderLayout("{year}/{month}").render(time: nil, year: nil) == "Undated")
    }
}

@Suite struct XMPTests {
    @Test func packetCarriesDatePlaceAndEscapedDescription() {
        var m = ItemMetadata()
        m.taken = 1_696_573_800
        m.latitude = -33.8568; m.longitude = 151.2153; m.altitude = -3
        m.description = "Opera <House> & \"harbour\"\u{1}"
        let x = m.xmpPacket()
        #expect(x.contains("<exif:DateTimeOriginal>2023-10-06T06:30:00Z</exif:DateTimeOriginal>"))
        #expect(x.contains("<exif:GPSLatitude>33,51.408000S</exif:GPSLatitude>"))
        #expect(x.contains("<exif:GPSLongitude>151,12.918000E</exif:GPSLongitude>"))
        #expect(x.contains("<exif:GPSAltitudeRef>1</exif:GPSAltitudeRef>") && x.contains("<exif:GPSAltitude>300/100</exif:GPSAltitude>"))
        #expect(x.contains("Opera &lt;House&gt; &amp; &quot;harbour&quot;</rdf:li>"))
        #expect(!x.contains("\u{1}"))
    }
}
