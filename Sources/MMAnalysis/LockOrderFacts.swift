import Foundation
import MMCore
import MMFacts

/// A lock a call takes: directly (a lock primitive), as a documented effect (file I/O takes the
/// inode lock), or inside a function of the patch (a helper that takes `mm_sem`).
public struct ImpliedLock: Sendable, Hashable {
    /// The name the order is stated in: the class (`mmap_lock`) or, for a lock without a class, its
    /// global variable (`mm_sem`). nil when neither is known (`*ptl` of an unknown class).
    public var orderName: String?
    public var className: String?
    /// The lock as the code spells it, or the class for an effect (`'mm_sem'`, `the inode lock`).
    public var spoken: String
    /// Who takes it and how, for messages: "insert_mmlist()" + "takes 'mm_sem' (line 627)".
    public var subject: String
    public var verb: String
    public var how: String { subject + " " + verb }
    /// Taken with a lockdep nesting annotation (`spin_lock_nested`, `down_write_nest_lock`).
    public var annotatedNested: Bool
    /// The key of the lock in the helper that takes it (to tell the same object from another).
    public var key: String?
    /// Known from a call's documented effect (a user copy may fault and take mmap_lock), not from
    /// a lock primitive: GUP runs under its caller's mmap_lock, so this is no nesting.
    public var fromEffect = false
    /// How many calls deep inside the patch's helpers it is taken: 0 for the call itself or the
    /// helper's own lock call, 1 for a helper of the helper, and so on.
    public var depth = 0

    public init(orderName: String?, className: String?, spoken: String, subject: String, verb: String,
                annotatedNested: Bool, key: String?) {
        self.orderName = orderName
        self.className = className
        self.spoken = spoken
        self.subject = subject
        self.verb = verb
        self.annotatedNested = annotatedNested
        self.key = key
    }
}

/// An order between two locks that the patch states in its description or in a comment it adds:
/// "the lock ordering is mm_sem -> mmap_sem", "A nests inside B".
public struct StatedOrder: Sendable, Hashable {
    public var outer: String
    public var inner: String
    /// The words that state it, for messages.
    public var quote: String

    public init(outer: String, inner: String, quote: String) {
        self.outer = outer
        self.inner = inner
        self.quote = quote
    }
}

