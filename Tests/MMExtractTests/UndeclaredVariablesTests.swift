import MMCore
import Testing
@testable import MMExtract

/// Variables a hunk uses without showing their declaration are stubbed before the first parse, so
/// that a unit is parsed once instead of once more for what clang reports undeclared.
@Suite struct UndeclaredVariablesTests {
    func partial(_ lines: [String], from first: Int = 100) -> TouchedFunction {
        TouchedFunction(name: "f", file: "mm/memory.c", oldFile: "mm/memory.c", before: nil,
                        after: FunctionImage(segments: [Seeds.segment(from: first, lines)],
                                             startsAtDefinition: false, endsAtClosingBrace: false))
    }

    func predicted(_ f: TouchedFunction) -> [String] {
        let job = Job(id: 0, functionIndex: 0, side: .after, name: f.name, file: f.file, image: f.after!)
        return UnitBuilder.undeclaredVariables(in: UnitBuilder.prepare(job))
    }

    /// The middle of do_anonymous_page(): vmf, vma, ret and page are declared above the hunk.
    let anonymousPage = [
        "\tif (!pte_none(*vmf->pte)) {",
        "\t\tupdate_mmu_tlb(vma, vmf->address, vmf->pte);",
        "\t\tgoto release;",
        "\t}",
        "\tret = check_stable_address_space(vma->vm_mm);",
        "\tif (ret)",
        "\t\tgoto release;",
        "\tinc_mm_counter(vma->vm_mm, MM_ANONPAGES);",
        "\tpage_add_new_anon_rmap(page, vma, vmf->address);",
    ]

    @Test func localsDeclaredAboveTheHunkAreStubbedBeforeTheFirstParse() throws {
        let f = partial(anonymousPage)
        #expect(predicted(f) == ["page", "ret", "vma", "vmf"])
        let extractor = try FunctionExtractor()
        let m = try #require(extractor.extract([f]).first?.after)
        #expect(m.errorCount == 0, "\(m.parseDiagnostics)")
        #expect(extractor.unitParses == 1)
        #expect(m.calls("check_stable_address_space").first?.resultUse == .assigned(to: "ret"))
        #expect(m.statements.contains(.goto(label: "release", line: 102)))
    }

    @Test func declaredNamesTypesCallsAndMembersAreNotPredicted() throws {
        let f = partial([
            "\tint ret;",
            "\tstruct page *page = NULL;",
            "\tunsigned long flags, nr = 0, *counts;",
            "\tvoid (*cb)(struct page *);",
            "\tenum { first_pass, second_pass };",
            "\tisolate_mode mode = first_pass;",
            "\tcompound_t *head = (compound_t *)page;",
            "\tspin_lock_irqsave(&zone->lock, flags);",
            "\tret = isolate(zone, page, nr, counts, cb, mode, head, second_pass);",
            "\ttotal = total * factor;",
            "\tspin_unlock_irqrestore(&zone->lock, flags);",
        ])
        // Only zone, total and factor are used and never declared; isolate_mode is a type.
        #expect(predicted(f) == ["factor", "total", "zone"])
        let extractor = try FunctionExtractor()
        let m = try #require(extractor.extract([f]).first?.after)
        // A stub for a name the hunk declares would be a redefinition in the wrapper's scope.
        #expect(!m.parseDiagnostics.contains { $0.contains("redefinition") }, "\(m.parseDiagnostics)")
        #expect(m.calls("spin_lock_irqsave").first?.arguments == ["&zone->lock", "flags"])
        #expect(m.calls("isolate").first?.resultUse == .assigned(to: "ret"))
    }

    @Test func nameClangDeclaresItselfIsLeftAlone() {
        let f = partial(["\tpr_warn(\"%s: no memory\\n\", __func__);", "\treturn err;"])
        #expect(predicted(f) == ["err"])
    }
}
