import Foundation
import MMCore
import Testing
@testable import MMExtract

/// Functions of seeds 000, 001 and 002 built by hand the way MMPatch will build them.
enum SeedFunctions {
    static func seed001() throws -> [TouchedFunction] {
        let hunks = try Seeds.hunks("001_f23a81c0b7ab8d5c.txt")
        let names = ["page_get_desc", "count_vma_pages", "dump_pages", "dump_page_block", "cpt_dump_dentry",
                     "dump_one_vma", "cpt_dump_mm_context", "cpt_dump_mm"]
        return names.compactMap { name in
            Seeds.wholeFunction(hunks, .after, name: name).map {
                TouchedFunction(name: name, file: "checkpoint/cpt_mm.c", oldFile: nil, before: nil, after: $0)
            }
        }
    }

    static func doCheckpointMM() throws -> TouchedFunction {
        let hunks = try Seeds.hunks("000_ed32f0bd73afb809.txt")
        let before = Seeds.image(hunks, .before, [647...654, 674...687, 692...730],
                                 startsAtDefinition: true, endsAtClosingBrace: true)
        let after = Seeds.image(hunks, .after, [717...723, 743...765, 770...785],
                                startsAtDefinition: true, endsAtClosingBrace: true)
        return TouchedFunction(name: "do_checkpoint_mm", file: "checkpoint/memory.c", oldFile: "checkpoint/memory.c",
                               before: before, after: after)
    }

    static func seed000() throws -> [TouchedFunction] {
        let hunks = try Seeds.hunks("000_ed32f0bd73afb809.txt")
        let vmas = Seeds.wholeFunction(hunks, .after, name: "checkpoint_vmas")
        // do_restore_mm: only the middle of the function is visible.
        let restoreBefore = Seeds.image(hunks, .before, [1288...1296], startsAtDefinition: false, endsAtClosingBrace: false)
        let restoreAfter = Seeds.image(hunks, .after, [1343...1351], startsAtDefinition: false, endsAtClosingBrace: false)
        return [
            TouchedFunction(name: "checkpoint_vmas", file: "checkpoint/memory.c", oldFile: "checkpoint/memory.c",
                            before: nil, after: vmas),
            try doCheckpointMM(),
            TouchedFunction(name: "do_restore_mm", file: "checkpoint/memory.c", oldFile: "checkpoint/memory.c",
                            before: restoreBefore, after: restoreAfter),
        ]
    }

    static func tryToUnuse() throws -> TouchedFunction {
        let hunks = try Seeds.hunks("002_09e121193730cda6.txt")
        let swapfile = Array(hunks.suffix(3))  // mm/swapfile.c
        let before = Seeds.image(swapfile, .before, [284...290, 316...325], startsAtDefinition: true, endsAtClosingBrace: false)
        let after = Seeds.image(swapfile, .after, [284...290, 316...327], startsAtDefinition: true, endsAtClosingBrace: false)
        return TouchedFunction(name: "try_to_unuse", file: "mm/swapfile.c", oldFile: "mm/swapfile.c",
                               before: before, after: after)
    }

