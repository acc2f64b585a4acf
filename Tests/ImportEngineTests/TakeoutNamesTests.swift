// Test vectors for Takeout sidecar matching (one group per rule), folder names and JSON classification.
import Foundation
import Testing
@testable import ImportEngine

/// The vectors: reference examples (immich-go's matcher cases among them) plus our own tricky names.
enum TakeoutVectors {
    /// One folder's media and sidecar names, and the matches expected from them.
    struct Folder: Sendable, CustomTestStringConvertible {
        /// What the vector shows.
        let label: String
        /// Media file names.
        let media: [String]
        /// Sidecars with their JSON titles.
        let sidecars: [SidecarName]
        /// The expected result of `TakeoutNames.match`.
        let expected: [String: SidecarMatch]

        /// The label, as Swift Testing shows it.
        var testDescription: String { label }

        /// Creates a vector; `titles` maps sidecar names to JSON titles (others have none).
        init(_ label: String, media: [String], sidecars: [String], titles: [String: String] = [:],
             expect expected: [String: SidecarMatch] = [:]) {
            self.label = label
            self.media = media
            self.sidecars = sidecars.map { SidecarName(name: $0, title: titles[$0]) }
            self.expected = expected
        }

        /// The match for the inputs in the given order and reversed (the result must not depend on order).
        var results: [[String: SidecarMatch]] {
            [TakeoutNames.match(media: media, sidecars: sidecars),
             TakeoutNames.match(media: media.reversed(), sidecars: sidecars.reversed())]
        }
    }

    /// One JSON document and the classification expected from it.
    struct JSONDocument: Sendable, CustomTestStringConvertible {
        /// What the vector shows.
        let label: String
        /// The document's bytes.
        let data: Data
        /// The expected result of `TakeoutJSON.parse`.
        let expected: TakeoutJSON

        /// The label, as Swift Testing shows it.
        var testDescription: String { label }

        /// Creates a vector from JSON text.
        init(_ label: String, _ json: String, _ expected: TakeoutJSON) {
            self.init(label, Data(json.utf8), expected)
        }

        /// Creates a vector from raw bytes.
        init(_ label: String, _ data: Data, _ expected: TakeoutJSON) {
            self.label = label
            self.data = data
            self.expected = expected
        }
    }

    /// Shorthand for an expected match.
    static func hit(_ sidecar: String, _ rule: SidecarRule) -> SidecarMatch { SidecarMatch(sidecar: sidecar, rule: rule) }

