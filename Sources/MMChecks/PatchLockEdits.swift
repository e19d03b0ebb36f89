import MMAnalysis
import MMCore

/// A lock call that a patch adds just before an exit it leaves unchanged, for a lock neither image
/// shows being taken or released anywhere else:
///
///     	trialcs = alloc_trial_cpuset(cs);
///     -	if (!trialcs)
///     +	if (!trialcs) {
///     +		cgroup_unlock();
///     		return -ENOMEM;
///     +	}
///
/// The author states that the lock is held at that exit (an added release) or that the caller
/// expects it held there (an added acquire: the function dropped its caller's lock earlier). The
/// pre-image left through the same exit without that call, so it leaked the lock, or returned
/// without the lock its caller will release. Nothing else in the images can tell, because the lock
/// is taken and dropped in code the patch does not show.
struct AddedLockCallAtExit {
    /// The added lock call, as the post-image resolves it.
    var event: LockEvent
    /// The exit in the pre-image (old file).
    var exitLine: Int
    /// `break;` leaves a loop; the others leave the function.
    var leavesLoop: Bool
    /// The pre-image line of an acquire of the same lock that the patch replaced with the added
    /// release (`-mutex_lock(&dev->i2c_lock);` / `+mutex_unlock(&dev->i2c_lock);`): the old code
    /// took the lock again where it already held it.
    var replacedAcquireLine: Int?
}

/// A release the patch replaces with the release of the same lock for the other side of a
/// reader-writer lock (`-i_mmap_unlock_write(mapping)` / `+i_mmap_unlock_read(mapping)`): the
/// author says the lock is held in the other mode there, so the old release did not match it.
struct ReplacedReleaseMode {
    /// The old release, in the pre-image.
    var old: LockEvent
    /// The release that replaces it, in the post-image.
    var new: LockEvent
}

enum PatchLockEdits {
    /// The added lock calls before unchanged exits, for the pre-image function of `context`.
    static func addedBeforeUnchangedExits(_ context: FunctionContext) -> [AddedLockCallAtExit] {
        let before = context.model
        guard before.side == .before, let patch = context.patch.patch else { return [] }
        let resolver = LockEventResolver(facts: context.facts)
        let beforeEvents = before.body.allCalls.compactMap { resolver.event(for: $0) }
        var result: [AddedLockCallAtExit] = []
        for file in patch.files where file.oldPath == before.file || file.newPath == before.file {
            let newPath = file.newPath ?? before.file
            for hunk in file.hunks {
                for (index, line) in hunk.lines.enumerated() where line.kind == .context {
                    guard let oldLine = line.oldLine, before.sourceLines[oldLine] != nil,
                          let leavesLoop = exitLeavesLoop(line.text) else { continue }
                    // The post-image of the same function: the one that shows the exit's new line
                    // (the hunk may name no function, or a label).
                    guard let (added, removedLines) = lastAddedCodeLine(before: index, in: hunk),
                          let newLine = added.newLine, let exitNewLine = line.newLine,
                          let after = context.patch.models.first(where: {
                              $0.side == .after && $0.file == newPath && $0.sourceLines[exitNewLine] != nil
                                  && $0.sourceLines[newLine] != nil })
                    else { continue }
                    let afterEvents = after.body.allCalls.compactMap { resolver.event(for: $0) }
                    guard let event = afterEvents.first(where: { $0.call.line == newLine }) else { continue }
                    // The pre-image must show nothing of the lock, except an acquire this run of
                    // the patch replaces with the added release.
                    let beforeOfLock = beforeEvents.filter { $0.key == event.key }
                    var replacedAcquireLine: Int?
                    if !beforeOfLock.isEmpty {
                        guard event.action == .release, beforeOfLock.count == 1, let only = beforeOfLock.first,
                              isAcquire(only), removedLines.contains(only.call.line) else { continue }
                        replacedAcquireLine = only.call.line
                    }
                    // A release for a lock the post-image takes in sight (or an acquire beside
                    // another acquire) is the patch's own locking, not a statement about the
                    // pre-image.
                    let others = afterEvents.filter { $0.key == event.key && $0.call.line != newLine }
                    if others.contains(where: { $0.action == event.action || isAcquire($0) }) { continue }
                    if isAcquire(event), leavesLoop { continue }
                    result.append(AddedLockCallAtExit(event: event, exitLine: oldLine, leavesLoop: leavesLoop,
                                                      replacedAcquireLine: replacedAcquireLine))
                }
            }
        }
        return result
    }

