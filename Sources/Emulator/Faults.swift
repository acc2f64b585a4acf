// Fault injection: per-endpoint errors, connection resets and slow answers, by probability or countdown.
import Foundation
import Synchronization

/// One fault rule, set by `--fault` or the control API.
public struct FaultRule: Codable, Sendable, Equatable {
    /// Endpoint name (`albums.list`), a prefix with `*` (`albums.*`), or `*` for all.
    public var endpoint: String
    /// "500", "501", "503", "504", "429", "reset", "slow" (wait, then answer) or "late" (answer now, send it later).
    public var kind: String
    /// Chance (0...1) that a matching request is hit; nil = every matching request.
    public var probability: Double?
    /// Hit only the next N matching requests, then the rule is gone; nil = no limit.
    public var count: Int?
    /// Retry-After seconds to send with 429 and 503.
    public var retryAfter: Int?
    /// Added latency in milliseconds for "slow" and "late".
    public var delayMs: Int?
    /// For "reset" on uploads: bytes of the request body to accept before the connection drops.
    public var afterBytes: Int?

    static let kinds: Set<String> = ["500", "501", "503", "504", "429", "reset", "slow", "late"]

    /// Checks the rule; the message names the bad field.
    func validate() throws(ConfigError) {
        guard !endpoint.isEmpty else { throw ConfigError(message: "fault: endpoint is empty") }
        guard FaultRule.kinds.contains(kind) else {
            throw ConfigError(message: "fault: kind '\(kind)' is not one of \(FaultRule.kinds.sorted().joined(separator: ", "))")
        }
        if let p = probability, !(0...1).contains(p) { throw ConfigError(message: "fault: probability must be between 0 and 1") }
        if let c = count, c < 1 { throw ConfigError(message: "fault: count must be 1 or more") }
        if let d = delayMs, d < 0 || d > 600_000 { throw ConfigError(message: "fault: delay must be 0..600000 ms") }
        if let r = retryAfter, r < 0 { throw ConfigError(message: "fault: retry-after must be 0 or more") }
        if kind == "slow" || kind == "late", delayMs == nil { throw ConfigError(message: "fault: \(kind) needs delay=MS") }
    }

    /// Parses the flag form `ENDPOINT:KIND[:p=0.5][:count=3][:retry-after=2][:delay=500][:after=1024]`.
    public static func parse(_ spec: String) throws(ConfigError) -> FaultRule {
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2 else { throw ConfigError(message: "fault '\(spec)': expected ENDPOINT:KIND[:key=value...]") }
        var rule = FaultRule(endpoint: parts[0], kind: parts[1])
        for opt in parts.dropFirst(2) {
            let kv = opt.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw ConfigError(message: "fault '\(spec)': option '\(opt)' is not key=value") }
            switch kv[0] {
            case "p", "probability":
                guard let v = Double(kv[1]) else { throw ConfigError(message: "fault '\(spec)': p is not a number") }
                rule.probability = v
            case "count":
                guard let v = Int(kv[1]) else { throw ConfigError(message: "fault '\(spec)': count is not a whole number") }
                rule.count = v
            case "retry-after":
                guard let v = Int(kv[1]) else { throw ConfigError(message: "fault '\(spec)': retry-after is not a whole number") }
                rule.retryAfter = v
            case "delay":
                guard let v = Int(kv[1]) else { throw ConfigError(message: "fault '\(spec)': delay is not a whole number of ms") }
                rule.delayMs = v
            case "after":
                guard let v = Int(kv[1]), v >= 0 else { throw ConfigError(message: "fault '\(spec)': after is not a byte count") }
                rule.afterBytes = v
            default:
                throw ConfigError(message: "fault '\(spec)': unknown option '\(kv[0])' (p, count, retry-after, delay, after)")
            }
        }
        try rule.validate()
        return rule
    }

    /// Whether this rule applies to the endpoint name.
    func matches(_ name: String) -> Bool {
        if endpoint == "*" { return true }
        if endpoint.hasSuffix("*") { return name.hasPrefix(String(endpoint.dropLast())) }
        return endpoint == name
    }
}

/// The set of active fault rules and a seeded random source.
final class FaultInjector: Sendable {
    private struct State {
        var rules: [FaultRule] = []
        var rng: UInt64
    }
    private let state: Mutex<State>

    init(rules: [FaultRule], seed: UInt64) { state = Mutex(State(rules: rules, rng: seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed)) }

    /// The active rules.
    var rules: [FaultRule] { state.withLock { $0.rules } }

    /// Adds rules.
    func add(_ new: [FaultRule]) { state.withLock { $0.rules.append(contentsOf: new) } }

    /// Removes every rule.
    func clear() { state.withLock { $0.rules.removeAll() } }

    /// Picks the fault (if any) that hits this request, spending a countdown.
    func decide(endpoint: String) -> FaultRule? {
        state.withLock { s -> FaultRule? in
            for i in s.rules.indices where s.rules[i].matches(endpoint) {
                if let p = s.rules[i].probability {
                    // SplitMix64: reproducible under --seed.
                    s.rng &+= 0x9E37_79B9_7F4A_7C15
                    var z = s.rng
                    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                    z ^= z >> 31
                    if Double(z >> 11) / Double(1 << 53) >= p { continue }
                }
                let rule = s.rules[i]
                if let c = rule.count {
                    if c <= 1 { s.rules.remove(at: i) } else { s.rules[i].count = c - 1 }
                }
                return rule
            }
            return nil
        }
    }
}
