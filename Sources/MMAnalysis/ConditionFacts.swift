import Foundation

/// A fact a path knows: `atom` is true (non-zero, non-NULL) or false.
public struct Fact: Sendable, Hashable, Comparable {
    public var atom: String
    public var value: Bool

    public init(atom: String, value: Bool) {
        self.atom = atom
        self.value = value
    }

    public static func < (a: Fact, b: Fact) -> Bool {
        a.atom != b.atom ? a.atom < b.atom : (!a.value && b.value)
    }
}

/// Turns branch conditions into facts, only where the meaning is certain: `x`, `!x`, `x == NULL`,
/// `x != 0`, `x < 0` (an error code is non-zero), the operands of `&&` on the true edge and of `||`
/// on the false edge. Atoms are expression texts without blanks, so `ret` and `ret ` agree.
public enum ConditionFacts {
    public static func atom(_ text: String) -> String {
        // Asked for nearly every argument, target and condition of every function, and most are
        // already atoms: those are returned as they are, without copying their bytes.
        var ascii = true
        var hasWhitespace = false
        for byte in text.utf8 {
            if byte >= 0x80 { ascii = false; break }
            // ASCII whitespace is exactly what Character.isWhitespace accepts below 0x80.
            if byte == 0x20 || (0x09...0x0D).contains(byte) { hasWhitespace = true }
        }
        if ascii {
            if !hasWhitespace { return text }
            return String(decoding: text.utf8.filter { !($0 == 0x20 || (0x09...0x0D).contains($0)) }, as: UTF8.self)
        }
        return String(text.filter { !$0.isWhitespace })
    }

    /// Facts that hold when `condition` evaluates to `outcome`.
    public static func facts(condition: String, outcome: Bool) -> [Fact] {
        let text = stripOuter(atom(condition))
        if text.isEmpty { return [] }
        if let parts = splitTopLevel(text, separator: "&&"), parts.count > 1 {
            return outcome ? parts.flatMap { facts(condition: $0, outcome: true) } : []
        }
        if let parts = splitTopLevel(text, separator: "||"), parts.count > 1 {
            return outcome ? [] : parts.flatMap { facts(condition: $0, outcome: false) }
        }
        if text.hasPrefix("!"), !text.hasPrefix("!=") {
            let rest = stripOuter(String(text.dropFirst()))
            if isSimpleOperand(rest) || isWrapped("(" + rest + ")") {
                return facts(condition: rest, outcome: !outcome)
            }
        }
        for (op, nonZeroWhenTrue) in [("==", false), ("!=", true)] {
            if let parts = splitTopLevel(text, separator: op), parts.count == 2 {
                let (lhs, rhs) = (parts[0], parts[1])
                if isZero(rhs), isSimpleOperand(lhs) { return [Fact(atom: lhs, value: outcome == nonZeroWhenTrue)] }
                if isZero(lhs), isSimpleOperand(rhs) { return [Fact(atom: rhs, value: outcome == nonZeroWhenTrue)] }
                // Two values compared (`new_ptl != old_ptl`): the same comparison later, either way
                // round, is the same fact.
                // `&init_mm` compares an address: as stable as a name.
                func operand(_ text: String) -> Bool {
                    isSimpleOperand(text) || (text.hasPrefix("&") && isSimpleOperand(String(text.dropFirst())))
                }
                if operand(lhs), operand(rhs) {
                    return [Fact(atom: min(lhs, rhs) + "==" + max(lhs, rhs), value: outcome != nonZeroWhenTrue)]
                }
                return []
            }
        }
        // `ret < 0` true: `ret` is non-zero, and negative. False (`ret >= 0`) says only that it is
        // not negative, which settles a result that is 0 or a negative errno.
        if let parts = splitTopLevel(text, separator: "<"), parts.count == 2, isZero(parts[1]),
           isSimpleOperand(parts[0]) || isCall(parts[0]) {
            let negative = negativeAtom(parts[0])
            return outcome ? [Fact(atom: parts[0], value: true), Fact(atom: negative, value: true)]
                : [Fact(atom: negative, value: false)]
        }
        if let parts = splitTopLevel(text, separator: ">="), parts.count == 2, isZero(parts[1]),
           isSimpleOperand(parts[0]) || isCall(parts[0]) {
            let negative = negativeAtom(parts[0])
            return outcome ? [Fact(atom: negative, value: false)]
                : [Fact(atom: parts[0], value: true), Fact(atom: negative, value: true)]
        }
        // `flags & CLONE_INTO_CGROUP`: a bit test. Testing the same bit again (either way round)
        // is the same fact, which is what ties a lock taken under a flag to the later
        // `if (!(flags & …)) return 0;` that cannot be reached with it held.
        if let (value, mask) = bitTest(text) {
            return [Fact(atom: value + "&" + mask, value: outcome)]
        }
        if isSimpleOperand(text) || isCall(text) {
            for wrapper in ["likely(", "unlikely("] where text.hasPrefix(wrapper) && text.hasSuffix(")") {
                return facts(condition: String(text.dropFirst(wrapper.count).dropLast()), outcome: outcome)
            }
            return [Fact(atom: text, value: outcome)]
        }
        return []
    }

