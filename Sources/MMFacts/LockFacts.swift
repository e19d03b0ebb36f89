// Kernel lock knowledge read from Rules/*.yaml. Swift holds no lock names of its own: everything a
// check knows about a kernel function or lock class comes from these values.

public enum LockAction: String, Sendable, Hashable, CaseIterable {
    case acquire, release, `try`, downgrade
}

public enum LockKind: String, Sendable, Hashable, CaseIterable {
    case spinlock, rwlock, mutex, rwsem, semaphore, bitlock, rcu, preempt, irq, all

    /// Holding it makes the context atomic: sleeping is a bug.
    public var isAtomic: Bool {
        switch self {
        case .spinlock, .rwlock, .rcu, .preempt, .irq: return true
        case .mutex, .rwsem, .semaphore, .bitlock, .all: return false
        }
    }
}

public enum LockMode: String, Sendable, Hashable, CaseIterable {
    case exclusive, read, write
}

/// Where the lock of a primitive call comes from.
public enum LockOperand: Sendable, Hashable {
    /// The N-th argument is the lock (`spin_lock(&x->lock)`) or the object holding it.
    case argument(Int)
    /// The N-th argument is `&ptl`; the lock comes back through it.
    case outArgument(Int)
    /// The return value is the locked object or lock.
    case returnValue
    /// A context without a lock object (rcu_read_lock).
    case none
}

public enum HeldWhen: String, Sendable, Hashable, CaseIterable {
    case zero, nonzero, nonnull
}

public struct LockPrimitive: Sendable, Hashable {
    public var function: String
    public var action: LockAction
    public var operand: LockOperand
    public var member: String?
    public var className: String?
    public var kind: LockKind
    public var mode: LockMode
    public var sleeps: Bool
    public var heldWhen: HeldWhen?
    /// A try primitive that returns 0 when it took the lock and a negative errno when it did not
    /// (mutex_lock_interruptible: -EINTR), so `ret < 0` is as good a test of failure as `ret`.
    public var returnsErrno: Bool = false
    public var nestable: Bool
    public var source: String?
}

public struct LockClass: Sendable, Hashable {
    public var name: String
    /// Member names of this lock, today's first.
    public var members: [String]
    public var baseContains: String?
    /// Global lock variables of this class (`swap_lock`).
    public var variables: [String] = []
    public var description: String
}

/// Classes in their documented order, outermost first, with the comment that documents it.
public struct OrderChain: Sendable, Hashable {
    public var classes: [String]
    public var source: String

    public init(classes: [String], source: String) {
        self.classes = classes
        self.source = source
    }
}

/// What an ordinary call does that matters to locks: sleeps, takes a lock class inside (file I/O
/// takes the inode lock, a user copy may fault and take mmap_lock).
public struct CallEffect: Sendable, Hashable {
    /// An exact function name, or a pattern where `*` matches any text (`ckpt_write_*`, `*->write`).
    public var name: String
    public var isPattern: Bool
    public var sleeps: Bool
    /// The call sleeps when this argument names a sleeping gfp flag.
    public var gfpArgument: Int?
    public var takes: [String]
    public var why: String?
    public var source: String?

    public init(name: String, isPattern: Bool, sleeps: Bool, gfpArgument: Int?, takes: [String], why: String?,
                source: String?) {
        self.name = name
        self.isPattern = isPattern
        self.sleeps = sleeps
        self.gfpArgument = gfpArgument
        self.takes = takes
        self.why = why
        self.source = source
        parts = isPattern ? name.split(separator: "*", omittingEmptySubsequences: false).map(String.init) : [name]
    }

    /// The pattern split at its `*`s, computed once: matching runs for every call of a patch.
    private var parts: [String] = []