    static func seed002() throws -> [TouchedFunction] {
        let hunks = try Seeds.hunks("002_09e121193730cda6.txt")
        // Hunk order: exec.c, sched.h x4, fork.c x4, mmap.c x4, page_alloc.c x2, swapfile.c x3.
        let sched = Array(hunks[1...4])
        let fork = Array(hunks[5...8])
        let mmap = Array(hunks[9...12])
        let swapfile = Array(hunks[15...17])
        func whole(_ h: [SeedHunk], _ name: String, _ file: String) -> TouchedFunction {
            TouchedFunction(name: name, file: file, oldFile: file, before: nil,
                            after: Seeds.wholeFunction(h, .after, name: name))
        }
        func partial(_ h: SeedHunk, _ name: String, _ file: String) -> TouchedFunction {
            let b = h.lines.compactMap(\.old), a = h.lines.compactMap(\.new)
            return TouchedFunction(
                name: name, file: file, oldFile: file,
                before: Seeds.image([h], .before, [b.min()!...b.max()!], startsAtDefinition: false, endsAtClosingBrace: false),
                after: Seeds.image([h], .after, [a.min()!...a.max()!], startsAtDefinition: false, endsAtClosingBrace: false))
        }
        let unuseBefore = Seeds.image(swapfile, .before, [259...290], startsAtDefinition: true, endsAtClosingBrace: true)
        let unuseAfter = Seeds.image(swapfile, .after, [259...290], startsAtDefinition: true, endsAtClosingBrace: true)
        // Start both at the definition line.
        func fromDefinition(_ img: FunctionImage) -> FunctionImage {
            var img = img
            let lines = img.segments[0].lines
            let start = lines.firstIndex { $0.text.hasPrefix("static void") } ?? 0
            let end = lines.lastIndex { $0.text == "}" } ?? (lines.count - 1)
            img.segments[0].lines = Array(lines[start...end])
            return img
        }
        return [
            partial(hunks[0], "do_load_binary_tail", "fs/exec.c"),
            whole(sched, "insert_mmlist", "include/linux/sched.h"),
            whole(sched, "delete_mmlist", "include/linux/sched.h"),
            partial(fork[0], "mmput", "kernel/fork.c"),
            partial(fork[1], "copy_mm", "kernel/fork.c"),
            partial(fork[2], "do_fork", "kernel/fork.c"),
            partial(fork[3], "do_fork_tail", "kernel/fork.c"),
            partial(mmap[1], "exit_mmap", "mm/mmap.c"),
            partial(mmap[2], "exit_mmap_tail", "mm/mmap.c"),
            partial(mmap[3], "vma_init", "mm/mmap.c"),
            partial(hunks[14], "swap_in", "mm/page_alloc.c"),
            TouchedFunction(name: "unuse_mm", file: "mm/swapfile.c", oldFile: "mm/swapfile.c",
                            before: fromDefinition(unuseBefore), after: fromDefinition(unuseAfter)),
            try tryToUnuse(),
        ]
    }
}

@Suite struct ExtractTests {
    let extractor: FunctionExtractor

    init() throws { extractor = try FunctionExtractor() }

    func model(_ f: TouchedFunction, _ side: Side) throws -> FunctionModel {
        let result = extractor.extract([f])
        return try #require(result.first?.model(side))
    }

    @Test func reportsLibclangVersion() {
        #expect(extractor.libclangVersion.contains("clang version 14"))
    }

    @Test func cptDumpMM() throws {
        let f = try #require(try SeedFunctions.seed001().first { $0.name == "cpt_dump_mm" })
        let m = try model(f, .after)
        #expect(m.errorCount == 0, "\(m.parseDiagnostics)")
        #expect(m.parameterNames == ["tsk", "ctx"])
        #expect(m.parameterTypes == ["struct task_struct *", "struct cpt_context *"])
        #expect(m.returnType == "int")
        #expect(m.sourceLines[382]?.hasPrefix("int cpt_dump_mm(") == true)
        let down = try #require(m.calls("down_read").first)
        #expect(down.arguments == ["&mm->mmap_sem"])
        #expect(down.line == 398)
        #expect(down.column == 2)
        #expect(down.resultUse == .ignored)
        let up = try #require(m.calls("up_read").first)
        #expect(up.arguments == ["&mm->mmap_sem"])
        #expect(up.line == 430)
        // The label err_up comes right before up_read.
        let top = m.body.flattened
        let labelIndex = try #require(top.firstIndex { if case .label("err_up", 429) = $0 { return true }; return false })
        if case .expression(let e) = top[labelIndex + 1] {
            #expect(e.calls.first?.callee == "up_read")
        } else {
            Issue.record("no expression after err_up")
        }
        #expect(m.calls("kzalloc").first?.resultUse == .assigned(to: "v"))
        #expect(m.calls("kzalloc").first?.line == 389)
        let write = try #require(m.calls("ctx->write").first)
        #expect(write.resultUse == .assigned(to: "err"))
        #expect(write.arguments == ["v", "sizeof(*v)", "ctx"])
        #expect(write.line == 414)
        // dump_one_vma is tested in the for loop's if.
        let loops = top.compactMap { s -> Loop? in if case .loop(let l) = s { return l }; return nil }
        let loop = try #require(loops.first)
        #expect(loop.kind == .forLoop)
        #expect(loop.initializer?.text == "vma = mm->mmap")
        #expect(loop.condition?.text == "vma")
        #expect(loop.increment?.text == "vma = vma->vm_next")
        let inner = loop.body.flattened.compactMap { s -> MMCore.Expression? in
            if case .ifElse(let c, _, _) = s { return c }; return nil
        }
        let dump = try #require(inner.first?.calls.first)
        #expect(dump.callee == "dump_one_vma")
        #expect(dump.resultUse == .tested)
        #expect(dump.line == 423)
        #expect(inner.first?.assignments.first?.target == "err")
        #expect(inner.first?.assignments.first?.valueCallee == "dump_one_vma")
        // Declarations with their types; the initialiser as an assignment.
        #expect(top.contains(.declaration(name: "mm", type: "struct mm_struct *", line: 384)))
        let mmInit = top.compactMap { s -> MMCore.Expression? in if case .expression(let e) = s, e.line == 384 { return e }; return nil }
        #expect(mmInit.first?.assignments.first == Assignment(target: "mm", value: "tsk->mm", line: 384, valueCallee: nil))
        #expect(mmInit.first?.dereferences == ["tsk"])
        #expect(top.contains(.returnStatement(value: MMCore.Expression(text: "err", line: 432), line: 432)))
    }

