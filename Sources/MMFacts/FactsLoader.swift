import Foundation
import Yams

/// A bad entry in a rules file: names the file, the entry and the field, and what is accepted.
public struct FactsError: Error, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var entry: String
    public var field: String
    public var message: String

    public init(file: String, entry: String, field: String, message: String) {
        self.file = file
        self.entry = entry
        self.field = field
        self.message = message
    }

    public var description: String {
        if entry.isEmpty { return "\(file): \(message)" }
        return "\(file): \(entry): field '\(field)': \(message)"
    }
}

/// Reads lock facts from YAML text: the bundled copy of Rules/, a directory given with `--rules`,
/// or both (later files add to and override earlier ones, by function and class name).
public struct FactsLoader: Sendable {
    public init() {}

    /// The facts that ship inside the binary (a copy of the repository's Rules/).
    public func bundled() throws(FactsError) -> KernelFacts {
        try load(documents: bundledDocuments())
    }

    /// Bundled facts extended by every `*.yaml` file of `directory`.
    public func bundled(extendedBy directory: String) throws(FactsError) -> KernelFacts {
        try load(documents: bundledDocuments() + parse(readDirectory(directory)))
    }

    /// Bundled facts extended by files already read (directories and a configuration's facts).
    public func bundled(extendedBy files: [(name: String, text: String)]) throws(FactsError) -> KernelFacts {
        try load(documents: bundledDocuments() + parse(files))
    }

    /// The bundled files as scripts/embed-rules pre-parsed them: the same trees Yams would give
    /// (a test checks it), without the cost of the YAML parser at every start.
    func bundledDocuments() throws(FactsError) -> [(name: String, root: Any?)] {
        var documents: [(name: String, root: Any?)] = []
        for file in BundledRules.parsed {
            do {
                documents.append((file.name, try RulesTree.parse(file.json)))
            } catch {
                throw FactsError(file: file.name, entry: "", field: "", message: error.description)
            }
        }
        return documents
    }

    /// Each file's YAML parsed; every scalar stays a string.
    func parse(_ files: [(name: String, text: String)]) throws(FactsError) -> [(name: String, root: Any?)] {
        var documents: [(name: String, root: Any?)] = []
        for file in files {
            do {
                // The basic resolver keeps every scalar a string: the fields are typed here, and
                // Yams's regular-expression tag resolution was a quarter of a review's run time.
                documents.append((file.name, try Yams.load(yaml: file.text, .basic)))
            } catch {
                throw FactsError(file: file.name, entry: "", field: "", message: "not valid YAML: \(error)")
            }
        }
        return documents
    }

    /// Facts from the `*.yaml` files of a directory alone.
    public func load(directory: String) throws(FactsError) -> KernelFacts {
        try load(files: readDirectory(directory))
    }

    public func load(files: [(name: String, text: String)]) throws(FactsError) -> KernelFacts {
        try load(documents: parse(files))
    }