    /// Whether a callee text matches a pattern with `*` wildcards.
    public func matches(_ callee: String) -> Bool {
        guard isPattern else { return callee == name }
        guard let first = parts.first, let last = parts.last, callee.utf8.count >= first.utf8.count + (parts.count > 1 ? last.utf8.count : 0),
              callee.hasPrefix(first) else { return false }
        if parts.count == 1 { return callee.utf8.count == first.utf8.count }
        guard callee.hasSuffix(last) else { return false }
        var rest = Substring(callee).dropFirst(first.count).dropLast(last.count)
        for part in parts.dropFirst().dropLast() where !part.isEmpty {
            guard let range = rest.range(of: part) else { return false }
            rest = rest[range.upperBound...]
        }
        return true
    }
}

/// A call through a function pointer whose documented contract releases the lock of one of its
/// arguments: `mapping->a_ops->read_folio(file, folio)` returns with the folio unlocked
/// (Documentation/filesystems/locking.rst). The callee's body is not in the patch, so only the
/// contract says what happens to the lock.
public struct LockOperation: Sendable, Hashable {
    /// `->NAME`: a call through a struct member of that name (`a_ops->read_folio(…)`); otherwise
    /// a function-pointer type: a call of a variable or parameter declared with it
    /// (`writepage_t writepage` called as `(*writepage)(…)`).
    public var called: String
    /// With `->NAME`: only through a pointer declared to this struct (`struct page_state *ps`).
    public var structName: String?
    /// The argument whose lock is released (`.argument(N)`).
    public var operand: LockOperand
    /// The lock is this member of the argument (`PG_locked` of the folio).
    public var member: String?
    public var className: String?
    public var kind: LockKind
    /// Every return has released the lock. False when some returns give it back held (->writepage
    /// returning AOP_WRITEPAGE_ACTIVATE): the path can then only stop following it.
    public var always: Bool
    public var source: String?

    public init(called: String, structName: String?, operand: LockOperand, member: String?, className: String?,
                kind: LockKind, always: Bool, source: String?) {
        self.called = called
        self.structName = structName
        self.operand = operand
        self.member = member
        self.className = className
        self.kind = kind
        self.always = always
        self.source = source
    }

    /// Whether a callee text (`mapping->a_ops->read_folio`, `(*writepage)`, `ps->action`) calls this
    /// operation; `declaredType` gives the declared type of a variable of the calling function.
    public func matches(callee: String, declaredType: (String) -> String?) -> Bool {
        var text = Substring(callee.filter { $0 != " " })
        while text.hasPrefix("("), text.hasSuffix(")") { text = text.dropFirst().dropLast() }
        if text.hasPrefix("*") { text = text.dropFirst() }
        if called.hasPrefix("->") {
            guard text.hasSuffix(called), text.count > called.count else { return false }
            guard let structName else { return true }
            // Only a plain variable's type is known (`ps->action`, not `x->ops->action`).
            let base = String(text.dropLast(called.count))
            guard let type = declaredType(base) else { return false }
            return Self.baseType(type) == structName
        }
        guard let type = declaredType(String(text)) else { return false }
        return Self.baseType(type) == called
    }

    /// `const struct page_state *` → `page_state`, `filler_t *` → `filler_t`.
    static func baseType(_ type: String) -> String {
        type.split(whereSeparator: { $0 == " " || $0 == "*" })
            .filter { $0 != "const" && $0 != "struct" && $0 != "volatile" }
            .joined(separator: " ")
    }
}

/// Allocation flags by name: which allow direct reclaim (sleep) and which never sleep.
public struct GfpFlags: Sendable, Hashable {
    public var sleeping: Set<String>
    public var atomic: Set<String>

    public init(sleeping: Set<String> = [], atomic: Set<String> = []) {
        self.sleeping = sleeping
        self.atomic = atomic
    }