    /// Rule `exact`: the whole media name, then ".json", ".supplemental-metadata.json" or a cut-down suffix.
    static let exact: [Folder] = [
        Folder("old form", media: ["PXL_20211013_220651983.jpg"], sidecars: ["PXL_20211013_220651983.jpg.json"],
                     expect: ["PXL_20211013_220651983.jpg": hit("PXL_20211013_220651983.jpg.json", .exact)]),
        Folder("one digit off", media: ["PXL_20211013_220651958.jpg"], sidecars: ["PXL_20211013_220651983.jpg.json"]),
        Folder("supplemental-metadata", media: ["IMG_1234.HEIC"], sidecars: ["IMG_1234.HEIC.supplemental-metadata.json"],
                     expect: ["IMG_1234.HEIC": hit("IMG_1234.HEIC.supplemental-metadata.json", .exact)]),
        Folder("suffix cut to .supple", media: ["Screenshot_20240831-005348_WhatsApp.jpg"],
                     sidecars: ["Screenshot_20240831-005348_WhatsApp.jpg.supple.json"],
                     expect: ["Screenshot_20240831-005348_WhatsApp.jpg": hit("Screenshot_20240831-005348_WhatsApp.jpg.supple.json", .exact)]),
        Folder(".LS.mp4 kept, suffix cut", media: ["PXL_20220101_101010101.LS.mp4"],
                     sidecars: ["PXL_20220101_101010101.LS.mp4.supplemental-met.json"],
                     expect: ["PXL_20220101_101010101.LS.mp4": hit("PXL_20220101_101010101.LS.mp4.supplemental-met.json", .exact)]),
        Folder("~2 kept", media: ["PXL_20210102_221126856.MP~2.jpg"], sidecars: ["PXL_20210102_221126856.MP~2.jpg.json"],
                     expect: ["PXL_20210102_221126856.MP~2.jpg": hit("PXL_20210102_221126856.MP~2.jpg.json", .exact)]),
        Folder("motion photo .MP.jpg", media: ["PXL_20231118_035751175.MP.jpg"], sidecars: ["PXL_20231118_035751175.MP.jpg.json"],
                     expect: ["PXL_20231118_035751175.MP.jpg": hit("PXL_20231118_035751175.MP.jpg.json", .exact)]),
        Folder("parentheses in the upload name", media: ["IMG(1).JPG"], sidecars: ["IMG(1).JPG.json"],
                     expect: ["IMG(1).JPG": hit("IMG(1).JPG.json", .exact)]),
        Folder("real extension .s beats a cut suffix", media: ["notes", "notes.s"], sidecars: ["notes.s.json"],
                     expect: ["notes.s": hit("notes.s.json", .exact)]),
        Folder(".s read as a cut suffix when nothing else claims it", media: ["notes"], sidecars: ["notes.s.json"],
                     expect: ["notes": hit("notes.s.json", .exact)]),
        Folder("NFD media, NFC sidecar", media: ["Cafe\u{301}.jpg"], sidecars: ["Caf\u{E9}.jpg.json"],
                     expect: ["Cafe\u{301}.jpg": hit("Caf\u{E9}.jpg.json", .exact)]),
    ]