public enum LockOrderFacts {
    /// The name a lock's order is stated in: its class, or its own name when it is a global
    /// variable (`mm_sem`). Member locks without a class (`x->lock`) have no name: which structs
    /// share a lockdep class cannot be told from the diff.
    public static func orderName(of event: LockEvent) -> String? {
        if let name = event.className { return name }
        let display = event.display
        guard !display.isEmpty, display.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return nil }
        return display
    }

    /// `spin_lock_nested`, `down_write_nest_lock`, `mmap_write_lock_nested`: lockdep is told that
    /// a second lock of the class is taken on purpose.
    public static func isNestingAnnotated(_ callee: String) -> Bool {
        callee.contains("_nested") || callee.contains("_nest_lock")
    }

    /// The locks a call takes by its documented effect (file I/O, user copies).
    public static func effectLocks(of call: Call, facts: KernelFacts) -> [ImpliedLock] {
        guard let effect = facts.effect(forCallee: call.callee) else { return [] }
        return effect.takes.map { name in
            let what = effect.why.map { "\($0) and so " } ?? ""
            var lock = ImpliedLock(orderName: name, className: name, spoken: name, subject: "\(call.callee)()",
                                   verb: "\(what)takes \(name)", annotatedNested: false, key: nil)
            lock.fromEffect = true
            return lock
        }
    }

    /// What the functions of the patch do to their callers' locking, from one pass over their
    /// calls (the first definition of each name wins: pass this side's models first).
    /// - locks: every lock each takes, directly or through the effects of its calls and the other
    ///   functions of the patch it calls (followed to a fixpoint).
    /// - sleeps: why each may sleep, from its own calls only: deeper down, whether the sleeping call
    ///   runs depends on arguments and state (get_huge_zero_page() only allocates the first time).
    /// - releasing: those that drop a lock their caller holds (release a lock they never take, or
    ///   say `__releases`). They imply no locks and no sleep: what they do after the drop is out
    ///   of the caller's section.
    public static func helperSummaries(models: [FunctionModel], facts: KernelFacts)
        -> (locks: [String: [ImpliedLock]], sleeps: [String: String], releasing: Set<String>) {
        let resolver = LockEventResolver(facts: facts)
        var direct: [String: [ImpliedLock]] = [:]
        var callees: [String: [String]] = [:]
        var sleeps: [String: String] = [:]
        var releasing = Set<String>()
        for model in models where direct[model.name] == nil && model.startsAtDefinition {
            var locks: [ImpliedLock] = []
            var called: [String] = []
            var acquired = Set<String>()
            var releasesCallers = false
            var sleep: String?
            for call in model.body.allCalls {
                if sleep == nil, let reason = sleepReason(of: call, facts: facts, helpers: [:]) {
                    sleep = reason
                }
                if let event = resolver.event(for: call) {
                    switch event.action {
                    case .acquire:
                        acquired.insert(event.key)
                        // A lock handed in by the caller (`spin_lock(&a->lock)` for a parameter `a`)
                        // keeps its spelling: the caller compares it with its own argument.
                        locks.append(ImpliedLock(orderName: orderName(of: event), className: event.className,
                                                 spoken: "'\(event.display)'", subject: "\(model.name)()",
                                                 verb: "takes '\(event.display)'",
                                                 annotatedNested: isNestingAnnotated(call.callee), key: event.key))
                    case .tryAcquire:
                        // A try-lock never waits, so it cannot close a deadlock cycle.
                        acquired.insert(event.key)
                    case .release:
                        if !acquired.contains(event.key) { releasesCallers = true }
                    case .downgrade:
                        break
                    }
                    continue
                }
                for lock in effectLocks(of: call, facts: facts) {
                    var inside = lock
                    inside.subject = "\(model.name)()"
                    inside.verb = "calls \(lock.subject), which \(lock.verb)"
                    locks.append(inside)
                }
                if let name = call.functionName { called.append(name) }
            }
            // A helper that drops a lock its caller holds (hugetlb_wp() drops the PTL, collapse_huge_page()
            // mmap_lock) takes its own locks after that drop, out of the caller's nesting: which of
            // them it takes with the caller's lock still held cannot be told without following it.
            let annotations = LockAnnotation.of(model)
            if annotations.contains(where: { $0.kind == .releases }) { releasesCallers = true }
            if releasesCallers {
                locks = []
                called = []
                releasing.insert(model.name)
            } else if let sleep {
                sleeps[model.name] = sleep
            }
            // `__acquires(lock)` with no lock call in sight: the helper takes it through a macro or
            // a callee the patch does not show.
            for annotation in annotations where annotation.kind == .acquires && !releasesCallers
                && !locks.contains(where: { $0.key == annotation.lock }) {
                let cls = facts.lockClass(forExpression: annotation.lock)
                let global = annotation.lock.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } ? annotation.lock : nil
                locks.append(ImpliedLock(orderName: cls?.name ?? global, className: cls?.name,
                                         spoken: "'\(annotation.lock)'", subject: "\(model.name)()",
                                         verb: "takes '\(annotation.lock)' (__acquires)", annotatedNested: false,
                                         key: annotation.lock))
            }
            direct[model.name] = locks
            callees[model.name] = called
        }
        // Transitive: a helper takes what the helpers it calls take. Bounded by the number of functions.
        var result = direct
        var changed = true
        var rounds = 0
        while changed && rounds < direct.count + 1 {
            changed = false
            rounds += 1
            for (name, called) in callees {
                var locks = result[name] ?? []
                for callee in called where callee != name {
                    for lock in result[callee] ?? [] where lock.orderName != nil
                        && !locks.contains(where: { $0.orderName == lock.orderName }) {
                        var through = lock
                        through.subject = "\(name)()"
                        through.verb = "calls \(lock.how)"
                        through.key = nil
                        through.depth = lock.depth + 1
                        locks.append(through)
                        changed = true
                    }
                }
                result[name] = locks
            }
        }
        return (result, sleeps, releasing)
    }

    /// Orders the patch states in its description or in comments it adds.
    public static func statedOrders(in patch: Patch, facts: KernelFacts) -> [StatedOrder] {
        var texts = [patch.description]
        for file in patch.files {
            for hunk in file.hunks {
                // Comments only: code is full of `->`.
                let added = hunk.lines.filter { line in
                    line.kind == .added && (line.text.containsBytes("/*") || line.text.containsBytes("//")
                                            || line.text.utf8.first(where: { $0 != 32 && $0 != 9 }) == UInt8(ascii: "*"))
                }
                if !added.isEmpty { texts.append(added.map(\.text).joined(separator: "\n")) }
            }
        }
        return texts.flatMap { statedOrders(in: $0, facts: facts) }
    }

    /// "A -> B -> C" (arrows with blanks around them, so `mm->mmap_sem` is not one), "A nests
    /// inside B", "A nests outside B", "A is taken inside B", "A before B". Both names must be locks: a class, one of its
    /// member names, or a name that says lock, sem or mutex.
    public static func statedOrders(in text: String, facts: KernelFacts) -> [StatedOrder] {
        var result: [StatedOrder] = []
        // Sentences, split on bytes: a description can be a whole mail. Most sentences state no
        // order: only those with a word an order needs are made into strings and split into words.
        var sentences: [String] = []
        var whole = text
        whole.withUTF8 { bytes in
            var start = 0
            for index in 0...bytes.count where index == bytes.count || bytes[index] == 10 || bytes[index] == 46 || bytes[index] == 59 {
                if index > start {
                    let sentence = UnsafeBufferPointer(rebasing: bytes[start..<index])
                    if orderWords.contains(where: { word in
                        word.withUnsafeBufferPointer { ByteSearch.firstOffset(of: $0, in: sentence, from: 0) != nil }
                    }) {
                        sentences.append(String(decoding: sentence, as: UTF8.self))
                    }
                }
                start = index + 1
            }
        }
        for line in sentences {
            // "must not take A -> B", "the reverse order B -> A": a sentence that negates or
            // describes a violation states no order.
            let lower = line.lowercased()
            if ["not ", "never", "n't", "avoid", "violat", "revers", "invers", "wrong", "deadlock"].contains(where: { lower.containsBytes($0) }) {
                continue
            }
            let words = tokens(line)
            var index = 0
            while index + 2 < words.count {
                let (a, op, b) = (words[index], words[index + 1], words[index + 2])
                var pair: (outer: String, inner: String)?
                if op == "->" {
                    pair = (a, b)
                } else if ["inside", "within", "under"].contains(op), index + 2 < words.count {
                    pair = (b, a)
                } else if op == "outside" {
                    pair = (a, b)
                } else if op == "before" {
                    pair = (a, b)
                } else if op == "after" {
                    pair = (b, a)
                }
                if let pair, let outer = lockName(pair.outer, facts: facts), let inner = lockName(pair.inner, facts: facts),
                   outer != inner {
                    result.append(StatedOrder(outer: outer, inner: inner,
                                              quote: line.trimmingCharacters(in: .whitespaces)))
                }
                index += 1
            }
        }
        return result
    }

    /// Words without which a sentence states no order, as bytes.
    private static let orderWords: [[UInt8]] = ["->", "nest", "inside", "outside", "within", "before", "after"]
        .map { Array($0.utf8) }


    /// Words of a line with " -> " kept as its own token and filler words dropped
    /// ("A nests inside B" → A inside B; "take A before taking B" → A before B).
    static func tokens(_ line: String) -> [String] {
        let filler: Set<String> = ["nests", "nested", "is", "are", "must", "be", "taken", "acquired", "take", "taking",
                                   "acquire", "acquiring", "the", "lock", "always", "only", "held", "should"]
        var result: [String] = []
        for raw in line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," || $0 == "(" || $0 == ")" }) {
            var word = String(raw)
            if word == "->" { result.append("->"); continue }
            if word.hasPrefix("->") { word = String(word.dropFirst(2)) }
            word = word.trimmingCharacters(in: CharacterSet(charactersIn: "'\"`:*"))
            if word.isEmpty || filler.contains(word.lowercased()) { continue }
            result.append(word)
        }
        return result
    }

    static func lockName(_ word: String, facts: KernelFacts) -> String? {
        guard let first = word.first, first.isLetter || first == "_",
              word.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return nil }
        if let cls = facts.lockClass(forName: word) { return cls.name }
        let lower = word.lowercased()
        guard lower.hasSuffix("lock") || lower.hasSuffix("sem") || lower.hasSuffix("mutex") || lower.hasSuffix("_mtx") else {
            return nil
        }
        return word
    }
}