    /// The releases of the pre-image function of `context` that the patch swaps for a release of
    /// the same lock in the other mode, each paired in order with its replacement in one run of
    /// changed lines.
    static func releasesWithChangedMode(_ context: FunctionContext) -> [ReplacedReleaseMode] {
        let before = context.model
        guard before.side == .before, let patch = context.patch.patch else { return [] }
        let resolver = LockEventResolver(facts: context.facts)
        func sided(_ event: LockEvent) -> Bool {
            event.action == .release && (event.mode == .read || event.mode == .write)
        }
        let beforeReleases = before.body.allCalls.compactMap { resolver.event(for: $0) }.filter(sided)
        guard !beforeReleases.isEmpty else { return [] }
        var result: [ReplacedReleaseMode] = []
        for file in patch.files where file.oldPath == before.file || file.newPath == before.file {
            let newPath = file.newPath ?? before.file
            for hunk in file.hunks {
                var index = 0
                while index < hunk.lines.count {
                    guard hunk.lines[index].kind != .context else { index += 1; continue }
                    var end = index
                    while end < hunk.lines.count, hunk.lines[end].kind != .context { end += 1 }
                    let run = hunk.lines[index..<end]
                    index = end
                    let removed = run.compactMap { line in
                        line.kind == .removed ? line.oldLine.flatMap { number in
                            beforeReleases.first { $0.call.line == number } } : nil
                    }
                    let addedLines = run.compactMap { $0.kind == .added ? $0.newLine : nil }
                    guard !removed.isEmpty, let firstAdded = addedLines.first,
                          let after = context.patch.models.first(where: {
                              $0.side == .after && $0.file == newPath && $0.sourceLines[firstAdded] != nil })
                    else { continue }
                    let added = after.body.allCalls.compactMap { resolver.event(for: $0) }
                        .filter { sided($0) && addedLines.contains($0.call.line) }
                        .sorted { $0.call.line < $1.call.line }
                    guard removed.count == added.count else { continue }
                    for (old, new) in zip(removed, added) where old.key == new.key && old.mode != new.mode {
                        result.append(ReplacedReleaseMode(old: old, new: new))
                    }
                }
            }
        }
        return result
    }

    static func isAcquire(_ event: LockEvent) -> Bool {
        switch event.action {
        case .acquire, .tryAcquire: return true
        case .release, .downgrade: return false
        }
    }

    /// Whether it leaves a loop (`break;`) or the function (`return …;`); nil for other lines.
    static func exitLeavesLoop(_ text: String) -> Bool? {
        let code = text.trimmingBlanks()
        if code == "break;" { return true }
        if code == "return;" || (code.hasPrefix("return ") || code.hasPrefix("return(")) && code.hasSuffix(";") {
            return false
        }
        return nil
    }

    /// The added line of code right before `index` (removed lines, blank lines, comments and added
    /// lone braces skipped), when it is not also a removed line of the same run (a moved line), and the
    /// pre-image lines that run removes.
    static func lastAddedCodeLine(before index: Int, in hunk: Hunk) -> (DiffLine, removedLines: Set<Int>)? {
        var removed = Set<String>()
        var removedLines = Set<Int>()
        var found: DiffLine?
        var position = index - 1
        while position >= 0 {
            let line = hunk.lines[position]
            let code = line.text.trimmingBlanks()
            // A blank line or a comment left as it was still leaves the call right before the exit.
            if line.kind == .context {
                if isNoise(code) && code != "{" && code != "}" { position -= 1; continue }
                break
            }
            if line.kind == .removed {
                removed.insert(code)
                if let number = line.oldLine { removedLines.insert(number) }
            } else if found == nil, !isNoise(code) {
                found = line
            }
            position -= 1
        }
        guard let found, !removed.contains(found.text.trimmingBlanks()) else { return nil }
        return (found, removedLines)
    }

    static func isNoise(_ code: String) -> Bool {
        code.isEmpty || code == "{" || code == "}" || code.hasPrefix("/*") || code.hasPrefix("*")
            || code.hasPrefix("//")
    }
}
