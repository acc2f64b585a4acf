// Matches Google Takeout JSON sidecars to the media files of one folder, from file names (and JSON titles) alone.
import Foundation

/// How a media file found its sidecar.
public enum SidecarRule: String, Sendable, Codable, CaseIterable {
    /// "<media>.json" or "<media>.supplemental-metadata.json", the suffix possibly cut to a prefix.
    case exact
    /// The sidecar name is the media name cut to Google's 46-rune limit before ".json".
    case truncated
    /// Equal "(n)" duplicate counters on both sides, with or without truncation.
    case counter
    /// A media counter the truncated sidecar name lost ("original_<uuid>_P(1).jpg" ↔ "original_<uuid>_.json").
    case forgottenDuplicate
    /// An edited copy ("IMG-edited.jpg") sharing its original's sidecar.
    case edited
    /// The sidecar lacks the media's extension ("20030616.jpg" ↔ "20030616.json"), or Pixel "X.MP" ↔ "X.MP.jpg.json".
    case noExtension
    /// The only sidecar in the folder whose JSON "title" is the media name (or its edited original's name).
    case title
}

/// One sidecar JSON in a folder: its file name and the "title" field from its content (nil if absent).
public struct SidecarName: Sendable, Hashable {
    /// The sidecar's file name, e.g. "IMG_1234.JPG.supplemental-metadata.json".
    public let name: String
    /// The JSON "title" field: the media's original upload name.
    public let title: String?

    /// Creates a sidecar entry.
    public init(name: String, title: String?) {
        self.name = name
        self.title = title
    }
}

/// A media file's sidecar and the rule that found it.
public struct SidecarMatch: Sendable, Equatable {
    /// The sidecar's file name, as given to `TakeoutNames.match`.
    public let sidecar: String
    /// The rule that paired them.
    public let rule: SidecarRule

    /// Creates a match.
    public init(sidecar: String, rule: SidecarRule) {
        self.sidecar = sidecar
        self.rule = rule
    }
}

/// Pairs Takeout media files with their JSON sidecars despite Google's renaming: length cuts, counters, edited copies.
public enum TakeoutNames {
    /// Matches each media file name of one folder to a sidecar name of the same folder; unmatched media are absent from the result.
    ///
    /// A sidecar serves one media file, except that edited copies share their original's sidecar.
    /// An edited copy with a counter ("IMG-edited(1).jpg") shares the sidecar of "IMG(1).jpg".
    /// The result does not depend on the order of the inputs.
    public static func match(media: [String], sidecars: [SidecarName]) -> [String: SidecarMatch] {
        var matcher = Matcher(media: media, sidecars: sidecars)
        matcher.run()
        var result: [String: SidecarMatch] = [:]
        for (mediaIndex, found) in matcher.matched {
            result[matcher.media[mediaIndex].raw] = SidecarMatch(sidecar: matcher.sidecars[found.sidecar].raw, rule: found.rule)
        }
        return result
    }

    /// True when `name` is an edited copy (localized suffix before the extension, e.g. "IMG-edited.jpg", "x-bearbeitet.JPG").
    public static func isEditedCopy(_ name: String) -> Bool {
        editedOriginal(of: nfc(name)) != nil
    }

    // MARK: Name limits and suffixes

    /// Longest sidecar name Google writes before ".json", not counting a "(n)" counter (51 minus ".json").
    static let sidecarBaseLimit = 46
    /// Longest media name Google writes before the extension.
    static let mediaStemLimit = 47
    /// The suffix newer exports put before ".json"; the length limit may cut it to any prefix.
    static let supplemental = "supplemental-metadata"
    /// Suffixes Google Photos gives edited copies and its own creations, lower-cased and NFC; each has one "-", first.
    static let editedSuffixes: Set<String> = [
        "-edited", "-modifié", "-bearbeitet", "-modificato", "-bewerkt", "-edytowane", "-編集済み", "-编辑",
        "-ha editado", "-editado", "-editat", "-düzenlendi",
        "-effects", "-smile", "-mix", "-collage", "-animation", "-motion",
    ]

