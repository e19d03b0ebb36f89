import Foundation
@testable import MMFacts
import Testing

@Suite struct FactsTests {
    @Test func bundledRulesLoadAndKnowTheMmLocks() throws {
        let facts = try FactsLoader().bundled()
        let readLock = try #require(facts.primitive(named: "mmap_read_lock"))
        #expect(readLock.action == .acquire)
        #expect(readLock.member == "mmap_lock")
        #expect(readLock.sleeps)
        #expect(facts.primitive(named: "down_trylock")?.heldWhen == .zero)
        #expect(facts.primitive(named: "spin_trylock")?.heldWhen == .nonzero)
        #expect(facts.primitive(named: "pte_offset_map_lock")?.operand == .outArgument(3))
        #expect(facts.primitive(named: "rcu_read_lock")?.nestable == true)
    }

    @Test func oldLockNamesAreTheSameLock() throws {
        let facts = try FactsLoader().bundled()
        #expect(facts.canonicalLockExpression("mm->mmap_sem") == "mm->mmap_lock")
        #expect(facts.canonicalLockExpression("mapping->i_mmap_mutex") == "mapping->i_mmap_rwsem")
        #expect(facts.canonicalLockExpression("inode->i_mutex") == "inode->i_rwsem")
        #expect(facts.canonicalLockExpression("root_anon_vma->lock") == "root_anon_vma->rwsem")
        // `lock` alone is not an anon_vma lock.
        #expect(facts.canonicalLockExpression("mm->context.lock") == "mm->context.lock")
        #expect(facts.lockClass(forExpression: "current->mm->mmap_sem")?.name == "mmap_lock")
        #expect(facts.lockClass(forExpression: "mm->page_table_lock")?.name == "ptl")
    }