    /// `value&MASK` (blanks removed) split at its one top-level `&`: a value that is a variable or
    /// a member path, and a mask that is a constant (`VM_WRITE`, `0x4`, `(A|B)`) or a variable.
    static func bitTest(_ text: String) -> (String, String)? {
        guard let bytes = asciiBytes(text), bytes.contains(UInt8(ascii: "&")) else { return nil }
        var depth = 0
        var split: Int?
        for (offset, byte) in bytes.enumerated() {
            switch byte {
            case UInt8(ascii: "("), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: ")"), UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: "&") where depth == 0:
                let before = offset > 0 ? bytes[offset - 1] : 0
                let after = offset + 1 < bytes.count ? bytes[offset + 1] : 0
                // `&&`, and `&x` at the start or after an operator, are not bit tests.
                if before == UInt8(ascii: "&") || after == UInt8(ascii: "&") { return nil }
                guard offset > 0, split == nil else { return nil }
                split = offset
            default: break
            }
        }
        guard let at = split else { return nil }
        let value = String(decoding: bytes[..<at], as: UTF8.self)
        let mask = String(decoding: bytes[(at + 1)...], as: UTF8.self)
        guard isSimpleOperand(value), !mask.isEmpty else { return nil }
        let maskBytes = Array(mask.utf8)
        let constantMask = maskBytes.allSatisfy { b in
            (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) || b == 0x5F || b == UInt8(ascii: "|")
                || b == UInt8(ascii: "(") || b == UInt8(ascii: ")") || b == UInt8(ascii: "x")
                || b == UInt8(ascii: "U") || b == UInt8(ascii: "L")
        }
        guard constantMask || isSimpleOperand(mask) else { return nil }
        return (value, mask)
    }

    /// The atom that says `value` is negative (`ret<0`).
    public static func negativeAtom(_ value: String) -> String { value + "<0" }

    /// What an assume node teaches: the facts its condition gives on its edge (empty elsewhere).
    public static func learned(at node: FlowNode) -> [Fact] {
        guard case .assume(let condition, let outcome) = node.action else { return [] }
        return facts(condition: condition.text, outcome: outcome)
    }

    /// Adds `learned` to a path's facts; false when the path already knows the opposite, so the
    /// edge cannot be taken on that path.
    /// The graph evaluates every call of a condition, but C stops at the first false `&&` operand
    /// (the first true `||` one). So a path on which the condition's last operand, a call, was
    /// evaluated with the value that would make the whole condition go the other way cannot take
    /// this edge: `if (mapped && folio_trylock(folio))` is false only where the try-lock did not
    /// run or failed. Returns the facts that, all known on a path, rule this edge out.
    public static func shortCircuitContradiction(condition: String, outcome: Bool) -> [Fact]? {
        let text = stripOuter(atom(condition))
        let separator = outcome ? "||" : "&&"
        guard let parts = splitTopLevel(text, separator: separator), parts.count > 1, let last = parts.last else {
            return nil
        }
        let tail = stripOuter(last)
        let callText = tail.hasPrefix("!") ? stripOuter(String(tail.dropFirst())) : tail
        guard isCall(callText) else { return nil }
        let decisive = facts(condition: tail, outcome: !outcome)
        return decisive.isEmpty ? nil : decisive
    }

    public static func assume(_ learned: [Fact], into known: inout Set<Fact>) -> Bool {
        for fact in learned {
            if known.contains(Fact(atom: fact.atom, value: !fact.value)) { return false }
            known.insert(fact)
        }
        return true
    }

    /// The pointer bases a lock expression dereferences: `anon_vma->lock` → [`anon_vma`],
    /// `*ptl` → [`ptl`], `vma->vm_mm->mmap_lock` → [`vma`, `vma->vm_mm`]. Holding that lock means
    /// these were not NULL.
    public static func dereferencedBases(of lockExpression: String) -> [String] {
        var bases: [String] = []
        let text = atom(lockExpression)
        if text.hasPrefix("*") { return [String(text.dropFirst())] }
        var index = text.startIndex
        while let range = text.fastRange(of: "->", from: index) {
            bases.append(String(text[..<range.lowerBound]))
            index = range.upperBound
        }
        return bases
    }

    /// True when an atom mentions the variable `name` as a whole identifier.
    public static func mentions(_ atom: String, variable name: String) -> Bool {
        guard !name.isEmpty else { return false }
        var search = atom.startIndex
        while let range = atom.fastRange(of: name, from: search) {
            let before = range.lowerBound == atom.startIndex ? nil : atom[atom.index(before: range.lowerBound)]
            let after = range.upperBound == atom.endIndex ? nil : atom[range.upperBound]
            let boundaryBefore = before.map { !isIdentifierCharacter($0) && $0 != "." && $0 != ">" } ?? true
            let boundaryAfter = after.map { !isIdentifierCharacter($0) } ?? true
            if boundaryBefore && boundaryAfter { return true }
            search = range.upperBound
        }
        return false
    }

    static func isIdentifierCharacter(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }

    /// A value a variable can be set to and compared with as a state: `M_PARTIAL`, `SCAN_FAIL`, `2`.
    static func isStateConstant(_ text: String) -> Bool {
        // Asked for both sides of every known equality at every merge of the lock walk: ASCII
        // text is decided on its bytes, the same way.
        if let first = text.utf8.first, text.utf8.allSatisfy({ $0 < 0x80 }) {
            func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
            func isUpper(_ byte: UInt8) -> Bool { byte >= 0x41 && byte <= 0x5A }
            if isDigit(first) { return text.utf8.allSatisfy(isDigit) }
            return (isUpper(first) || first == 0x5F) && text.utf8.contains(where: isUpper)
                && text.utf8.allSatisfy { isUpper($0) || isDigit($0) || $0 == 0x5F }
        }
        guard let first = text.first else { return false }
        if first.isNumber { return text.allSatisfy(\.isNumber) }
        return (first.isUppercase || first == "_") && text.contains(where: \.isUppercase)
            && text.allSatisfy { $0.isUppercase || $0.isNumber || $0 == "_" }
    }

    /// The fact `variable = constant;` gives: the same atom `variable == constant` gives in a
    /// condition.
    static func valueFact(variable: String, constant: String) -> Fact? {
        guard isStateConstant(constant), !isStateConstant(variable),
              variable.allSatisfy(isIdentifierCharacter), variable.first.map({ !$0.isNumber }) ?? false else { return nil }
        return Fact(atom: min(variable, constant) + "==" + max(variable, constant), value: true)
    }

    /// The constants a path knows its variables hold (from `valueFact`s), by variable.
    static func knownValues(_ facts: Set<Fact>) -> [String: String] {
        var result: [String: String] = [:]
        // `==` looked for in the bytes: Foundation's contains() was most of the cost of the lock
        // walk's merges.
        for fact in facts where fact.value && containsEquals(fact.atom) {
            guard let parts = splitTopLevel(fact.atom, separator: "=="), parts.count == 2 else { continue }
            if isStateConstant(parts[0]), !isStateConstant(parts[1]) { result[parts[1]] = parts[0] }
            if isStateConstant(parts[1]), !isStateConstant(parts[0]) { result[parts[0]] = parts[1] }
        }
        return result
    }

    static func containsEquals(_ text: String) -> Bool {
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: "=") && previous == UInt8(ascii: "=") { return true }
            previous = byte
        }
        return false
    }

    /// What a condition evaluates to on a path that knows these variables' constant values
    /// (`mode = M_FREE;` then `if (mode == M_PARTIAL || mode == M_FULL)` is false); nil when it
    /// depends on anything else.
    public static func evaluate(_ condition: String, knowing values: [String: String]) -> Bool? {
        if values.isEmpty { return nil }
        let text = stripOuter(atom(condition))
        if let parts = splitTopLevel(text, separator: "||"), parts.count > 1 {
            let results = parts.map { evaluate($0, knowing: values) }
            if results.contains(true) { return true }
            return results.allSatisfy { $0 == false } ? false : nil
        }
        if let parts = splitTopLevel(text, separator: "&&"), parts.count > 1 {
            let results = parts.map { evaluate($0, knowing: values) }
            if results.contains(false) { return false }
            return results.allSatisfy { $0 == true } ? true : nil
        }
        if text.hasPrefix("!"), !text.hasPrefix("!="), isWrapped(String(text.dropFirst())) {
            return evaluate(String(text.dropFirst()), knowing: values).map { !$0 }
        }
        for (op, equalMeans) in [("==", true), ("!=", false)] {
            guard let parts = splitTopLevel(text, separator: op), parts.count == 2 else { continue }
            let (lhs, rhs) = (parts[0], parts[1])
            if let known = values[lhs], isStateConstant(rhs) { return (known == rhs) == equalMeans }
            if let known = values[rhs], isStateConstant(lhs) { return (known == lhs) == equalMeans }
            return nil
        }
        return nil
    }

    static func isZero(_ text: String) -> Bool { ["0", "NULL", "0UL", "0L", "false", "(void*)0"].contains(text) }

    /// An identifier or a member/dereference path (`vma`, `vma->anon_vma`, `h.count`, `*p`).
    static func isSimpleOperand(_ text: String) -> Bool {
        if let bytes = asciiBytes(text) {
            func isWordByte(_ b: UInt8) -> Bool {
                (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) || b == 0x5F
            }
            guard let first = bytes.first, (isWordByte(first) && !(first >= 0x30 && first <= 0x39))
                || first == UInt8(ascii: "*") else { return false }
            var previous: UInt8 = 0
            for b in bytes {
                guard isWordByte(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: ">") || b == UInt8(ascii: ".")
                    || b == UInt8(ascii: "*") else { return false }
                if b == UInt8(ascii: "-") && previous == UInt8(ascii: "-") { return false }  // `--`
                previous = b
            }
            return true
        }
        guard let first = text.first, first.isLetter || first == "_" || first == "*" else { return false }
        return text.allSatisfy { isIdentifierCharacter($0) || $0 == "-" || $0 == ">" || $0 == "." || $0 == "*" }
            && !text.contains("--")
    }

    static func isCall(_ text: String) -> Bool {
        guard let open = text.firstIndex(of: "("), text.hasSuffix(")") else { return false }
        let name = text[..<open]
        return !name.isEmpty && name.allSatisfy(isIdentifierCharacter)
            && isWrapped(String(text[open...]))
    }

    /// `(a)` whose first parenthesis closes at the very end.
    static func isWrapped(_ text: String) -> Bool {
        guard text.hasPrefix("("), text.hasSuffix(")") else { return false }
        if let bytes = asciiBytes(text) {
            var depth = 0
            for (offset, byte) in bytes.enumerated() {
                if byte == UInt8(ascii: "(") { depth += 1 }
                if byte == UInt8(ascii: ")") {
                    depth -= 1
                    if depth == 0 && offset != bytes.count - 1 { return false }
                }
            }
            return depth == 0
        }
        var depth = 0
        for (offset, c) in text.enumerated() {
            if c == "(" { depth += 1 }
            if c == ")" {
                depth -= 1
                if depth == 0 && offset != text.count - 1 { return false }
            }
        }
        return depth == 0
    }

    static func stripOuter(_ text: String) -> String {
        var result = text
        while isWrapped(result) { result = String(result.dropFirst().dropLast()) }
        return result
    }

    /// The UTF-8 bytes of an all-ASCII text, where a byte is a Character; nil otherwise. Conditions
    /// are split and matched many times per function, and byte arrays make that cheap; the rare
    /// non-ASCII text takes the Character path.
    static func asciiBytes(_ text: String) -> [UInt8]? {
        let bytes = Array(text.utf8)
        return bytes.allSatisfy({ $0 < 0x80 }) ? bytes : nil
    }

    /// Splits at `separator` outside parentheses and brackets; nil when it does not occur there.
    static func splitTopLevel(_ text: String, separator: String) -> [String]? {
        // facts() tries six separators on every condition and most occur in none: a text without
        // the separator's first byte is settled without copying it.
        if let first = separator.utf8.first, !text.utf8.contains(first) { return nil }
        if let bytes = asciiBytes(text), let sep = asciiBytes(separator) {
            return splitTopLevel(bytes: bytes, separator: sep)
        }
        let chars = Array(text)
        let sep = Array(separator)
        var parts: [String] = []
        var depth = 0
        var current: [Character] = []
        var i = 0
        var found = false
        while i < chars.count {
            let c = chars[i]
            if c == "(" || c == "[" { depth += 1 }
            if c == ")" || c == "]" { depth -= 1 }
            if depth == 0, i + sep.count <= chars.count, Array(chars[i..<(i + sep.count)]) == sep,
               isStandaloneOperator(chars, at: i, length: sep.count) {
                parts.append(String(current))
                current = []
                i += sep.count
                found = true
                continue
            }
            current.append(c)
            i += 1
        }
        parts.append(String(current))
        return found ? parts : nil
    }

    /// `splitTopLevel` over ASCII bytes: the same scan, one byte per Character.
    private static func splitTopLevel(bytes: [UInt8], separator sep: [UInt8]) -> [String]? {
        var parts: [String] = []
        var depth = 0
        var partStart = 0
        var i = 0
        var found = false
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "(") || c == UInt8(ascii: "[") { depth += 1 }
            if c == UInt8(ascii: ")") || c == UInt8(ascii: "]") { depth -= 1 }
            if depth == 0, i + sep.count <= bytes.count, bytes[i..<(i + sep.count)].elementsEqual(sep),
               isStandaloneOperator(bytes, at: i, length: sep.count) {
                parts.append(String(decoding: bytes[partStart..<i], as: UTF8.self))
                i += sep.count
                partStart = i
                found = true
                continue
            }
            i += 1
        }
        guard found else { return nil }
        parts.append(String(decoding: bytes[partStart...], as: UTF8.self))
        return parts
    }

    /// The byte form of the test below, with the same rules.
    private static func isStandaloneOperator(_ bytes: [UInt8], at index: Int, length: Int) -> Bool {
        let before = index > 0 ? bytes[index - 1] : UInt8(ascii: " ")
        let after = index + length < bytes.count ? bytes[index + length] : UInt8(ascii: " ")
        func isOperatorByte(_ b: UInt8) -> Bool {
            b == UInt8(ascii: "<") || b == UInt8(ascii: ">") || b == UInt8(ascii: "=") || b == UInt8(ascii: "!")
                || b == UInt8(ascii: "-") || b == UInt8(ascii: "&") || b == UInt8(ascii: "|")
        }
        if length == 1 { return !isOperatorByte(before) && !isOperatorByte(after) }
        if length == 2, bytes[index] == UInt8(ascii: "=") || bytes[index] == UInt8(ascii: "!") {
            return before != UInt8(ascii: "=") && before != UInt8(ascii: "!") && before != UInt8(ascii: "<")
                && before != UInt8(ascii: ">") && after != UInt8(ascii: "=")
        }
        return before != bytes[index] && after != bytes[index]
    }

    /// Keeps `<` from matching inside `<=`, `<<` or `->`, and `==` inside `!==`-like runs.
    private static func isStandaloneOperator(_ chars: [Character], at index: Int, length: Int) -> Bool {
        let before = index > 0 ? chars[index - 1] : " "
        let after = index + length < chars.count ? chars[index + length] : " "
        let operatorCharacters: Set<Character> = ["<", ">", "=", "!", "-", "&", "|"]
        if length == 1 { return !operatorCharacters.contains(before) && !operatorCharacters.contains(after) }
        if length == 2, chars[index] == "=" || chars[index] == "!" {
            return before != "=" && before != "!" && before != "<" && before != ">" && after != "="
        }
        return before != chars[index] && after != chars[index]
    }
}

/// Merges path states that agree on what they track (`key`: the locks held, the resources held),
/// keeping only the facts they share; beyond `limit` states the facts are dropped, so paths merge
/// by what they track alone and a walk stays bounded. The lock walk and the resource walk share it.
/// Inlinable so that the resource walk in MMChecks gets a copy specialised to its state type: the
/// generic one hashed through witness tables and cost more than the walk's own work.
@inlinable
public func mergePathStates<State: Hashable, Key: Hashable>(
    _ states: Set<State>, key: (State) -> Key, facts: WritableKeyPath<State, Set<Fact>>, limit: Int
) -> Set<State> {
    var byKey: [Key: State] = [:]
    for state in states {
        let k = key(state)
        if var existing = byKey[k] {
            existing[keyPath: facts].formIntersection(state[keyPath: facts])
            byKey[k] = existing
        } else {
            byKey[k] = state
        }
    }
    var result = Set(byKey.values)
    if result.count > limit {
        result = Set(result.map { state in
            var bare = state
            bare[keyPath: facts] = []
            return bare
        })
    }
    return result
}