    /// true: sleeps, false: never sleeps, nil: the text names no flag the rules know (a variable).
    public func sleeps(_ argument: String) -> Bool? {
        // Asked for every argument of every call a patch makes: in ASCII (nearly always) the
        // words are read off the bytes, each looked up as it ends, with no Character work.
        if argument.utf8.allSatisfy({ $0 < 0x80 }) {
            var sawAtomic = false
            var sawSleeping = false
            var word: [UInt8] = []
            for byte in argument.utf8 + [0x20] {
                let isWordByte = (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A)
                    || (byte >= 0x30 && byte <= 0x39) || byte == 0x5F
                if isWordByte { word.append(byte); continue }
                if !word.isEmpty {
                    let text = String(decoding: word, as: UTF8.self)
                    if atomic.contains(text) { sawAtomic = true }
                    if sleeping.contains(text) { sawSleeping = true }
                    word.removeAll(keepingCapacity: true)
                }
            }
            return sawAtomic ? false : sawSleeping ? true : nil
        }
        var words = Set<String>()
        var word = ""
        for char in argument + " " {
            if char.isLetter || char.isNumber || char == "_" { word.append(char); continue }
            if !word.isEmpty { words.insert(word) }
            word = ""
        }
        if !words.isDisjoint(with: atomic) { return false }
        if !words.isDisjoint(with: sleeping) { return true }
        return nil
    }
}

public struct KernelFacts: Sendable {
    public var primitives: [String: LockPrimitive]
    public var classes: [LockClass]
    /// Return-value meaning and must-check duty of ordinary kernel functions, by name.
    public var calls: [String: CallFact] {
        didSet { (noReturnCalls, dereferencingCalls) = Self.derive(calls) }
    }
    /// Functions that never return (`returns: never`): a path that calls one ends there. Derived
    /// from `calls` once, not per function reviewed.
    public private(set) var noReturnCalls: Set<String> = []
    /// Calls that dereference some of their arguments, by name (`dereferences` in Rules/).
    public private(set) var dereferencingCalls: [String: Set<Int>] = [:]
    /// Reference and memory pairs, in file order.
    public var pairs: [ResourcePair] {
        didSet { (pairsByAcquire, pairsByRelease) = Self.index(pairs) }
    }
    /// Indices into `pairs` (ascending) by acquiring and by releasing function: checks ask for
    /// every call of every function, and a name lookup replaces a comparison with every pair.
    public private(set) var pairsByAcquire: [String: [Int]] = [:]
    public private(set) var pairsByRelease: [String: [Int]] = [:]
    /// Allocation functions and which arguments give the size, by name.
    public var allocators: [String: AllocatorFact]
    /// The documented lock order (order.yaml).
    public var order: [OrderChain]
    /// Call effects by exact name, and the pattern entries in file order (effects.yaml).
    public var effects: [String: CallEffect]
    public var effectPatterns: [CallEffect]
    public var gfp: GfpFlags
    /// Calls through function pointers that release an argument's lock (locks.yaml `operations`).
    public var operations: [LockOperation]

    public init(primitives: [String: LockPrimitive], classes: [LockClass], calls: [String: CallFact] = [:],
                pairs: [ResourcePair] = [], allocators: [String: AllocatorFact] = [:], order: [OrderChain] = [],
                effects: [String: CallEffect] = [:], effectPatterns: [CallEffect] = [], gfp: GfpFlags = GfpFlags(),
                operations: [LockOperation] = []) {
        self.operations = operations
        self.primitives = primitives
        self.classes = classes
        self.calls = calls
        self.pairs = pairs
        self.allocators = allocators
        self.order = order
        self.effects = effects
        self.effectPatterns = effectPatterns
        self.gfp = gfp
        (noReturnCalls, dereferencingCalls) = Self.derive(calls)
        (pairsByAcquire, pairsByRelease) = Self.index(pairs)
    }

    private static func index(_ pairs: [ResourcePair]) -> ([String: [Int]], [String: [Int]]) {
        var byAcquire: [String: [Int]] = [:]
        var byRelease: [String: [Int]] = [:]
        for (index, pair) in pairs.enumerated() {
            byAcquire[pair.acquire, default: []].append(index)
            // A pair naming one release twice is still one pair for that release.
            for release in Set(pair.releases) { byRelease[release, default: []].append(index) }
        }
        return (byAcquire, byRelease)
    }