    /// Rule `truncated`: the sidecar name is the media name cut to 46 runes (or UTF-16 units) before ".json".
    static let truncated: [Folder] = [
        Folder("media cut to 47, sidecar to 46", media: ["PXL_20230809_203449253.LONG_EXPOSURE-02.ORIGINA.jpg"],
                     sidecars: ["PXL_20230809_203449253.LONG_EXPOSURE-02.ORIGIN.json"],
                     expect: ["PXL_20230809_203449253.LONG_EXPOSURE-02.ORIGINA.jpg":
                                hit("PXL_20230809_203449253.LONG_EXPOSURE-02.ORIGIN.json", .truncated)]),
        Folder("cut inside the extension", media: ["05yqt21kruxwwlhhgrwrdyb6chhwszi9bqmzu16w0 2.jpg"],
                     sidecars: ["05yqt21kruxwwlhhgrwrdyb6chhwszi9bqmzu16w0 2.jp.json"],
                     expect: ["05yqt21kruxwwlhhgrwrdyb6chhwszi9bqmzu16w0 2.jpg": hit("05yqt21kruxwwlhhgrwrdyb6chhwszi9bqmzu16w0 2.jp.json", .truncated)]),
        Folder("cut inside a dotted name", media: ["Screenshot_2024-08-31-00-53-48-647_com.snapchat.jpg"],
                     sidecars: ["Screenshot_2024-08-31-00-53-48-647_com.snapcha.json"],
                     expect: ["Screenshot_2024-08-31-00-53-48-647_com.snapchat.jpg": hit("Screenshot_2024-08-31-00-53-48-647_com.snapcha.json", .truncated)]),
        Folder("emoji, 46 UTF-16 units", media: ["😀😃😄😁😆😅😂🤣🥲☺️😊😇🙂🙃😉😌😍🥰😘😗😙😚😋😛.jpg"],
                     sidecars: ["😀😃😄😁😆😅😂🤣🥲☺️😊😇🙂🙃😉😌😍🥰😘😗😙😚😋.json"],
                     expect: ["😀😃😄😁😆😅😂🤣🥲☺️😊😇🙂🙃😉😌😍🥰😘😗😙😚😋😛.jpg": hit("😀😃😄😁😆😅😂🤣🥲☺️😊😇🙂🙃😉😌😍🥰😘😗😙😚😋.json", .truncated)]),
        Folder("emoji, 46 runes", media: [String(repeating: "🌅", count: 47) + ".jpg"],
                     sidecars: [String(repeating: "🌅", count: 46) + ".json"],
                     expect: [String(repeating: "🌅", count: 47) + ".jpg": hit(String(repeating: "🌅", count: 46) + ".json", .truncated)]),
        Folder("Cyrillic, cut by runes", media: ["Фотография_с_дня_рождения_бабушки_и_дедушки_201.jpg"],
                     sidecars: ["Фотография_с_дня_рождения_бабушки_и_дедушки_20.json"],
                     expect: ["Фотография_с_дня_рождения_бабушки_и_дедушки_201.jpg": hit("Фотография_с_дня_рождения_бабушки_и_дедушки_20.json", .truncated)]),
        Folder("Cyrillic, a 46-byte cut is not Google's", media: ["Фотография_с_дня_рождения_бабушки_и_дедушки_201.jpg"],
                     sidecars: ["Фотография_с_дня_рождени.json"]),
        Folder("NFD media, cut counted in NFC",
                     media: ["E\u{301}te\u{301}_a\u{300}_la_plage_de_Saint-Jean-de-Luz_avec_les_en.jpg"],
                     sidecars: ["\u{C9}t\u{E9}_\u{E0}_la_plage_de_Saint-Jean-de-Luz_avec_les_e.json"],
                     expect: ["E\u{301}te\u{301}_a\u{300}_la_plage_de_Saint-Jean-de-Luz_avec_les_en.jpg":
                                hit("\u{C9}t\u{E9}_\u{E0}_la_plage_de_Saint-Jean-de-Luz_avec_les_e.json", .truncated)]),
        Folder("short names are never cut", media: ["IMG_0001.jpg"], sidecars: ["IMG_0001.jp.json"]),
        Folder("two names cut alike: the title decides",
                     media: ["Birthday_party_at_grandmas_house_with_everyone1.jpg", "Birthday_party_at_grandmas_house_with_everyone2.jpg"],
                     sidecars: ["Birthday_party_at_grandmas_house_with_everyone.json"],
                     titles: ["Birthday_party_at_grandmas_house_with_everyone.json": "Birthday_party_at_grandmas_house_with_everyone2_2019.jpg"],
                     expect: ["Birthday_party_at_grandmas_house_with_everyone2.jpg":
                                hit("Birthday_party_at_grandmas_house_with_everyone.json", .truncated)]),
    ]