    @Test func cptDumpMMContextInsideIfdef() throws {
        let f = try #require(try SeedFunctions.seed001().first { $0.name == "cpt_dump_mm_context" })
        let m = try model(f, .after)
        #expect(m.errorCount == 0, "\(m.parseDiagnostics)")
        let lock = try #require(m.calls("mutex_lock").first)
        #expect(lock.arguments == ["&mm->context.lock"])
        #expect(lock.line == 363)
        #expect(lock.resultUse == .ignored)
        let writes = m.calls("ctx->write")
        #expect(writes.count == 2)
        #expect(writes.allSatisfy { $0.resultUse == .ignored })
        #expect(writes.map(\.arguments) == [["&b", "sizeof(b)", "ctx"], ["mm->context.ldt", "size", "ctx"]])
        #expect(m.calls("mutex_unlock").first?.line == 376)
    }

    @Test func pageGetDesc() throws {
        let f = try #require(try SeedFunctions.seed001().first { $0.name == "page_get_desc" })
        let m = try model(f, .after)
        #expect(m.errorCount == 0, "\(m.parseDiagnostics)")
        #expect(m.parameterTypes == ["struct vm_area_struct *", "unsigned long", "struct page_desc *", "cpt_context_t *"])
        let lock = try #require(m.calls("pte_offset_map_lock").first)
        #expect(lock.resultUse == .assigned(to: "ptep"))
        #expect(lock.arguments == ["mm", "pmd", "addr", "&ptl"])
        #expect(lock.line == 98)
        #expect(m.calls("spin_unlock").map(\.line) == [111, 159, 163])
        #expect(m.calls("spin_unlock").allSatisfy { $0.arguments == ["ptl"] })
        let stmts = m.statements
        let gotos = stmts.compactMap { s -> String? in if case .goto(let l, _) = s { return l }; return nil }
        let labels = stmts.compactMap { s -> String? in if case .label(let l, _) = s { return l }; return nil }
        #expect(Set(gotos) == ["out_absent", "out_unsupported", "out_absent_unlock", "out_unlock", "out_put"])
        #expect(labels == ["out_put", "out_unlock", "out_absent_unlock", "out_absent", "out_unsupported"])
        // `if ((pg = vm_normal_page(...)) == NULL)`: tested, and assigned to pg.
        let normal = try #require(m.calls("vm_normal_page").first)
        #expect(normal.resultUse == .tested)
        // pgd_bad inside unlikely() is still tested; pgd_none too.
        #expect(m.calls("pgd_bad").first?.resultUse == .tested)
        #expect(m.calls("pgd_none").first?.resultUse == .tested)
        #expect(m.calls("pgd_offset").first?.resultUse == .assigned(to: "pgd"))
        #expect(m.calls("unlikely").isEmpty)
        // The #ifdef CONFIG_X86 block is active.
        #expect(m.calls("pmd_huge").count == 1)
    }