    /// The NFC form of `name` (ASCII names are returned as they are).
    static func nfc(_ name: String) -> String {
        name.utf8.allSatisfy { $0 < 0x80 } ? name : name.precomposedStringWithCanonicalMapping
    }

    // MARK: Name helpers (inputs are NFC)

    /// Splits "a.b.jpg" into ("a.b", "jpg"); a leading or trailing dot is not an extension separator.
    static func splitExtension(_ name: String) -> (stem: String, ext: String?) {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex, name.index(after: dot) != name.endIndex
        else { return (name, nil) }
        return (String(name[..<dot]), String(name[name.index(after: dot)...]))
    }

    /// Splits "IMG(12)" into ("IMG", "12"); nil unless the name ends with a digits-only "(n)" after a non-empty part.
    static func splitCounter(_ name: String) -> (rest: String, counter: String)? {
        guard name.hasSuffix(")"), let open = name.lastIndex(of: "("), open != name.startIndex else { return nil }
        let digits = name[name.index(after: open)..<name.index(before: name.endIndex)]
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return (String(name[..<open]), String(digits))
    }

    /// `name` without a trailing ".<p>", where p is any prefix of "supplemental-metadata" (even empty); nil if absent.
    static func dropSupplemental(_ name: String) -> String? {
        guard let dot = name.lastIndex(of: ".") else { return nil }
        return supplemental.hasPrefix(name[name.index(after: dot)...]) ? String(name[..<dot]) : nil
    }

    /// The forms of `name` cut to `limit`, counting Unicode scalars or UTF-16 units (whole scalars kept); empty if it fits.
    static func cuts(_ name: String, to limit: Int) -> [String] {
        var result: [String] = []
        let scalars = name.unicodeScalars
        if scalars.count > limit {
            result.append(String(String.UnicodeScalarView(scalars.prefix(limit))))
        }
        if name.utf16.count > limit {
            var units = 0
            let kept = scalars.prefix(while: { scalar in
                units += scalar.utf16.count
                return units <= limit
            })
            let cut = String(String.UnicodeScalarView(kept))
            if !result.contains(cut) { result.append(cut) }
        }
        return result
    }

    /// How a sidecar base (its name without ".json" and counter) derives from the media name `full`.
    enum Derivation {
        /// `full` itself, or `full` + ".supplemental-metadata".
        case literal
        /// `full` + "." + a cut-down "supplemental-metadata".
        case cutSuffix
        /// `full` cut to the sidecar length limit.
        case truncated
    }

    /// Classifies how `base` derives from `full`, or nil when it does not.
    static func derive(_ base: String, from full: String) -> Derivation? {
        if base == full || base == full + "." + supplemental { return .literal }
        if dropSupplemental(base) == full { return .cutSuffix }
        if cuts(full, to: sidecarBaseLimit).contains(base) { return .truncated }
        return nil
    }

    /// The name an edited copy's original has ("IMG-edited(1).jpg" → "IMG(1).jpg"), or nil if `name` is no edited copy.
    static func editedOriginal(of name: String) -> String? {
        let (stem, ext) = splitExtension(name)
        let counted = splitCounter(stem)
        let core = counted?.rest ?? stem
        guard let dash = core.lastIndex(of: "-"), dash != core.startIndex,
              editedSuffixes.contains(core[dash...].lowercased()) else { return nil }
        return String(core[..<dash]) + (counted.map { "(\($0.counter))" } ?? "") + (ext.map { "." + $0 } ?? "")
    }

    /// True when a sidecar's title names this media file: the upload name, so counters must agree.
    static func titleNames(_ sidecar: SidecarParts, _ media: MediaName) -> Bool {
        guard let title = sidecar.title else { return false }
        return (title == media.bare && sidecar.counter == media.counter) || (title == media.name && sidecar.counter == nil)
    }