/// A lock held at a call that takes another one: the raw material of lock-order, nested-lock and
/// ABBA findings.
public struct LockNesting: Sendable, Hashable {
    /// The held lock's record on one path into the call.
    public var held: LockRecord
    public var inner: ImpliedLock
    public var node: Int
    public var line: Int
    public var column: Int
    public var function: String
    /// The call is a lock primitive itself (not an effect or a helper).
    public var direct: Bool
}

extension LockOrderFacts {
    /// Each lock taken at a call (directly, by effect, inside a helper of the patch) together with
    /// each lock held on some path into that call. Try-locks take nothing: they never wait.
    public static func nestings(in analysis: LockStateAnalysis, function: String,
                                helpers: [String: [ImpliedLock]], facts: KernelFacts) -> [LockNesting] {
        var result: [LockNesting] = []
        for (index, node) in analysis.graph.nodes.enumerated() {
            guard case .call(let call) = node.action else { continue }
            var taken: [ImpliedLock] = []
            var direct = false
            if let event = analysis.events[index] {
                guard event.action == .acquire, !event.nestable else { continue }
                direct = true
                taken = [ImpliedLock(orderName: orderName(of: event), className: event.className,
                                     spoken: "'\(event.display)'", subject: "\(call.callee)()",
                                     verb: "takes '\(event.display)'",
                                     annotatedNested: isNestingAnnotated(call.callee), key: event.key)]
            } else {
                taken = effectLocks(of: call, facts: facts)
                if let name = call.functionName, name != function, let locks = helpers[name] {
                    taken += locks
                }
            }
            if taken.isEmpty { continue }
            var seen = Set<String>()
            // In a fixed order: the first state holding a lock decides the line its note quotes.
            for state in analysis.orderedStates(at: index) {
                for (key, record) in state.locks.sorted(by: { $0.key < $1.key }) where isHeld(record.status) && !record.event.nestable {
                    for lock in taken where seen.insert(key + "|" + (lock.orderName ?? lock.how)).inserted {
                        result.append(LockNesting(held: record, inner: lock, node: index, line: call.line,
                                                  column: call.column, function: function, direct: direct))
                    }
                }
            }
        }
        return result
    }