    @Test func doCheckpointMMPartial() throws {
        let f = try SeedFunctions.doCheckpointMM()
        let result = extractor.extract([f])
        let before = try #require(result.first?.before)
        let after = try #require(result.first?.after)
        for m in [before, after] {
            #expect(m.errorCount == 0, "\(m.side): \(m.parseDiagnostics)")
            #expect(m.parameterNames == ["ctx", "mm"])
            let gaps = m.statements.compactMap { s -> Int? in if case .gap(let l) = s { return l }; return nil }
            #expect(gaps.count == 2)
        }
        let beforeGaps = before.statements.compactMap { s -> Int? in if case .gap(let l) = s { return l }; return nil }
        #expect(beforeGaps == [655, 688])
        let afterGaps = after.statements.compactMap { s -> Int? in if case .gap(let l) = s { return l }; return nil }
        #expect(afterGaps == [724, 766])
        // up_read under label out (before), and after the exe_file block (after).
        #expect(before.calls("up_read").map(\.line) == [728])
        #expect(before.calls("up_read").first?.arguments == ["&mm->mmap_sem"])
        let beforeTop: [Statement] = { if case .block(let s) = before.body { return s }; return [] }()
        let out = try #require(beforeTop.firstIndex { if case .label("out", 726) = $0 { return true }; return false })
        #expect(beforeTop[(out + 1)...].contains { s in
            if case .expression(let e) = s { return e.calls.contains { $0.callee == "up_read" } }; return false
        })
        #expect(after.calls("up_read").map(\.line) == [755])
        // return statements at their lines.
        func returns(_ m: FunctionModel) -> [Int] {
            m.statements.compactMap { s -> Int? in if case .returnStatement(_, let l) = s { return l }; return nil }
        }
        #expect(returns(before) == [693, 702, 729])
        #expect(returns(after) == [771, 784])
        #expect(after.calls("checkpoint_obj").first?.resultUse == .assigned(to: "h->exe_objref"))
        #expect(before.calls("checkpoint_obj").first?.resultUse == .assigned(to: "exe_objref"))
        // Calls through a pointer keep their callee text.
        #expect(before.calls("(*vma->vm_ops->checkpoint)").first?.resultUse == .assigned(to: "ret"))
        #expect(after.calls("checkpoint_vmas").first?.resultUse == .assigned(to: "ret"))
        #expect(before.calls.map(\.callee).contains("ckpt_hdr_get_type"))
    }

    @Test func tryToUnuseAfter() throws {
        let f = try SeedFunctions.tryToUnuse()
        let m = try model(f, .after)
        #expect(m.calls("down").map(\.line) == [319])
        #expect(m.calls("down").first?.arguments == ["&mm_sem"])
        #expect(m.calls("up").map(\.line) == [324])
        let loops = m.statements.compactMap { s -> Loop? in if case .loop(let l) = s { return l }; return nil }
        let loop = try #require(loops.first { $0.kind == .whileLoop })
        #expect(loop.line == 321)
        #expect(loop.condition?.text == "mm != &init_mm")
        #expect(loop.body.allCalls.map(\.callee) == ["unuse_mm"])
        #expect(loop.body.allCalls.first?.arguments == ["mm", "entry", "page"])
        // Order: down, assignment, loop, up.
        let order = m.calls.map(\.callee)
        #expect(order.firstIndex(of: "down")! < order.firstIndex(of: "unuse_mm")!)
        #expect(order.firstIndex(of: "unuse_mm")! < order.firstIndex(of: "up")!)
        // Before: for_each_task is a macro loop around unuse_process.
        let b = try model(f, .before)
        let macroLoops = b.statements.compactMap { s -> Loop? in if case .loop(let l) = s, l.kind == .macroLoop { return l }; return nil }
        #expect(macroLoops.first?.condition?.text == "for_each_task(p)")
        #expect(macroLoops.first?.body.allCalls.map(\.callee) == ["unuse_process"])
        #expect(b.calls("read_lock").first?.arguments == ["&tasklist_lock"])
    }

    @Test func noCallLostOrInvented() throws {
        let functions = try SeedFunctions.seed000() + SeedFunctions.seed001() + SeedFunctions.seed002()
        #expect(functions.count >= 20)
        let start = Date()
        let results = extractor.extract(functions)
        let elapsed = Date().timeIntervalSince(start)
        var sides = 0
        var errors = 0
        for r in results {
            for side in [Side.before, .after] {
                guard let image = r.touched.image(side) else {
                    #expect(r.model(side) == nil)
                    continue
                }
                let m = try #require(r.model(side), "\(r.touched.name) \(side)")
                sides += 1
                errors += m.errorCount
                let expected = TokenCallScanner.calls(in: image.allLines).map { "\($0.name)@\($0.line)" }.sorted()
                let actual = m.calls.map { "\($0.callee)@\($0.line)" }.sorted()
                #expect(actual == expected, "\(r.touched.name) \(side): \(m.parseDiagnostics)")
            }
        }
        print("extracted \(sides) function sides in \(String(format: "%.1f", elapsed * 1000)) ms, \(errors) parse errors")
    }

    @Test func notCAtAll() throws {
        let prose = Seeds.segment(from: 10, [
            "Hi Andrew,", "", "this doesn't look right to me: the lock {is} never (released.", "/* unterminated",
            "#if something", "Thanks, and don't forget \"quotes", "-- ", "}}}} ))) else case default: break;",
        ])
        var bytes: [String] = []
        var state: UInt64 = 0x9E3779B97F4A7C15
        for _ in 0..<40 {
            var s = ""
            for _ in 0..<60 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                s.unicodeScalars.append(Unicode.Scalar(UInt8(truncatingIfNeeded: state >> 33) % 95 + 32))
            }
            bytes.append(s)
        }
        let random = Seeds.segment(from: 1, bytes)
        let functions = [
            TouchedFunction(name: "prose", file: "a.c", oldFile: "a.c",
                            before: FunctionImage(segments: [prose], startsAtDefinition: false, endsAtClosingBrace: false),
                            after: FunctionImage(segments: [prose, prose], startsAtDefinition: true, endsAtClosingBrace: true)),
            TouchedFunction(name: "random", file: "b.c", oldFile: nil, before: nil,
                            after: FunctionImage(segments: [random], startsAtDefinition: false, endsAtClosingBrace: false)),
            TouchedFunction(name: "empty", file: "c.c", oldFile: nil, before: nil,
                            after: FunctionImage(segments: [], startsAtDefinition: false, endsAtClosingBrace: false)),
            try SeedFunctions.tryToUnuse(),
        ]
        let results = extractor.extract(functions)
        #expect(results.count == 4)
        #expect(results[0].before?.parseDiagnostics.isEmpty == false)
        #expect(results[0].after?.parseDiagnostics.isEmpty == false)
        #expect(results[1].after?.parseDiagnostics.isEmpty == false)
        #expect(results[2].after?.parseDiagnostics.isEmpty == false)
        #expect(results[2].after?.body == .block([]))
        // A good function batched with garbage still parses cleanly.
        #expect(results[3].after?.calls("down").map(\.line) == [319])
        #expect(results[3].after?.errorCount == 0)
    }

    @Test func syntheticOpenersForPartialSegments() throws {
        func partial(_ segments: [Segment]) -> TouchedFunction {
            TouchedFunction(name: "f", file: "mm/x.c", oldFile: "mm/x.c", before: nil,
                            after: FunctionImage(segments: segments, startsAtDefinition: false, endsAtClosingBrace: false))
        }
        let functions = [
            // Inside a loop whose header is hidden: `for (;;) {` opener.
            partial([Seeds.segment(from: 20, ["\t\tif (!page)", "\t\t\tbreak;", "\t}", "\tspin_unlock(&mm->page_table_lock);"])]),
            // Inside the then-branch: `if (1) {` opener.
            partial([Seeds.segment(from: 40, ["\t\tfoo(mm);", "\t} else {", "\t\tbar(mm);", "\t}"])]),
            // Inside a switch: `switch (0) {` opener; goto to a label that is not visible.
            partial([Seeds.segment(from: 60, ["\tcase FOO_BAR:", "\t\tx = get_it(mm);", "\t\tif (x < 0)", "\t\t\tgoto out_unlock;",
                                              "\t\tbreak;", "\t}", "\treturn x;"])]),
            // Two segments, the second deeper than the first ended.
            partial([Seeds.segment(from: 80, ["\tdown_write(&mm->mmap_sem);", "\tvma = find_vma(mm, addr);"]),
                     Seeds.segment(from: 90, ["\t\t\tup_write(&mm->mmap_sem);", "\t\t\treturn -EINTR;", "\t\t}", "\t}"])]),
        ]
        let models = extractor.extract(functions).compactMap(\.after)
        #expect(models.count == 4)
        for m in models { #expect(m.errorCount == 0, "\(m.parseDiagnostics)") }
        // 1: the loop with a hidden header holds the break; the unlock follows the loop.
        let top0: [Statement] = { if case .block(let s) = models[0].body { return s }; return [] }()
        // The hidden lines (gap) lie inside the loop, before the visible part.
        guard case .loop(let loop)? = top0.first else { Issue.record("no loop: \(top0)"); return }
        #expect(loop.condition?.text == "")
        if case .block(let items) = loop.body { #expect(items.first == .gap(line: 19)) }
        #expect(loop.body.flattened.contains(.breakStatement(line: 21)))
        #expect(models[0].calls.map(\.callee) == ["spin_unlock"])
        if case .expression(let e)? = top0.last { #expect(e.calls.first?.line == 23) } else { Issue.record("\(top0)") }
        // 2: if with hidden condition; both branches kept.
        let ifs = models[1].statements.compactMap { s -> (Statement, Statement?)? in
            if case .ifElse(let c, let t, let o) = s, c.text.isEmpty { return (t, o) }; return nil
        }
        #expect(ifs.first?.0.allCalls.map(\.callee) == ["foo"])
        #expect(ifs.first?.1?.allCalls.map(\.callee) == ["bar"])
        // 3: switch with hidden condition, case label, goto, return.
        #expect(models[2].statements.contains(.caseLabel(line: 60)))
        #expect(models[2].statements.contains(.goto(label: "out_unlock", line: 63)))
        #expect(models[2].statements.contains(.returnStatement(value: MMCore.Expression(text: "x", line: 66), line: 66)))
        #expect(models[2].calls("get_it").first?.resultUse == .assigned(to: "x"))
        #expect(!models[2].statements.contains { if case .label = $0 { return true }; return false })
        // 4: gap between the segments, calls at their lines.
        #expect(models[3].statements.contains(.gap(line: 82)))
        #expect(models[3].calls.map { "\($0.callee)@\($0.line)" } == ["down_write@80", "find_vma@81", "up_write@90"])
    }

    @Test func hugeFunction() throws {
        var lines = ["int huge(struct mm_struct *mm)", "{", "\tint ret = 0;"]
        for i in 0..<2500 {
            lines.append("\tdown_read(&mm->mmap_sem);")
            lines.append("\tif (check_\(i % 7)(mm, \(i)) < 0)")
            lines.append("\t\tret = -EINVAL;")
            lines.append("\tup_read(&mm->mmap_sem);")
        }
        lines.append("\treturn ret;")
        lines.append("}")
        let image = FunctionImage(segments: [Seeds.segment(from: 100, lines)], startsAtDefinition: true, endsAtClosingBrace: true)
        let start = Date()
        let m = try model(TouchedFunction(name: "huge", file: "mm/huge.c", oldFile: nil, before: nil, after: image), .after)
        let elapsed = Date().timeIntervalSince(start)
        print("10 005-line function: \(String(format: "%.0f", elapsed * 1000)) ms")
        #expect(m.errorCount == 0)
        #expect(m.calls("down_read").count == 2500)
        #expect(m.calls("up_read").last?.line == 100 + lines.count - 3)
        #expect(m.calls("check_3").first?.resultUse == .tested)
    }
}

@Suite struct TokenCallScannerTests {
    func lines(_ texts: [String]) -> [SourceLine] {
        texts.enumerated().map { SourceLine(number: 50 + $0.offset, text: $0.element, changed: false) }
    }

    @Test func findsCallsNotKeywordsOrDeclarations() {
        let calls = TokenCallScanner.calls(in: lines([
            "static int foo(struct mm_struct *mm)",
            "{",
            "\tif (down_read_trylock(&mm->mmap_sem) && sizeof(x)) /* bar(1) */",
            "\t\terr = ctx->write(v, sizeof(*v), ctx); // baz(2)",
            "\tret = (*vma->vm_ops->checkpoint)(ctx, vma);",
            "\tlist_for_each_entry(pos, &head, list) {",
            "\t\tif (unlikely(f(\"g(\")))",
            "#ifdef X",
            "\t\t\tkept(a);",
            "#else",
            "\t\t\tdropped(b);",
            "#endif",
            "\t}",
            "\tfor_each_task(p)",
            "\t\tunuse(p->mm, get(p));",
            "\treturn (void)put(x), 0;",
            "}",
        ]))
        #expect(calls.map(\.name) == ["down_read_trylock", "ctx->write", "(*vma->vm_ops->checkpoint)", "f", "kept",
                                      "unuse", "get", "put"])
        #expect(calls.map(\.line) == [52, 53, 54, 56, 58, 64, 64, 65])
    }
}