    /// Rule `counter`: equal "(n)" on both sides, in every sidecar position, with truncation too; unequal never match.
    static let counter: [Folder] = [
        Folder("original and duplicate", media: ["IMG_3479.JPG", "IMG_3479(1).JPG"],
                     sidecars: ["IMG_3479.JPG.json", "IMG_3479.JPG(1).json"],
                     expect: ["IMG_3479.JPG": hit("IMG_3479.JPG.json", .exact), "IMG_3479(1).JPG": hit("IMG_3479.JPG(1).json", .counter)]),
        Folder("counter before .json", media: ["IMG_2710(1).HEIC"], sidecars: ["IMG_2710.HEIC(1).json"],
                     expect: ["IMG_2710(1).HEIC": hit("IMG_2710.HEIC(1).json", .counter)]),
        Folder("counter after supplemental-metadata", media: ["Scan35(1).jpg"], sidecars: ["Scan35.jpg.supplemental-metadata(1).json"],
                     expect: ["Scan35(1).jpg": hit("Scan35.jpg.supplemental-metadata(1).json", .counter)]),
        Folder("two-digit counter", media: ["CLIP0001(10).AVI"], sidecars: ["CLIP0001.AVI.supplemental-metadata(10).json"],
                     expect: ["CLIP0001(10).AVI": hit("CLIP0001.AVI.supplemental-metadata(10).json", .counter)]),
        Folder("counter before supplemental-metadata", media: ["IMG_2367(1).HEIC"], sidecars: ["IMG_2367.HEIC(1).supplemental-metadata.json"],
                     expect: ["IMG_2367(1).HEIC": hit("IMG_2367.HEIC(1).supplemental-metadata.json", .counter)]),
        Folder("counter with truncation", media: ["13039_327707840323_537645323_9470255_27214_n(1).jpg"],
                     sidecars: ["13039_327707840323_537645323_9470255_27214_n.j(1).json"],
                     expect: ["13039_327707840323_537645323_9470255_27214_n(1).jpg": hit("13039_327707840323_537645323_9470255_27214_n.j(1).json", .counter)]),
        Folder("large counter with truncation", media: ["Backyard_ceremony_wedding_photography_xxxxxxx_m(494).jpg"],
                     sidecars: ["Backyard_ceremony_wedding_photography_xxxxxxx_(494).json"],
                     expect: ["Backyard_ceremony_wedding_photography_xxxxxxx_m(494).jpg": hit("Backyard_ceremony_wedding_photography_xxxxxxx_(494).json", .counter)]),
        Folder("truncated original and duplicate",
                     media: ["Backyard_ceremony_wedding_photography_xxxxxxx_m.jpg", "Backyard_ceremony_wedding_photography_xxxxxxx_m(1).jpg"],
                     sidecars: ["Backyard_ceremony_wedding_photography_xxxxxxx_.json", "Backyard_ceremony_wedding_photography_xxxxxxx_(1).json"],
                     expect: ["Backyard_ceremony_wedding_photography_xxxxxxx_m.jpg": hit("Backyard_ceremony_wedding_photography_xxxxxxx_.json", .truncated),
                              "Backyard_ceremony_wedding_photography_xxxxxxx_m(1).jpg": hit("Backyard_ceremony_wedding_photography_xxxxxxx_(1).json", .counter)]),
        Folder("not: media counter, plain sidecar", media: ["DSC_0104(1).JPG"], sidecars: ["DSC_0104.JPG.json"],
                     titles: ["DSC_0104.JPG.json": "DSC_0104.JPG"]),
        Folder("not: plain media, sidecar counter", media: ["DSC_0103.JPG"], sidecars: ["DSC_0103.JPG(1).json"],
                     titles: ["DSC_0103.JPG(1).json": "DSC_0103.JPG"]),
        Folder("not: plain media, supplemental counter", media: ["DSC_0105.JPG"], sidecars: ["DSC_0105.JPG.supplemental-metadata(1).json"]),
        Folder("not: different counters", media: ["DSC_0102(1).JPG"], sidecars: ["DSC_0102.JPG(2).json"]),
        Folder("not: different counters, truncated", media: ["Backyard_ceremony_wedding_photography_xxxxxxx_m(185).jpg"],
                     sidecars: ["Backyard_ceremony_wedding_photography_xxxxxxx_(494).json"]),
    ]

    /// Rule `forgottenDuplicate`: a counter the truncated sidecar name lost; never steals a claimed sidecar.
    static let forgottenDuplicate: [Folder] = [
        Folder("counter lost by truncation", media: ["original_1d4caa6f-16c6-4c3d-901b-9387de10e528_P(1).jpg"],
                     sidecars: ["original_1d4caa6f-16c6-4c3d-901b-9387de10e528_.json"],
                     expect: ["original_1d4caa6f-16c6-4c3d-901b-9387de10e528_P(1).jpg":
                                hit("original_1d4caa6f-16c6-4c3d-901b-9387de10e528_.json", .forgottenDuplicate)]),
        Folder("the plain name keeps it",
                     media: ["original_1d4caa6f-16c6-4c3d-901b-9387de10e528_P.jpg", "original_1d4caa6f-16c6-4c3d-901b-9387de10e528_P(1).jpg"],
                     sidecars: ["original_1d4caa6f-16c6-4c3d-901b-9387de10e528_.json"],
                     expect: ["original_1d4caa6f-16c6-4c3d-901b-9387de10e528_P.jpg":
                                hit("original_1d4caa6f-16c6-4c3d-901b-9387de10e528_.json", .truncated)]),
        Folder("not: short names lose no counter", media: ["IMG(1).jpg"], sidecars: ["IMG.json"]),
    ]