    /// True when a title is consistent with the media name, allowing for the 47-rune media cut (used to break ties).
    static func titleAgrees(_ title: String?, _ media: MediaName) -> Bool {
        guard let title else { return false }
        if title == media.name || title == media.bare { return true }
        let (titleStem, titleExt) = splitExtension(title)
        let (mediaStem, mediaExt) = splitExtension(media.bare)
        return titleExt == mediaExt && cuts(titleStem, to: mediaStemLimit).contains(mediaStem)
    }
}

// MARK: Matching internals

extension TakeoutNames {
    /// A media file name taken apart for matching.
    struct MediaName {
        /// The name as given.
        let raw: String
        /// The NFC name.
        let name: String
        /// The NFC name without a "(n)" counter before the extension.
        let bare: String
        /// The counter's digits, if any.
        let counter: String?
        /// The original's name when this is an edited copy.
        let original: String?
        /// Names a sidecar may carry when the extension was added or changed: the stem; "X.MP" also as "X.MP.jpg".
        let extensionTargets: [String]

        /// Parses a media file name.
        init(_ raw: String) {
            self.raw = raw
            name = TakeoutNames.nfc(raw)
            let (stem, ext) = TakeoutNames.splitExtension(name)
            let counted = TakeoutNames.splitCounter(stem)
            counter = counted?.counter
            bare = counted.map { $0.rest + (ext.map { "." + $0 } ?? "") } ?? name
            original = TakeoutNames.editedOriginal(of: name)
            var targets: [String] = []
            if let ext {
                targets.append(TakeoutNames.splitExtension(bare).stem)
                if ext.uppercased() == "MP" { targets.append(bare + ".jpg") }
            }
            extensionTargets = targets
        }

        /// Every string under which a sidecar of this media may be indexed.
        var lookupKeys: Set<String> {
            let targets = [name, bare] + extensionTargets
            return Set(targets + targets.flatMap { TakeoutNames.cuts($0, to: TakeoutNames.sidecarBaseLimit) })
        }
    }

    /// A sidecar file name taken apart for matching.
    struct SidecarParts {
        /// The name as given.
        let raw: String
        /// The NFC name without ".json".
        let base: String
        /// `base` without a trailing "(n)" counter.
        let bare: String
        /// The counter's digits: trailing ("X.jpg(1)") or before the suffix ("X.jpg(1).supplemental-metadata").
        let counter: String?
        /// For "X(n).<supplemental prefix>": X, the media name without its counter.
        let innerBare: String?
        /// The NFC JSON title.
        let title: String?

        /// Parses a sidecar; nil unless the name ends with ".json".
        init?(_ sidecar: SidecarName) {
            let name = TakeoutNames.nfc(sidecar.name)
            guard name.count > 5, name.suffix(5).lowercased() == ".json" else { return nil }
            raw = sidecar.name
            title = sidecar.title.map(TakeoutNames.nfc)
            base = String(name.dropLast(5))
            if let trailing = TakeoutNames.splitCounter(base) {
                (bare, counter, innerBare) = (trailing.rest, trailing.counter, nil)
            } else if !base.hasSuffix("."), let stripped = TakeoutNames.dropSupplemental(base),
                      let inner = TakeoutNames.splitCounter(stripped) {
                (bare, counter, innerBare) = (base, inner.counter, inner.rest)
            } else {
                (bare, counter, innerBare) = (base, nil, nil)
            }
        }

        /// Every string a matching media's lookup keys may hit.
        var indexKeys: Set<String> {
            Set([base, bare, TakeoutNames.dropSupplemental(base), TakeoutNames.dropSupplemental(bare), innerBare].compactMap { $0 })
        }
    }