    /// Facts from parsed files (mappings, lists and string scalars), later files adding to and
    /// overriding earlier ones.
    func load(documents: [(name: String, root: Any?)]) throws(FactsError) -> KernelFacts {
        var primitives: [String: LockPrimitive] = [:]
        var classes: [LockClass] = []
        var calls: [String: CallFact] = [:]
        var pairs: [ResourcePair] = []
        var allocators: [String: AllocatorFact] = [:]
        var order: [OrderChain] = []
        var effects: [String: CallEffect] = [:]
        var effectPatterns: [CallEffect] = []
        var gfp = GfpFlags()
        var operations: [LockOperation] = []
        // Where each order chain and effect came from, to name it when it refers to an unknown class.
        var orderFiles: [String] = []
        var effectFiles: [String: String] = [:]
        for file in documents {
            let root = file.root
            guard let map = root as? [String: Any] else {
                if root == nil { continue }
                throw FactsError(file: file.name, entry: "", field: "",
                                 message: "expected a mapping with 'primitives' and/or 'classes'")
            }
            let topLevel = ["primitives", "classes", "calls", "pairs", "allocators", "order", "effects", "gfp",
                            "operations"]
            for key in map.keys.sorted() where !topLevel.contains(key) {
                throw FactsError(file: file.name, entry: "", field: key,
                                 message: "unknown top-level key '\(key)'; expected " + topLevel.joined(separator: ", "))
            }
            if let list = map["order"] {
                for chain in try parseOrder(list, file: file.name) {
                    order.append(chain)
                    orderFiles.append(file.name)
                }
            }
            if let list = map["effects"] {
                for effect in try parseEffects(list, file: file.name) {
                    effectFiles[effect.name] = file.name
                    if effect.isPattern {
                        effectPatterns.removeAll { $0.name == effect.name }
                        effectPatterns.append(effect)
                    } else {
                        effects[effect.name] = effect
                    }
                }
            }
            if let value = map["gfp"] {
                guard let gfpMap = value as? [String: Any] else {
                    throw FactsError(file: file.name, entry: "gfp", field: "gfp", message: "expected a mapping")
                }
                let reader = FieldReader(map: gfpMap, file: file.name, entry: "gfp")
                try reader.rejectUnknown(["sleeping", "atomic", "source"])
                gfp.sleeping.formUnion(try reader.stringList("sleeping"))
                gfp.atomic.formUnion(try reader.stringList("atomic"))
            }
            if let list = map["calls"] {
                for fact in try parseCalls(list, file: file.name) { calls[fact.function] = fact }
            }
            if let list = map["pairs"] {
                for pair in try parsePairs(list, file: file.name) {
                    pairs.removeAll { $0.acquire == pair.acquire }
                    pairs.append(pair)
                }
            }
            if let list = map["allocators"] {
                for fact in try parseAllocators(list, file: file.name) { allocators[fact.function] = fact }
            }
            if let list = map["operations"] {
                for operation in try parseOperations(list, file: file.name) {
                    operations.removeAll { $0.called == operation.called && $0.structName == operation.structName }
                    operations.append(operation)
                }
            }
            if let list = map["primitives"] {
                for primitive in try parsePrimitives(list, file: file.name) {
                    primitives[primitive.function] = primitive
                }
            }
            if let list = map["classes"] {
                for cls in try parseClasses(list, file: file.name) {
                    classes.removeAll { $0.name == cls.name }
                    classes.append(cls)
                }
            }
        }
        for call in calls.values {
            for name in call.mayDrop where !classes.contains(where: { $0.name == name }) {
                throw FactsError(file: "rules", entry: "call '\(call.function)'", field: "may_drop",
                                 message: "unknown class '\(name)'; classes are: " + classes.map(\.name).joined(separator: ", "))
            }
        }
        for operation in operations {
            if let name = operation.className, !classes.contains(where: { $0.name == name }) {
                throw FactsError(file: "rules", entry: "operation '\(operation.called)'", field: "class",
                                 message: "unknown class '\(name)'; classes are: "
                                    + classes.map(\.name).joined(separator: ", "))
            }
        }
        for primitive in primitives.values {
            if let name = primitive.className, !classes.contains(where: { $0.name == name }) {
                throw FactsError(file: "rules", entry: "primitive '\(primitive.function)'", field: "class",
                                 message: "unknown class '\(name)'; classes are: "
                                    + classes.map(\.name).joined(separator: ", "))
            }
        }
        let classNames = classes.map(\.name)
        func unknownClass(_ name: String, file: String, entry: String, field: String) -> FactsError {
            FactsError(file: file, entry: entry, field: field,
                       message: "unknown class '\(name)'; classes are: " + classNames.joined(separator: ", "))
        }
        for (index, chain) in order.enumerated() {
            for name in chain.classes where !classNames.contains(name) {
                throw unknownClass(name, file: orderFiles[index], entry: "order chain #\(index + 1)", field: "chain")
            }
        }
        for effect in Array(effects.values) + effectPatterns {
            for name in effect.takes where !classNames.contains(name) {
                throw unknownClass(name, file: effectFiles[effect.name] ?? "rules", entry: "effect '\(effect.name)'", field: "takes")
            }
        }
        return KernelFacts(primitives: primitives, classes: classes, calls: calls, pairs: pairs,
                           allocators: allocators, order: order, effects: effects, effectPatterns: effectPatterns, gfp: gfp,
                           operations: operations)
    }