    /// Rule `edited`: edited copies share the original's sidecar, whatever rule found it.
    static let edited: [Folder] = [
        Folder("shares an exact sidecar", media: ["IMAG0061.JPG", "IMAG0061-edited.JPG"], sidecars: ["IMAG0061.JPG.supplemental-metadata.json"],
                     expect: ["IMAG0061.JPG": hit("IMAG0061.JPG.supplemental-metadata.json", .exact),
                              "IMAG0061-edited.JPG": hit("IMAG0061.JPG.supplemental-metadata.json", .edited)]),
        Folder("shares a no-extension sidecar", media: ["2234089303984509579.jpg", "2234089303984509579-edited.jpg"],
                     sidecars: ["2234089303984509579.supplemental-metadata.json"],
                     expect: ["2234089303984509579.jpg": hit("2234089303984509579.supplemental-metadata.json", .noExtension),
                              "2234089303984509579-edited.jpg": hit("2234089303984509579.supplemental-metadata.json", .edited)]),
        Folder("original absent", media: ["2234089303984509579-edited.jpg"], sidecars: ["2234089303984509579.supplemental-metadata.json"],
                     expect: ["2234089303984509579-edited.jpg": hit("2234089303984509579.supplemental-metadata.json", .edited)]),
        Folder("French suffix", media: ["PXL_20220405_090123740.PORTRAIT-modifié.jpg"], sidecars: ["PXL_20220405_090123740.PORTRAIT.jpg.json"],
                     expect: ["PXL_20220405_090123740.PORTRAIT-modifié.jpg": hit("PXL_20220405_090123740.PORTRAIT.jpg.json", .edited)]),
        Folder("not: another photo's sidecar", media: ["PXL_20220405_090123741.PORTRAIT-modifié.jpg"],
                     sidecars: ["PXL_20220405_090123740.PORTRAIT.jpg.json"]),
        Folder("German, Japanese, Spanish", media: ["Urlaub-bearbeitet.JPG", "写真-編集済み.jpg", "IMG_0001-ha editado.jpg"],
                     sidecars: ["Urlaub.JPG.json", "写真.jpg.json", "IMG_0001.jpg.json"],
                     expect: ["Urlaub-bearbeitet.JPG": hit("Urlaub.JPG.json", .edited), "写真-編集済み.jpg": hit("写真.jpg.json", .edited),
                              "IMG_0001-ha editado.jpg": hit("IMG_0001.jpg.json", .edited)]),
        Folder("NFD suffix", media: ["Photo-modifie\u{301}.jpg"], sidecars: ["Photo.jpg.json"],
                     expect: ["Photo-modifie\u{301}.jpg": hit("Photo.jpg.json", .edited)]),
        Folder("edited duplicate shares the duplicate's sidecar", media: ["IMG_5000.jpg", "IMG_5000(1).jpg", "IMG_5000-edited(1).jpg"],
                     sidecars: ["IMG_5000.jpg.json", "IMG_5000.jpg(1).json"],
                     expect: ["IMG_5000.jpg": hit("IMG_5000.jpg.json", .exact), "IMG_5000(1).jpg": hit("IMG_5000.jpg(1).json", .counter),
                              "IMG_5000-edited(1).jpg": hit("IMG_5000.jpg(1).json", .edited)]),
        Folder("shares a sidecar the original found by title", media: ["IMG_8000.jpg", "IMG_8000-edited.jpg"],
                     sidecars: ["renamed.json"], titles: ["renamed.json": "IMG_8000.jpg"],
                     expect: ["IMG_8000.jpg": hit("renamed.json", .title), "IMG_8000-edited.jpg": hit("renamed.json", .edited)]),
        Folder("an edited name's own sidecar wins", media: ["IMG_7000.jpg", "IMG_7000-edited.jpg"],
                     sidecars: ["IMG_7000.jpg.json", "IMG_7000-edited.jpg.json"],
                     expect: ["IMG_7000.jpg": hit("IMG_7000.jpg.json", .exact), "IMG_7000-edited.jpg": hit("IMG_7000-edited.jpg.json", .exact)]),
    ]