    private static func derive(_ calls: [String: CallFact]) -> (Set<String>, [String: Set<Int>]) {
        var noReturn = Set<String>()
        var dereferencing: [String: Set<Int>] = [:]
        for call in calls.values {
            if call.returns == .never { noReturn.insert(call.function) }
            if !call.dereferences.isEmpty { dereferencing[call.function] = call.dereferences }
        }
        return (noReturn, dereferencing)
    }

    /// The effect entry of a callee (`vfs_write`, `ctx->write`), exact names first.
    public func effect(forCallee callee: String) -> CallEffect? {
        if let exact = effects[callee] { return exact }
        return effectPatterns.first { $0.matches(callee) }
    }

    /// Whether a call may sleep: its effect entry, decided by its gfp argument when it has one.
    public func callSleeps(callee: String, arguments: [String]) -> Bool {
        guard let effect = effect(forCallee: callee) else {
            // Any function handed allocation flags that allow direct reclaim (`idr_alloc(…,
            // GFP_KERNEL)`, `xa_store(…, GFP_KERNEL)`) may sleep in the allocator, whatever it is.
            // Only flags handed directly count: `first_zones_zonelist(node_zonelist(n, GFP_KERNEL), …)`
            // passes a zonelist, and the inner call is judged on its own.
            return arguments.contains { !$0.utf8.contains(UInt8(ascii: "(")) && gfp.sleeps($0) == true }
        }
        if effect.sleeps { return true }
        guard let index = effect.gfpArgument, index < arguments.count else { return false }
        return gfp.sleeps(arguments[index]) ?? false
    }

    /// The documented chain that puts `outer` before `inner`, if any.
    public func documentedOrder(outer: String, inner: String) -> OrderChain? {
        order.first { chain in
            guard let a = chain.classes.firstIndex(of: outer), let b = chain.classes.firstIndex(of: inner) else { return false }
            return a < b
        }
    }

    public func call(named name: String) -> CallFact? { calls[name] }

    /// The documented operation a call through a pointer performs, if any.
    public func operation(forCallee callee: String, declaredType: (String) -> String?) -> LockOperation? {
        guard !operations.isEmpty else { return nil }
        return operations.first { $0.matches(callee: callee, declaredType: declaredType) }
    }


    public func primitive(named name: String) -> LockPrimitive? { primitives[name] }

    public func lockClass(named name: String) -> LockClass? { classes.first { $0.name == name } }

    /// The class of a lock expression such as `mm->mmap_sem` or `anon_vma->lock`, from its last
    /// member name (and the text before it for ambiguous members).
    public func lockClass(forExpression expression: String) -> LockClass? {
        guard let (base, member) = splitLastMember(expression) else {
            let name = expression.hasPrefix("&") ? String(expression.dropFirst()) : expression
            return classes.first { $0.variables.contains(name) }
        }
        return classes.first { cls in
            guard cls.members.contains(member) else { return false }
            if let needle = cls.baseContains { return base.contains(needle) }
            return true
        }
    }

    /// The class a name in prose or a comment means: a class name, one of its member names
    /// (`mmap_sem`), or one of its variables; nil for anything else (`mm_sem`).
    public func lockClass(forName name: String) -> LockClass? {
        classes.first { $0.name == name || ($0.baseContains == nil && $0.members.contains(name)) || $0.variables.contains(name) }
    }

    /// The expression with an old member name replaced by today's (`mm->mmap_sem` → `mm->mmap_lock`),
    /// so that the old and the new spelling of one lock compare equal.
    public func canonicalLockExpression(_ expression: String) -> String {
        guard let cls = lockClass(forExpression: expression), let today = cls.members.first,
              let (base, member) = splitLastMember(expression), member != today else { return expression }
        let separator = expression.hasSuffix("->" + member) ? "->" : "."
        return base + separator + today
    }
}