    /// The functions that can be half of an ABBA pair: one that takes a named lock of its own (X)
    /// and, somewhere, another (Y), while some function of the patch takes Y of its own and X
    /// somewhere. Only these need a lock walk for the patch-wide nestings; the rest cannot pair.
    public static func abbaCandidates(models: [FunctionModel], helpers: [String: [ImpliedLock]],
                                      facts: KernelFacts) -> Set<Int> {
        let resolver = LockEventResolver(facts: facts)
        var pairs: [Set<String>] = []
        var all = Set<String>()
        for model in models {
            var own = Set<String>()
            var touched = Set<String>()
            for call in model.body.allCalls {
                if let event = resolver.event(for: call) {
                    if let name = orderName(of: event) {
                        own.insert(name)
                        touched.insert(name)
                    }
                    continue
                }
                for lock in effectLocks(of: call, facts: facts) { if let name = lock.orderName { touched.insert(name) } }
                if let name = call.functionName, name != model.name {
                    for lock in helpers[name] ?? [] { if let name = lock.orderName { touched.insert(name) } }
                }
            }
            var mine = Set<String>()
            for x in own { for y in touched where y != x { mine.insert(x + "\u{1}" + y) } }
            pairs.append(mine)
            all.formUnion(mine)
        }
        var result = Set<Int>()
        for (index, mine) in pairs.enumerated() {
            let reversed = mine.contains { pair in
                let parts = pair.split(separator: "\u{1}")
                return parts.count == 2 && all.contains(parts[1] + "\u{1}" + parts[0])
            }
            if reversed { result.insert(index) }
        }
        return result
    }

    public static func isHeld(_ status: LockStatus) -> Bool {
        status == .held || status == .presumedHeld || status == .releasedFromEntryRetaken
    }
}

extension LockOrderFacts {
    /// Why a call may sleep, or nil: a sleeping lock primitive, a call effect (decided by its gfp
    /// argument when it has one), or a function of the patch that sleeps (`helpers`).
    public static func sleepReason(of call: Call, facts: KernelFacts, helpers: [String: String]) -> String? {
        if let name = call.functionName, let primitive = facts.primitive(named: name) {
            return primitive.sleeps ? "\(name)() may sleep (\(primitive.kind.rawValue))" : nil
        }
        if facts.callSleeps(callee: call.callee, arguments: call.arguments) {
            if let index = facts.effect(forCallee: call.callee)?.gfpArgument, index < call.arguments.count {
                return "\(call.callee)(\(call.arguments[index])) may sleep"
            }
            return "\(call.callee)() may sleep"
        }
        if let name = call.functionName, let reason = helpers[name] { return "\(name)() may sleep: \(reason)" }
        return nil
    }
}