    /// `isEditedCopy`: a known suffix (any case) right before the extension or a trailing counter, after a non-empty name.
    static let editedNames: [(String, Bool)] = [
        ("IMG-edited.jpg", true), ("x-bearbeitet.JPG", true), ("IMG-EDITED.JPG", true), ("IMG-edited(1).jpg", true),
        ("IMG-edited", true), ("x-du\u{308}zenlendi.png", true), ("Party-collage.jpg", true), ("IMG_0001-ha editado.jpg", true),
        ("edited.jpg", false), ("-edited.jpg", false), ("IMG_edited.jpg", false), ("IMG-editedX.jpg", false),
        ("my-mix-tape.jpg", false), ("IMG.jpg", false), ("IMG-edited.jpg.json", false),
    ]

    /// Rule `noExtension`: the sidecar was named for an upload without (or with another) extension.
    static let noExtension: [Folder] = [
        Folder("extension added by Google", media: ["20030616.jpg"], sidecars: ["20030616.json"],
                     expect: ["20030616.jpg": hit("20030616.json", .noExtension)]),
        Folder("with counters", media: ["20030616.jpg", "20030616(1).jpg"], sidecars: ["20030616.json", "20030616(1).json"],
                     expect: ["20030616.jpg": hit("20030616.json", .noExtension), "20030616(1).jpg": hit("20030616(1).json", .noExtension)]),
        Folder("Pixel .MP ↔ .MP.jpg.json", media: ["PXL_20231118_035751175.MP"], sidecars: ["PXL_20231118_035751175.MP.jpg.json"],
                     expect: ["PXL_20231118_035751175.MP": hit("PXL_20231118_035751175.MP.jpg.json", .noExtension)]),
        Folder("not: steal the exact match", media: ["20030616", "20030616.jpg"], sidecars: ["20030616.json"],
                     expect: ["20030616": hit("20030616.json", .exact)]),
        Folder("not: a Live Photo's other half", media: ["IMG_1234.HEIC", "IMG_1234.MOV"], sidecars: ["IMG_1234.HEIC.json"],
                     expect: ["IMG_1234.HEIC": hit("IMG_1234.HEIC.json", .exact)]),
    ]

    /// Rule `title`: exactly one sidecar of the folder carries the media's (or its original's) name as its title.
    static let title: [Folder] = [
        Folder("renamed sidecar", media: ["IMG_9999.jpg"], sidecars: ["renamed.json"], titles: ["renamed.json": "IMG_9999.jpg"],
                     expect: ["IMG_9999.jpg": hit("renamed.json", .title)]),
        Folder("NFC title, NFD media", media: ["Cafe\u{301}.jpg"], sidecars: ["renamed.json"], titles: ["renamed.json": "Caf\u{E9}.jpg"],
                     expect: ["Cafe\u{301}.jpg": hit("renamed.json", .title)]),
        Folder("edited copy, original's title", media: ["Holiday-edited.jpg"], sidecars: ["renamed.json"],
                     titles: ["renamed.json": "Holiday.jpg"], expect: ["Holiday-edited.jpg": hit("renamed.json", .title)]),
        Folder("not: two sidecars with the title", media: ["IMG_9999.jpg"], sidecars: ["a.json", "b.json"],
                     titles: ["a.json": "IMG_9999.jpg", "b.json": "IMG_9999.jpg"]),
        Folder("not: a sidecar claimed by name", media: ["A.jpg", "B.jpg"], sidecars: ["A.jpg.json"], titles: ["A.jpg.json": "B.jpg"],
                     expect: ["A.jpg": hit("A.jpg.json", .exact)]),
    ]

