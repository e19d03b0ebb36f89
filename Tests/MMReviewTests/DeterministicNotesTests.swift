import MMCore
import MMReview
import Testing

/// Paths that reach one statement by different ways carry different histories; which one a finding
/// quotes must not depend on hash order, which Swift seeds afresh in every process. A scan of the
/// cgroups archive gave `is released here first` on line 924 in one run and 1021 in the next.
@Suite struct DeterministicNotesTests {
    static let source = """
        void drop(spinlock_t *lock, int fast)
        {
        	spin_lock(lock);
        	if (fast) {
        		spin_unlock(lock);
        	} else {
        		wait_a_while();
        		spin_unlock(lock);
        	}
        	spin_unlock(lock);
        }
        """

    @Test func aDoubleReleaseQuotesTheEarliestFirstRelease() throws {
        let result = try makeReviewer().review([ReviewInput(name: "example.diff", bytes: newFilePatch(source: Self.source))])
        let doubles = result.findings.filter { $0.rule == "unbalanced-unlock" }
        #expect(doubles.map(\.line) == [10])
        #expect(doubles.first?.notes.map(\.line) == [5])
    }

    /// Two paths take the lock at different lines and meet at an exit that keeps it (as in
    /// mm/memory.c apply_to_pte_range(), pte_alloc_map_lock() or pte_offset_map_lock()).
    static let twoTakers = """
        int take(struct foo *f, int create)
        {
        	if (create)
        		spin_lock(&f->lock);
        	else
        		spin_lock(&f->lock);
        	if (f->busy)
        		return -EBUSY;
        	spin_unlock(&f->lock);
        	return 0;
        }
        """

    /// The lines of the "taken here" notes in each of six separate runs (hash seeds differ per
    /// process), after checking each run reported `finding`.
    func takenHereLines(_ source: String, finding: String) throws -> Set<[Int]> {
        let patch = newFilePatch(source: source)
        var notes: Set<[Int]> = []
        for _ in 0..<6 {
            let run = try runMMReview(["--format", "gcc", "-"], stdin: patch)
            #expect(run.status == 1)
            #expect(run.stdout.contains(finding), "\(run.stdout)")
            notes.insert(run.stdout.split(separator: "\n").filter { $0.contains("is taken here") }
                .compactMap { Int($0.split(separator: ":")[1]) })
        }
        return notes
    }

    @Test func aLeakQuotesTheEarliestTakingLineInEveryRun() throws {
        #expect(try takenHereLines(Self.twoTakers, finding: "example.c:8:1: error: take() returns here with 'f->lock' still held")
                == [[4]])
    }

    /// The same for a call that sleeps under a spinlock two paths took at different lines.
    static let sleepUnderTwoTakers = """
        void fill(struct foo *f, int a)
        {
        	if (a)
        		spin_lock(&f->lock);
        	else
        		spin_lock(&f->lock);
        	f->buf = kmalloc(16, GFP_KERNEL);
        	spin_unlock(&f->lock);
        }
        """

    @Test func aSleepInAtomicQuotesTheEarliestTakingLineInEveryRun() throws {
        #expect(try takenHereLines(Self.sleepUnderTwoTakers,
                                   finding: "example.c:7:11: error: kmalloc(GFP_KERNEL) may sleep while 'f->lock' (a spinlock) is held")
                == [[4]])
    }

    /// A pointer set from one NULL-returning call at two lines that both reach a dereference (as in
    /// fs/namespace.c copy_mnt_ns()): one finding with a note at each line. There were two, in an
    /// order that changed from run to run.
    static let setTwice = """
        static struct mount *next_mnt(struct mount *p, struct mount *root)
        {
        	if (p == root)
        		return NULL;
        	return p->next;
        }

        struct mount *walk(struct mount *p, struct mount *old)
        {
        	p = next_mnt(p, old);
        	while (p->mnt_root != old->mnt_root)
        		p = next_mnt(p, old);
        	return p;
        }
        """

    @Test func aPointerSetTwiceGivesOneFindingWithBothNotes() throws {
        let patch = newFilePatch(source: Self.setTwice)
        var outputs: Set<String> = []
        for _ in 0..<6 {
            let run = try runMMReview(["--format", "gcc", "-"], stdin: patch)
            #expect(run.status == 1, "\(run.stdout)")
            outputs.insert(run.stdout)
        }
        #expect(outputs == ["""
            mm/example.c:11:1: warning: can 'p' be NULL here? next_mnt() returns NULL on some paths and 'p' is dereferenced without a check [missing-null-check]
            mm/example.c:10:1: note: 'p' is set from next_mnt() here
            mm/example.c:12:1: note: 'p' is set from next_mnt() here

            """])
    }

    @Test func separateRunsPrintTheSameReview() throws {
        let patch = newFilePatch(source: Self.source)
        var outputs: Set<String> = []
        for _ in 0..<6 {
            let run = try runMMReview(["--format", "json", "-"], stdin: patch)
            #expect(run.status == 1)
            outputs.insert(run.stdout)
        }
        #expect(outputs.count == 1)
    }
}