    /// One claiming step of the name rules; the steps run in declaration order, most specific first.
    enum Pass: CaseIterable {
        /// "<media>.json" or "<media>.supplemental-metadata.json".
        case exactLiteral
        /// "<media>.<cut-down supplemental-metadata>.json"; after the literal step so a real extension wins.
        case exactCutSuffix
        /// The media name cut to the limit, no counters anywhere.
        case truncated
        /// Equal counters, the name intact, suffixed or cut.
        case counter
        /// A media counter missing from a truncated sidecar name.
        case forgottenDuplicate
        /// The media's stem (or Pixel "X.MP" → "X.MP.jpg") as the sidecar's media name, counters equal.
        case noExtension

        /// The rule reported for a match made by this step.
        var rule: SidecarRule {
            switch self {
            case .exactLiteral, .exactCutSuffix: .exact
            case .truncated: .truncated
            case .counter: .counter
            case .forgottenDuplicate: .forgottenDuplicate
            case .noExtension: .noExtension
            }
        }

        /// True when this step pairs `sidecar` with `media`.
        func accepts(_ sidecar: SidecarParts, for media: MediaName) -> Bool {
            switch self {
            case .exactLiteral:
                return TakeoutNames.derive(sidecar.base, from: media.name) == .literal
            case .exactCutSuffix:
                return TakeoutNames.derive(sidecar.base, from: media.name) == .cutSuffix
            case .truncated:
                return media.counter == nil && sidecar.counter == nil
                    && TakeoutNames.derive(sidecar.base, from: media.name) == .truncated
            case .counter:
                return media.counter != nil && sidecar.counter == media.counter
                    && (sidecar.innerBare == media.bare || TakeoutNames.derive(sidecar.bare, from: media.bare) != nil)
            case .forgottenDuplicate:
                return media.counter != nil && sidecar.counter == nil
                    && TakeoutNames.derive(sidecar.base, from: media.bare) == .truncated
            case .noExtension:
                return sidecar.counter == media.counter && media.extensionTargets.contains { target in
                    sidecar.innerBare == target || TakeoutNames.derive(sidecar.bare, from: target) != nil
                }
            }
        }
    }

    /// The matching state of one folder: sorted names, indexes, claimed sidecars and matches so far.
    struct Matcher {
        /// Media names, deduplicated and sorted by their UTF-8 bytes.
        let media: [MediaName]
        /// Sidecars, sorted by name then title.
        let sidecars: [SidecarParts]
        /// Lookup key → sidecar indices.
        let byKey: [String: [Int]]
        /// NFC title → sidecar indices.
        let byTitle: [String: [Int]]
        /// NFC media name → media index.
        let mediaByName: [String: Int]
        /// Media index → the sidecar indices its lookup keys hit.
        let candidates: [[Int]]
        /// Sidecars taken by a non-shared match.
        var claimed: Set<Int> = []
        /// Media index → (sidecar index, rule).
        var matched: [Int: (sidecar: Int, rule: SidecarRule)] = [:]

        /// Parses and indexes a folder's names.
        init(media names: [String], sidecars given: [SidecarName]) {
            var seen = Set<String>()
            media = names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
                .filter { seen.insert($0).inserted }
                .map(MediaName.init)
            sidecars = Set(given).sorted {
                $0.name != $1.name ? $0.name.utf8.lexicographicallyPrecedes($1.name.utf8)
                    : ($0.title ?? "").utf8.lexicographicallyPrecedes(($1.title ?? "").utf8)
            }.compactMap(SidecarParts.init)
            var byKey: [String: [Int]] = [:], byTitle: [String: [Int]] = [:], mediaByName: [String: Int] = [:]
            for (index, sidecar) in sidecars.enumerated() {
                for key in sidecar.indexKeys { byKey[key, default: []].append(index) }
                if let title = sidecar.title { byTitle[title, default: []].append(index) }
            }
            for (index, item) in media.enumerated() where mediaByName[item.name] == nil { mediaByName[item.name] = index }
            (self.byKey, self.byTitle, self.mediaByName) = (byKey, byTitle, mediaByName)
            candidates = media.map { Matcher.lookup($0, in: byKey) }
        }