    /// Every matching group, labelled by the rule it covers.
    static let matchGroups: [(String, [Folder])] = [
        ("exact", exact), ("truncated", truncated), ("counter", counter), ("forgottenDuplicate", forgottenDuplicate),
        ("edited", edited), ("noExtension", noExtension), ("title", title),
    ]

    /// Folder names and their kinds.
    static let folderKinds: [(String, TakeoutFolderKind)] = [
        ("Photos from 2019", .year(2019)), ("Fotos del 2020", .year(2020)), ("Fotos von 2021", .year(2021)), ("Foto del 2018", .year(2018)),
        ("Photos from 19", .other), ("Photos from 2019 (1)", .other), ("Photos from २०१९", .other),
        ("Trash", .trash), ("Corbeille", .trash), ("ゴミ箱", .trash), ("Корзина", .trash),
        ("Archive", .archive), ("Архив", .archive), ("Locked Folder", .lockedFolder), ("Failed Videos", .failedVideos),
        ("Amsterdam 2022", .other), ("1 anno fa", .other),
    ]

    /// Names and whether they are the Google Photos folder.
    static let photosFolders: [(String, Bool)] = [
        ("Google Photos", true), ("Google Fotos", true), ("Google Фото", true), ("Fotky Google", true), ("Google フォト", true),
        ("Photos", false), ("Google Drive", false),
    ]