/// Splits `a->b.c` into (`a->b`, `c`); nil when the expression has no member access.
func splitLastMember(_ expression: String) -> (String, String)? {
    let chars = Array(expression)
    var index = chars.count - 1
    while index >= 0, chars[index].isLetter || chars[index].isNumber || chars[index] == "_" { index -= 1 }
    guard index >= 0, index < chars.count - 1 else { return nil }
    let member = String(chars[(index + 1)...])
    if chars[index] == ".", index >= 1 {
        return (String(chars[..<index]), member)
    }
    if chars[index] == ">", index >= 1, chars[index - 1] == "-" {
        return (String(chars[..<(index - 1)]), member)
    }
    return nil
}

/// What a kernel function's return value means.
public enum ReturnKind: String, Sendable, Hashable, CaseIterable {
    /// A pointer that is NULL on failure (kmalloc, find_vma, get_task_mm).
    case nullOnFailure = "null"
    /// A pointer that is an ERR_PTR on failure (d_path, filp_open).
    case errPointer = "err_ptr"
    /// An int that is a negative errno on failure, 0 or a count on success.
    case errno
    /// A bool or int that is true/non-zero on success.
    case success
    /// The call does not return (panic, BUG, do_exit): the path ends there.
    case never
}

/// Effects and duties of a kernel function that is not a lock primitive.
public struct CallFact: Sendable, Hashable {
    public var function: String
    public var returns: ReturnKind?
    /// Ignoring the result is a bug (`__must_check`, writes, user copies).
    public var mustCheck: Bool
    /// Lock classes the call may release on its caller's behalf (handle_mm_fault() drops
    /// mmap_lock when it returns VM_FAULT_RETRY): after it, the caller's path no longer knows.
    public var mayDrop: [String]
    /// The call puts the object of its first argument into a collection (`list_add(&page->lru,
    /// list)`, `xa_store`): whoever walks the collection later owns it, and any lock it holds.
    public var storesObject: Bool
    /// Arguments (0-based) the call reads or writes through: `memset(p, …)`, `strlen(s)`. Handing
    /// it a NULL pointer oopses as surely as `p->x`.
    public var dereferences: Set<Int>
    public var source: String?

    public init(function: String, returns: ReturnKind?, mustCheck: Bool, mayDrop: [String] = [],
                storesObject: Bool = false, dereferences: Set<Int> = [], source: String?) {
        self.function = function
        self.returns = returns
        self.mustCheck = mustCheck
        self.mayDrop = mayDrop
        self.storesObject = storesObject
        self.dereferences = dereferences
        self.source = source
    }
}

/// Where the object of a reference or allocation pair is.
public enum PairObject: Sendable, Hashable {
    case argument(Int)
    case returnValue
}

/// Take and drop functions of one kind of reference or memory (get_file/fput, kmalloc/kfree).
public struct ResourcePair: Sendable, Hashable {
    public var acquire: String
    public var acquireObject: PairObject
    public var releases: [String]
    public var releaseObject: PairObject
    public var source: String?

    public init(acquire: String, acquireObject: PairObject, releases: [String], releaseObject: PairObject, source: String?) {
        self.acquire = acquire
        self.acquireObject = acquireObject
        self.releases = releases
        self.releaseObject = releaseObject
        self.source = source
    }
}

/// An allocation function whose size arguments multiply into the number of bytes it returns
/// (`kcalloc(n, size, gfp)`: arguments 0 and 1; `kmalloc(size, gfp)`: argument 0).
public struct AllocatorFact: Sendable, Hashable {
    public var function: String
    public var sizeArguments: [Int]
    public var source: String?

    public init(function: String, sizeArguments: [Int], source: String?) {
        self.function = function
        self.sizeArguments = sizeArguments
        self.source = source
    }
}