        /// Runs the rules in order: name rules for all, extension and title rules for originals, then edited copies.
        mutating func run() {
            let all = Array(media.indices)
            for pass in [Pass.exactLiteral, .exactCutSuffix, .truncated, .counter, .forgottenDuplicate] { claim(pass, all) }
            let originals = all.filter { media[$0].original == nil }
            claim(.noExtension, originals)
            claimByTitle(originals)
            // Shorter names first, so "X-edited.jpg" is settled before "X-edited-edited.jpg" looks at it.
            let edited = all.filter { media[$0].original != nil }
                .sorted { (media[$0].name.unicodeScalars.count, $0) < (media[$1].name.unicodeScalars.count, $1) }
            for index in edited where matched[index] == nil {
                if let shared = originalsSidecar(index) {
                    matched[index] = (shared, .edited)
                    continue
                }
                claim(.noExtension, [index])
                if matched[index] == nil { claimByTitle([index]) }
                if matched[index] == nil, let original = media[index].original, mediaByName[original] == nil,
                   let shared = uniqueTitle(for: MediaName(original)) {
                    matched[index] = (shared, .title)
                }
            }
        }

        /// Sidecar indices that may match `item` under some rule (before checking that rule).
        static func lookup(_ item: MediaName, in byKey: [String: [Int]]) -> [Int] {
            Set(item.lookupKeys.flatMap { byKey[$0] ?? [] }).sorted()
        }

        /// Applies one name step to `which`: every acceptable pair, title-consistent pairs first, then by name order.
        mutating func claim(_ pass: Pass, _ which: [Int]) {
            var pairs: [(agrees: Bool, media: Int, sidecar: Int)] = []
            for mediaIndex in which where matched[mediaIndex] == nil {
                let item = media[mediaIndex]
                for sidecarIndex in candidates[mediaIndex]
                where !claimed.contains(sidecarIndex) && pass.accepts(sidecars[sidecarIndex], for: item) {
                    pairs.append((TakeoutNames.titleAgrees(sidecars[sidecarIndex].title, item), mediaIndex, sidecarIndex))
                }
            }
            pairs.sort { $0.agrees != $1.agrees ? $0.agrees : ($0.media, $0.sidecar) < ($1.media, $1.sidecar) }
            for pair in pairs where matched[pair.media] == nil && !claimed.contains(pair.sidecar) {
                matched[pair.media] = (pair.sidecar, pass.rule)
                claimed.insert(pair.sidecar)
            }
        }

        /// The only sidecar of the folder whose title names `item`, claimed or not.
        func uniqueTitle(for item: MediaName) -> Int? {
            let hits = Set((byTitle[item.name] ?? []) + (byTitle[item.bare] ?? []))
                .filter { TakeoutNames.titleNames(sidecars[$0], item) }
            return hits.count == 1 ? hits.first : nil
        }

        /// Title rule for `which`: claims the unique sidecar titled with the media name if no one holds it.
        mutating func claimByTitle(_ which: [Int]) {
            for index in which where matched[index] == nil {
                if let sidecar = uniqueTitle(for: media[index]), !claimed.contains(sidecar) {
                    matched[index] = (sidecar, .title)
                    claimed.insert(sidecar)
                }
            }
        }

        /// The sidecar an edited copy shares: its original's match when the original is in the folder,
        /// else the sidecar the original's name would take first under the name steps (claimed or not).
        func originalsSidecar(_ index: Int) -> Int? {
            guard let name = media[index].original else { return nil }
            if let originalIndex = mediaByName[name] { return matched[originalIndex]?.sidecar }
            let original = MediaName(name)
            let found = Matcher.lookup(original, in: byKey)
            for pass in Pass.allCases {
                let hits = found.filter { pass.accepts(sidecars[$0], for: original) }
                if let best = hits.first(where: { TakeoutNames.titleAgrees(sidecars[$0].title, original) }) ?? hits.first {
                    return best
                }
            }
            return nil
        }
    }
}