    public func readDirectory(_ directory: String) throws(FactsError) -> [(name: String, text: String)] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw FactsError(file: directory, entry: "", field: "", message: "cannot read the rules directory")
        }
        var files: [(name: String, text: String)] = []
        for name in names.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path),
                  let text = String(data: data, encoding: .utf8) else {
                throw FactsError(file: path, entry: "", field: "", message: "cannot read the file as UTF-8 text")
            }
            files.append((path, text))
        }
        return files
    }

    private func parsePrimitives(_ value: Any, file: String) throws(FactsError) -> [LockPrimitive] {
        guard let list = value as? [Any] else {
            throw FactsError(file: file, entry: "primitives", field: "primitives", message: "expected a list")
        }
        var result: [LockPrimitive] = []
        for (index, item) in list.enumerated() {
            var entry = "primitive #\(index + 1)"
            guard let map = item as? [String: Any] else {
                throw FactsError(file: file, entry: entry, field: "", message: "expected a mapping")
            }
            let fields = FieldReader(map: map, file: file, entry: entry)
            let function = try fields.string("function")
            entry = "primitive '\(function)'"
            let reader = FieldReader(map: map, file: file, entry: entry)
            try reader.rejectUnknown(["function", "action", "lock", "member", "class", "kind", "mode", "sleeps",
                                      "held_when", "returns_errno", "nestable", "source"])
            let action: LockAction = try reader.enumValue("action")
            let operand = try parseOperand(try reader.string("lock"), reader: reader)
            let heldWhen: HeldWhen? = try reader.optionalEnumValue("held_when")
            if action == .try, heldWhen == nil {
                throw FactsError(file: file, entry: entry, field: "held_when",
                                 message: "a 'try' primitive must say when the lock is held: zero, nonzero or nonnull")
            }
            result.append(LockPrimitive(
                function: function,
                action: action,
                operand: operand,
                member: try reader.optionalString("member"),
                className: try reader.optionalString("class"),
                kind: try reader.enumValue("kind"),
                mode: try reader.optionalEnumValue("mode") ?? .exclusive,
                sleeps: try reader.optionalBool("sleeps") ?? false,
                heldWhen: heldWhen,
                returnsErrno: try reader.optionalBool("returns_errno") ?? false,
                nestable: try reader.optionalBool("nestable") ?? false,
                source: try reader.optionalString("source")))
        }
        return result
    }

    /// A section that is a list of mappings, each named by its `key` field: the name and a reader whose
    /// errors say "<noun> '<name>'" (or "<noun> #N" while the name itself is missing or wrong).
    private func namedEntries(_ value: Any, file: String, section: String, noun: String,
                              key: String) throws(FactsError) -> [(String, FieldReader)] {
        guard let list = value as? [Any] else {
            throw FactsError(file: file, entry: section, field: section, message: "expected a list")
        }
        var entries: [(String, FieldReader)] = []
        for (index, item) in list.enumerated() {
            guard let map = item as? [String: Any] else {
                throw FactsError(file: file, entry: "\(noun) #\(index + 1)", field: "", message: "expected a mapping")
            }
            let name = try FieldReader(map: map, file: file, entry: "\(noun) #\(index + 1)").string(key)
            entries.append((name, FieldReader(map: map, file: file, entry: "\(noun) '\(name)'")))
        }
        return entries
    }

    /// `operations`: calls through function pointers whose contract releases an argument's lock.
    private func parseOperations(_ value: Any, file: String) throws(FactsError) -> [LockOperation] {
        var result: [LockOperation] = []
        for (called, reader) in try namedEntries(value, file: file, section: "operations", noun: "operation", key: "called") {
            try reader.rejectUnknown(["called", "struct", "action", "lock", "member", "class", "kind", "always", "source"])
            let action: LockAction = try reader.enumValue("action")
            guard action == .release else { throw reader.error("action", "only 'release' is accepted for an operation") }
            let operand = try parseOperand(try reader.string("lock"), reader: reader)
            guard case .argument = operand else { throw reader.error("lock", "expected argN: the argument whose lock is released") }
            let structName = try reader.optionalString("struct")
            if structName != nil, !called.hasPrefix("->") {
                throw reader.error("struct", "only with a member ('->NAME') in 'called'")
            }
            result.append(LockOperation(
                called: called, structName: structName, operand: operand,
                member: try reader.optionalString("member"), className: try reader.optionalString("class"),
                kind: try reader.enumValue("kind"), always: try reader.optionalBool("always") ?? false,
                source: try reader.optionalString("source")))
        }
        return result
    }

    private func parseOrder(_ value: Any, file: String) throws(FactsError) -> [OrderChain] {
        guard let list = value as? [Any] else {
            throw FactsError(file: file, entry: "order", field: "order", message: "expected a list")
        }
        var result: [OrderChain] = []
        for (index, item) in list.enumerated() {
            guard let map = item as? [String: Any] else {
                throw FactsError(file: file, entry: "order chain #\(index + 1)", field: "", message: "expected a mapping")
            }
            let reader = FieldReader(map: map, file: file, entry: "order chain #\(index + 1)")
            try reader.rejectUnknown(["chain", "source", "note"])
            let classes = try reader.stringList("chain")
            if classes.count < 2 { throw reader.error("chain", "expected at least two classes, outermost first") }
            if Set(classes).count != classes.count { throw reader.error("chain", "a class appears twice") }
            result.append(OrderChain(classes: classes, source: try reader.string("source")))
        }
        return result
    }

    private func parseEffects(_ value: Any, file: String) throws(FactsError) -> [CallEffect] {
        guard let list = value as? [Any] else {
            throw FactsError(file: file, entry: "effects", field: "effects", message: "expected a list")
        }
        var result: [CallEffect] = []
        for (index, item) in list.enumerated() {
            guard let map = item as? [String: Any] else {
                throw FactsError(file: file, entry: "effect #\(index + 1)", field: "", message: "expected a mapping")
            }
            let first = FieldReader(map: map, file: file, entry: "effect #\(index + 1)")
            let function = try first.optionalString("function")
            let pattern = try first.optionalString("pattern")
            guard let name = function ?? pattern, (function == nil) != (pattern == nil) else {
                throw first.error("function", "give exactly one of 'function' (a name) or 'pattern' (a name with * wildcards)")
            }
            let reader = FieldReader(map: map, file: file, entry: "effect '\(name)'")
            try reader.rejectUnknown(["function", "pattern", "sleeps", "gfp", "takes", "why", "source"])
            var gfpArgument: Int?
            if let text = try reader.optionalString("gfp") {
                guard text.hasPrefix("arg"), let n = Int(text.dropFirst(3)), n >= 0 else {
                    throw reader.error("gfp", "'\(text)' is not accepted; expected argN")
                }
                gfpArgument = n
            }
            let statedSleeps = try reader.optionalBool("sleeps")
            let sleeps = statedSleeps ?? false
            let takes = try reader.stringList("takes")
            // `sleeps: false` says something: the call does not sleep whatever flags it is handed.
            if statedSleeps == nil, gfpArgument == nil, takes.isEmpty {
                throw reader.error("sleeps", "the entry says nothing: give sleeps, gfp or takes")
            }
            result.append(CallEffect(name: name, isPattern: pattern != nil, sleeps: sleeps, gfpArgument: gfpArgument,
                                     takes: takes, why: try reader.optionalString("why"),
                                     source: try reader.optionalString("source")))
        }
        return result
    }

    private func parseOperand(_ text: String, reader: FieldReader) throws(FactsError) -> LockOperand {
        if text == "return" { return .returnValue }
        if text == "none" { return .none }
        if text.hasPrefix("arg") {
            let rest = text.dropFirst(3)
            if rest.hasSuffix("-out"), let n = Int(rest.dropLast(4)), n >= 0 { return .outArgument(n) }
            if let n = Int(rest), n >= 0 { return .argument(n) }
        }
        throw reader.error("lock", "'\(text)' is not accepted; expected argN, argN-out, return or none")
    }

    private func parseCalls(_ value: Any, file: String) throws(FactsError) -> [CallFact] {
        var result: [CallFact] = []
        for (function, reader) in try namedEntries(value, file: file, section: "calls", noun: "call", key: "function") {
            try reader.rejectUnknown(["function", "returns", "must_check", "may_drop", "stores_object", "dereferences",
                                      "source"])
            var dereferences = Set<Int>()
            for argument in try reader.stringList("dereferences") {
                guard argument.hasPrefix("arg"), let index = Int(argument.dropFirst(3)), index >= 0 else {
                    throw FactsError(file: file, entry: "call '\(function)'", field: "dereferences",
                                     message: "'\(argument)' is not an argument; expected arg0, arg1, …")
                }
                dereferences.insert(index)
            }
            result.append(CallFact(function: function, returns: try reader.optionalEnumValue("returns"),
                                   mustCheck: try reader.optionalBool("must_check") ?? false,
                                   mayDrop: try reader.stringList("may_drop"),
                                   storesObject: try reader.optionalBool("stores_object") ?? false,
                                   dereferences: dereferences,
                                   source: try reader.optionalString("source")))
        }
        return result
    }

    private func parsePairs(_ value: Any, file: String) throws(FactsError) -> [ResourcePair] {
        var result: [ResourcePair] = []
        for (acquire, reader) in try namedEntries(value, file: file, section: "pairs", noun: "pair", key: "acquire") {
            try reader.rejectUnknown(["acquire", "object", "release", "release_object", "source"])
            let releases = try reader.stringList("release")
            if releases.isEmpty { throw reader.error("release", "missing: list the functions that drop it") }
            result.append(ResourcePair(acquire: acquire, acquireObject: try parseObject(reader.string("object"), reader, "object"),
                                       releases: releases,
                                       releaseObject: try parseObject(reader.optionalString("release_object") ?? "arg0", reader, "release_object"),
                                       source: try reader.optionalString("source")))
        }
        return result
    }

    private func parseAllocators(_ value: Any, file: String) throws(FactsError) -> [AllocatorFact] {
        var result: [AllocatorFact] = []
        for (function, reader) in try namedEntries(value, file: file, section: "allocators", noun: "allocator", key: "function") {
            try reader.rejectUnknown(["function", "size", "source"])
            var arguments: [Int] = []
            for text in try reader.stringList("size") {
                guard text.hasPrefix("arg"), let n = Int(text.dropFirst(3)), n >= 0 else {
                    throw reader.error("size", "'\(text)' is not accepted; expected a list of argN")
                }
                arguments.append(n)
            }
            if arguments.isEmpty { throw reader.error("size", "missing: list the arguments that give the size (argN)") }
            result.append(AllocatorFact(function: function, sizeArguments: arguments,
                                        source: try reader.optionalString("source")))
        }
        return result
    }

    private func parseObject(_ text: String, _ reader: FieldReader, _ field: String) throws(FactsError) -> PairObject {
        if text == "return" { return .returnValue }
        if text.hasPrefix("arg"), let n = Int(text.dropFirst(3)), n >= 0 { return .argument(n) }
        throw reader.error(field, "'\(text)' is not accepted; expected argN or return")
    }

    private func parseClasses(_ value: Any, file: String) throws(FactsError) -> [LockClass] {
        var result: [LockClass] = []
        for (name, reader) in try namedEntries(value, file: file, section: "classes", noun: "class", key: "name") {
            try reader.rejectUnknown(["name", "members", "base_contains", "variables", "description"])
            result.append(LockClass(name: name,
                                    members: try reader.stringList("members"),
                                    baseContains: try reader.optionalString("base_contains"),
                                    variables: try reader.stringList("variables"),
                                    description: try reader.optionalString("description") ?? ""))
        }
        return result
    }
}