    /// JSON documents and their classification.
    static let json: [JSONDocument] = [
        JSONDocument("sidecar, reference example", """
            {"title": "PXL_20231006_063000139.jpg", "description": "", "imageViews": "2",
             "creationTime": {"timestamp": "1697872351", "formatted": "21 oct. 2023, 07:12:31 UTC"},
             "photoTakenTime": {"timestamp": "1696573800", "formatted": "6 oct. 2023, 06:30:00 UTC"},
             "geoData": {"latitude": 48.858, "longitude": 2.291, "altitude": 82.09, "latitudeSpan": 0.0, "longitudeSpan": 0.0},
             "geoDataExif": {"latitude": 48.858, "longitude": 2.291, "altitude": 82.09, "latitudeSpan": 0.0, "longitudeSpan": 0.0},
             "url": "https://photos.google.com/photo/AF1Qip"}
            """, .sidecar(Sidecar(title: "PXL_20231006_063000139.jpg", takenTime: 1696573800, creationTime: 1697872351,
                                  latitude: 48.858, longitude: 2.291, altitude: 82.09))),
        JSONDocument("sidecar, numbers and flags", """
            {"title": "a.jpg", "description": "Beach", "photoTakenTime": {"timestamp": 1696573800},
             "favorited": true, "archived": false, "trashed": true}
            """, .sidecar(Sidecar(title: "a.jpg", description: "Beach", takenTime: 1696573800, favorited: true, trashed: true))),
        JSONDocument("sidecar, taken time 0", """
            {"title": "a.jpg", "photoTakenTime": {"timestamp": "0"}, "creationTime": {"timestamp": "1697872351"}}
            """, .sidecar(Sidecar(title: "a.jpg", creationTime: 1697872351))),
        JSONDocument("sidecar, creation time only", """
            {"title": "IMG_1.HEIC", "creationTime": {"timestamp": "1697872351"}}
            """, .sidecar(Sidecar(title: "IMG_1.HEIC", creationTime: 1697872351))),
        JSONDocument("sidecar, EXIF 0/0 falls back to geoData", """
            {"title": "a.jpg", "photoTakenTime": {"timestamp": "1"},
             "geoDataExif": {"latitude": 0.0, "longitude": 0.0, "altitude": 0.0},
             "geoData": {"latitude": "52.5", "longitude": "13.4", "altitude": "34"}}
            """, .sidecar(Sidecar(title: "a.jpg", takenTime: 1, latitude: 52.5, longitude: 13.4, altitude: 34))),
        JSONDocument("album", """
            {"title": "Amsterdam 2022", "description": "Trip", "access": "protected",
             "date": {"timestamp": "1656000000", "formatted": "23 Jun 2022"}}
            """, .album(AlbumInfo(title: "Amsterdam 2022", description: "Trip", date: 1656000000))),
        JSONDocument("album in albumData", """
            {"albumData": {"title": "Album test 6/10/23", "description": "", "date": {"timestamp": 1696000000}}}
            """, .album(AlbumInfo(title: "Album test 6/10/23", date: 1696000000))),
        JSONDocument("untitled album", """
            {"title": "", "description": "", "access": "", "date": {"timestamp": "0"}}
            """, .album(AlbumInfo(title: ""))),
        JSONDocument("malformed", #"{"title": "#, .other),
        JSONDocument("top-level array", "[1, 2]", .other),
        JSONDocument("object without title", #"{"print_subscriptions": []}"#, .other),
        JSONDocument("invalid UTF-8", Data([0x7B, 0xFF, 0xFE, 0x7D]), .other),
    ]
}

/// Matching, edited-copy detection, folder names and JSON classification against the vectors.
@Suite struct TakeoutNamesTests {
    /// Checks one folder vector in both input orders.
    func check(_ vector: TakeoutVectors.Folder) {
        for result in vector.results { #expect(result == vector.expected, "\(vector.label)") }
    }

    /// Rule `exact`.
    @Test(arguments: TakeoutVectors.exact) func exact(_ vector: TakeoutVectors.Folder) { check(vector) }
    /// Rule `truncated`.
    @Test(arguments: TakeoutVectors.truncated) func truncated(_ vector: TakeoutVectors.Folder) { check(vector) }
    /// Rule `counter`.
    @Test(arguments: TakeoutVectors.counter) func counter(_ vector: TakeoutVectors.Folder) { check(vector) }
    /// Rule `forgottenDuplicate`.
    @Test(arguments: TakeoutVectors.forgottenDuplicate) func forgottenDuplicate(_ vector: TakeoutVectors.Folder) { check(vector) }
    /// Rule `edited`.
    @Test(arguments: TakeoutVectors.edited) func edited(_ vector: TakeoutVectors.Folder) { check(vector) }
    /// Rule `noExtension`.
    @Test(arguments: TakeoutVectors.noExtension) func noExtension(_ vector: TakeoutVectors.Folder) { check(vector) }
    /// Rule `title`.
    @Test(arguments: TakeoutVectors.title) func title(_ vector: TakeoutVectors.Folder) { check(vector) }

    /// `isEditedCopy`.
    @Test(arguments: TakeoutVectors.editedNames) func editedCopy(_ name: String, _ expected: Bool) {
        #expect(TakeoutNames.isEditedCopy(name) == expected)
    }

    /// `TakeoutFolders.kind(ofFolder:)`.
    @Test(arguments: TakeoutVectors.folderKinds) func folderKind(_ name: String, _ expected: TakeoutFolderKind) {
        #expect(TakeoutFolders.kind(ofFolder: name) == expected)
    }

    /// `TakeoutFolders.isPhotosFolder`.
    @Test(arguments: TakeoutVectors.photosFolders) func photosFolder(_ name: String, _ expected: Bool) {
        #expect(TakeoutFolders.isPhotosFolder(name) == expected)
    }

    /// `TakeoutJSON.parse`.
    @Test(arguments: TakeoutVectors.json) func json(_ vector: TakeoutVectors.JSONDocument) {
        #expect(TakeoutJSON.parse(vector.data) == vector.expected)
    }
}
