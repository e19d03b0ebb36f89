import MMAnalysis
import Testing

@Suite struct ConditionFactsTests {
    @Test func simpleConditions() {
        #expect(ConditionFacts.facts(condition: "anon_vma", outcome: false) == [Fact(atom: "anon_vma", value: false)])
        #expect(ConditionFacts.facts(condition: "!vma", outcome: true) == [Fact(atom: "vma", value: false)])
        // `ret < 0`: non-zero and negative; `ret >= 0` only says it is not negative.
        #expect(ConditionFacts.facts(condition: "ret < 0", outcome: true)
                == [Fact(atom: "ret", value: true), Fact(atom: "ret<0", value: true)])
        #expect(ConditionFacts.facts(condition: "ret < 0", outcome: false) == [Fact(atom: "ret<0", value: false)])
        #expect(ConditionFacts.facts(condition: "ret >= 0", outcome: true) == [Fact(atom: "ret<0", value: false)])
        #expect(ConditionFacts.facts(condition: "ret >= 0", outcome: false)
                == [Fact(atom: "ret", value: true), Fact(atom: "ret<0", value: true)])
        #expect(ConditionFacts.facts(condition: "next == NULL", outcome: true) == [Fact(atom: "next", value: false)])
        #expect(ConditionFacts.facts(condition: "pg != NULL", outcome: true) == [Fact(atom: "pg", value: true)])
        #expect(ConditionFacts.facts(condition: "!mmap_read_trylock(mm)", outcome: true)
                == [Fact(atom: "mmap_read_trylock(mm)", value: false)])
    }

    @Test func compoundConditionsOnlyWhereCertain() {
        let both = ConditionFacts.facts(condition: "vma->anon_vma && (insert || importer)", outcome: true)
        #expect(both.contains(Fact(atom: "vma->anon_vma", value: true)))
        #expect(ConditionFacts.facts(condition: "a && b", outcome: false) == [])
        #expect(ConditionFacts.facts(condition: "a || b", outcome: false)
                == [Fact(atom: "a", value: false), Fact(atom: "b", value: false)])
        // A comparison of two values says nothing about either; it is a fact about itself, the same
        // whichever way round it is written.
        #expect(ConditionFacts.facts(condition: "ret != h->map_count", outcome: true)
                == [Fact(atom: "h->map_count==ret", value: false)])
        #expect(ConditionFacts.facts(condition: "h->map_count == ret", outcome: true)
                == [Fact(atom: "h->map_count==ret", value: true)])
        #expect(ConditionFacts.facts(condition: "ret < h->map_count", outcome: true) == [])
        // A killable or interruptible lock tested directly: `< 0` is its failure.
        #expect(ConditionFacts.facts(condition: "mutex_lock_interruptible(&d->i2c_mutex) < 0", outcome: true)
                == [Fact(atom: "mutex_lock_interruptible(&d->i2c_mutex)", value: true),
                    Fact(atom: "mutex_lock_interruptible(&d->i2c_mutex)<0", value: true)])
        #expect(ConditionFacts.facts(condition: "a <= 0", outcome: true) == [])
    }

    @Test func lockExpressionsDereferenceTheirBases() {
        #expect(ConditionFacts.dereferencedBases(of: "anon_vma->lock") == ["anon_vma"])
        #expect(ConditionFacts.dereferencedBases(of: "*ptl") == ["ptl"])
        #expect(ConditionFacts.dereferencedBases(of: "vma->vm_mm->mmap_lock") == ["vma", "vma->vm_mm"])
    }

    @Test func mentionsWholeIdentifiersOnly() {
        #expect(ConditionFacts.mentions("ret", variable: "ret"))
        #expect(ConditionFacts.mentions("!ret&&x", variable: "ret"))
        #expect(!ConditionFacts.mentions("retval", variable: "ret"))
        #expect(!ConditionFacts.mentions("h->ret", variable: "ret"))
    }
}