/// Typed access to one YAML mapping with errors that name the file, entry and field.
private struct FieldReader {
    var map: [String: Any]
    var file: String
    var entry: String

    func error(_ field: String, _ message: String) -> FactsError {
        FactsError(file: file, entry: entry, field: field, message: message)
    }

    func rejectUnknown(_ known: [String]) throws(FactsError) {
        for key in map.keys.sorted() where !known.contains(key) {
            throw error(key, "unknown field; accepted fields are " + known.joined(separator: ", "))
        }
    }

    func string(_ field: String) throws(FactsError) -> String {
        guard let value = try optionalString(field) else { throw error(field, "missing") }
        return value
    }

    func optionalString(_ field: String) throws(FactsError) -> String? {
        guard let value = map[field] else { return nil }
        if let text = value as? String, !text.isEmpty { return text }
        throw error(field, "expected a non-empty string")
    }

    func optionalBool(_ field: String) throws(FactsError) -> Bool? {
        guard let value = map[field] else { return nil }
        if let flag = value as? Bool { return flag }
        if let text = value as? String, text == "true" || text == "false" { return text == "true" }
        throw error(field, "expected true or false")
    }

    func stringList(_ field: String) throws(FactsError) -> [String] {
        guard let value = map[field] else { return [] }
        if let single = value as? String { return [single] }
        if let list = value as? [Any] {
            var result: [String] = []
            for item in list {
                guard let text = item as? String else { throw error(field, "expected a list of names") }
                result.append(text)
            }
            return result
        }
        throw error(field, "expected a list of names")
    }

    func enumValue<T: RawRepresentable & CaseIterable>(_ field: String) throws(FactsError) -> T where T.RawValue == String {
        guard let value: T = try optionalEnumValue(field) else { throw error(field, "missing") }
        return value
    }

    func optionalEnumValue<T: RawRepresentable & CaseIterable>(_ field: String) throws(FactsError) -> T?
    where T.RawValue == String {
        guard let raw = map[field] else { return nil }
        if let text = raw as? String, let value = T(rawValue: text) { return value }
        let accepted = T.allCases.map(\.rawValue).joined(separator: ", ")
        throw error(field, "'\(raw)' is not accepted; expected one of \(accepted)")
    }
}