    /// Rules/ in the repository and the copy compiled into the binary must agree.
    @Test func bundledCopyMatchesRulesDirectory() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let directory = root.appendingPathComponent("Rules").path
        let fromDisk = try FactsLoader().load(directory: directory)
        let bundled = try FactsLoader().bundled()
        #expect(fromDisk.primitives == bundled.primitives,
                "Rules/ changed: run scripts/embed-rules to refresh Sources/MMFacts/BundledRules.swift")
        #expect(fromDisk.classes == bundled.classes)
        #expect(fromDisk.calls == bundled.calls)
        #expect(fromDisk.pairs == bundled.pairs)
        #expect(fromDisk.allocators == bundled.allocators)
        // The bundled facts come from the pre-parsed copy, Rules/ from the YAML parser: every
        // field must agree, not only the ones above.
        #expect(fromDisk.order == bundled.order)
        #expect(fromDisk.effects == bundled.effects)
        #expect(fromDisk.effectPatterns == bundled.effectPatterns)
        #expect(fromDisk.gfp == bundled.gfp)
        #expect(fromDisk.noReturnCalls == bundled.noReturnCalls)
        #expect(fromDisk.dereferencingCalls == bundled.dereferencingCalls)
    }

    /// The reader of the pre-parsed rules: objects, arrays, strings with JSON escapes.
    @Test func preParsedRulesReaderReadsWhatTheGeneratorWrites() throws {
        let tree = try RulesTree.parse(#"{"calls":[{"function":"kmalloc","why":"a \"quoted\" word\nand é \u00e9"}],"empty":[]}"#)
        let map = try #require(tree as? [String: Any])
        let calls = try #require(map["calls"] as? [Any])
        let first = try #require(calls.first as? [String: Any])
        #expect(first["function"] as? String == "kmalloc")
        #expect(first["why"] as? String == "a \"quoted\" word\nand é é")
        #expect((map["empty"] as? [Any])?.isEmpty == true)
        #expect(throws: RulesTree.Malformed.self) { try RulesTree.parse(#"{"calls":[true]}"#) }
    }

    @Test func badEntryNamesFileEntryAndField() {
        let yaml = """
            primitives:
              - {function: my_lock, action: grab, lock: arg0, kind: spinlock}
            """
        #expect {
            try FactsLoader().load(files: [("extra.yaml", yaml)])
        } throws: { error in
            (error as? FactsError)?.description
                == "extra.yaml: primitive 'my_lock': field 'action': 'grab' is not accepted; expected one of acquire, release, try, downgrade"
        }
    }

    @Test func tryWithoutHeldWhenIsRejected() {
        let yaml = """
            primitives:
              - {function: my_trylock, action: try, lock: arg0, kind: mutex}
            """
        #expect {
            try FactsLoader().load(files: [("extra.yaml", yaml)])
        } throws: { error in
            let text = (error as? FactsError)?.description ?? ""
            return text.contains("primitive 'my_trylock'") && text.contains("field 'held_when'")
        }
    }

    @Test func unknownFieldAndBadLockOperandAreRejected() {
        let unknownField = "primitives:\n  - {function: f, action: acquire, lock: arg0, kind: mutex, colour: red}\n"
        #expect(throws: FactsError.self) { try FactsLoader().load(files: [("a.yaml", unknownField)]) }
        let badOperand = "primitives:\n  - {function: f, action: acquire, lock: first, kind: mutex}\n"
        #expect {
            try FactsLoader().load(files: [("b.yaml", badOperand)])
        } throws: { error in
            (error as? FactsError)?.description.contains("field 'lock': 'first' is not accepted") ?? false
        }
    }

    @Test func extraRulesExtendTheBundledOnes() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mmreview-rules-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let yaml = "primitives:\n  - {function: ckpt_lock, action: acquire, lock: arg0, member: ckpt_mutex, kind: mutex, sleeps: true}\n"
        try yaml.write(to: directory.appendingPathComponent("local.yaml"), atomically: true, encoding: .utf8)
        let facts = try FactsLoader().bundled(extendedBy: directory.path)
        #expect(facts.primitive(named: "ckpt_lock")?.member == "ckpt_mutex")
        #expect(facts.primitive(named: "spin_lock") != nil)
    }

    @Test func allocatorsSayWhichArgumentsGiveTheSize() throws {
        let facts = try FactsLoader().bundled()
        #expect(facts.allocators["vmalloc"]?.sizeArguments == [0])
        #expect(facts.allocators["kcalloc"]?.sizeArguments == [0, 1])
        #expect(facts.allocators["devm_kcalloc"]?.sizeArguments == [1, 2])
        let custom = try FactsLoader().load(files: [("a.yaml", "allocators:\n  - {function: my_alloc, size: arg2}\n")])
        #expect(custom.allocators["my_alloc"]?.sizeArguments == [2])
    }

    @Test func badAllocatorEntryNamesFileEntryAndField() {
        let badSize = "allocators:\n  - {function: my_alloc, size: [first]}\n"
        #expect {
            try FactsLoader().load(files: [("a.yaml", badSize)])
        } throws: { error in
            (error as? FactsError)?.description
                == "a.yaml: allocator 'my_alloc': field 'size': 'first' is not accepted; expected a list of argN"
        }
        let missing = "allocators:\n  - {function: my_alloc}\n"
        #expect {
            try FactsLoader().load(files: [("b.yaml", missing)])
        } throws: { error in
            (error as? FactsError)?.description.contains("allocator 'my_alloc': field 'size': missing") ?? false
        }
        let unknown = "allocators:\n  - {function: my_alloc, size: [arg0], zeroes: true}\n"
        #expect(throws: FactsError.self) { try FactsLoader().load(files: [("c.yaml", unknown)]) }
    }
}

@Suite struct CallFactsTests {
    @Test func callsThatMayDropTheCallersLockAreKnown() throws {
        let facts = try FactsLoader().bundled()
        #expect(facts.call(named: "handle_mm_fault")?.mayDrop == ["mmap_lock"])
        #expect(facts.call(named: "kfree")?.mayDrop ?? [] == [])
    }

    @Test func mayDropNamesAKnownClass() {
        let yaml = "calls:\n  - {function: f, may_drop: [mmap_sem_typo]}\n"
        #expect {
            try FactsLoader().load(files: [("locks.yaml", BundledRulesForTests.locks), ("extra.yaml", yaml)])
        } throws: { error in
            (error as? FactsError)?.description.contains("call 'f': field 'may_drop': unknown class 'mmap_sem_typo'") ?? false
        }
    }
}

/// The repository's classes.yaml, so a test can load it next to a file of its own.
enum BundledRulesForTests {
    static var locks: String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Rules/classes.yaml")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }
}