/// A sparse lock annotation on a function definition: `__acquires(lock)`, `__releases(lock)`,
/// `__must_hold(lock)`. The kernel defines them to nothing outside sparse, and so does the
/// prelude: libclang never sees them, so they are read from the definition's own tokens.
public struct LockAnnotation: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case acquires = "__acquires"
        case releases = "__releases"
        case mustHold = "__must_hold"
    }

    public var kind: Kind
    /// The lock as the annotation names it, blanks and a leading `&` removed (`vmf->ptl`).
    public var lock: String

    /// A call by which a function asserts that a lock is held on entry: `lockdep_assert_held()`
    /// and its read and write forms, `assert_spin_locked()`.
    public static func assertsHeld(callee: String) -> Bool {
        callee.hasPrefix("lockdep_assert_held") || callee == "assert_spin_locked"
    }

    /// `__acquires`, `__releases` and `__must_hold` all start with `__` followed by a, r or m.
    private static func hasAnnotationPrefix(_ header: String) -> Bool {
        let bytes = Array(header.utf8)
        guard bytes.count > 3 else { return false }
        for index in 0..<(bytes.count - 2) where bytes[index] == 95 && bytes[index + 1] == 95 {
            let next = bytes[index + 2]
            if next == UInt8(ascii: "a") || next == UInt8(ascii: "r") || next == UInt8(ascii: "m") { return true }
        }
        return false
    }

    /// The annotations between a function's name and its opening brace.
    public static func of(_ model: FunctionModel) -> [LockAnnotation] {
        guard model.startsAtDefinition, let first = model.sourceLines.keys.min() else { return [] }
        var header = ""
        // The definition's header is its first lines, up to the brace (a few lines at most).
        for line in first..<(first + 12) {
            guard let text = model.sourceLines[line] else { continue }
            if let brace = text.firstIndex(of: "{") {
                header += text[..<brace]
                break
            }
            header += text + " "
        }
        guard hasAnnotationPrefix(header) else { return [] }
        var result: [LockAnnotation] = []
        for kind in [Kind.acquires, .releases, .mustHold] {
            var rest = Substring(header)
            while let range = rest.range(of: kind.rawValue + "(") {
                rest = rest[range.upperBound...]
                // The annotation's argument, up to its closing parenthesis.
                var depth = 1
                var argument = ""
                for char in rest {
                    if char == "(" { depth += 1 }
                    if char == ")" { depth -= 1; if depth == 0 { break } }
                    argument.append(char)
                }
                var lock = ConditionFacts.atom(argument)
                if lock.hasPrefix("&") { lock.removeFirst() }
                if !lock.isEmpty { result.append(LockAnnotation(kind: kind, lock: lock)) }
            }
        }
        return result
    }
}

extension LockOrderFacts {
    /// Whether, between where a lock was taken and `node`, the function may hand the object that
    /// holds it (`inode` for `inode->i_lock`, `ptl` for `*ptl`) to a helper of the patch that drops
    /// a caller's lock: past such a call, whether the lock is still held cannot be told
    /// (inode_sleep_on_writeback() drops `inode->i_lock`).
    public static func mayBeDroppedByHelper(_ record: LockRecord, before node: Int, in analysis: LockStateAnalysis,
                                            releasing: Set<String>) -> Bool {
        guard !releasing.isEmpty else { return false }
        let event = record.event
        var forms = Set(ConditionFacts.dereferencedBases(of: event.display).map(ConditionFacts.atom))
        let display = ConditionFacts.atom(event.display)
        forms.insert(display.hasPrefix("*") ? String(display.dropFirst()) : "&" + display)
        let nodes = analysis.graph.nodes
        let helperNodes = nodes.indices.filter { index in
            guard case .call(let call) = nodes[index].action, let name = call.functionName, releasing.contains(name) else { return false }
            return call.arguments.contains { forms.contains(ConditionFacts.atom($0)) }
        }
        if helperNodes.isEmpty { return false }
        // Where the lock was taken: its acquire, or for a presumed lock the gap (or the entry).
        let start = nodes.indices.first { index in
            if let taken = analysis.events[index], taken.key == event.key, taken.call.line == record.acquiredLine { return true }
            if case .gap(let line) = nodes[index].action, line == record.acquiredLine { return true }
            return false
        } ?? 0
        let fromStart = reachable(from: start, in: analysis.graph)
        return helperNodes.contains { fromStart.contains($0) && reachable(from: $0, in: analysis.graph).contains(node) }
    }

    /// Nodes reachable from `start` by one or more edges.
    static func reachable(from start: Int, in graph: ControlFlowGraph) -> Set<Int> {
        var seen = Set<Int>()
        var stack = graph.nodes[start].successors
        while let next = stack.popLast() {
            if seen.insert(next).inserted { stack.append(contentsOf: graph.nodes[next].successors) }
        }
        return seen
    }
}
