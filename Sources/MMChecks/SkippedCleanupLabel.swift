import MMAnalysis
import MMCore

/// An error return that skips the exit label the function's other exits take, when that label is
/// named after an object the function is using and lies in code the patch does not show:
///
///     	if (down_write_killable(&mm->mmap_sem)) {
///     		put_task_struct(task);
///     		return -EINTR;          <- skips what out_mm drops
///     	}
///     	…
///     	up_write(&mm->mmap_sem);
///     	goto out_mm;
///
/// Kernel exit labels are named after what they undo (`out_mm`, `err_put_file`, `free_buf`), so a
/// return that bypasses `out_<name>` after `<name>` is in use leaks whatever the label drops,
/// even though neither the acquire nor the release is in sight.
struct SkippedCleanupLabel {
    var returnLine: Int
    var label: String
    var object: String
    var firstUseLine: Int

    /// Words that start an exit label and say nothing about what it undoes.
    static let labelVerbs: Set<String> = [
        "out", "err", "error", "fail", "failed", "bad", "exit", "cleanup", "free", "put", "release", "drop",
        "undo", "unwind", "done", "end",
    ]

    static func find(in model: FunctionModel) -> [SkippedCleanupLabel] {
        var visibleLabels = Set<String>()
        var gotos: [(label: String, line: Int)] = []
        var returns: [(value: Expression?, line: Int)] = []
        model.body.visitStatements { statement in
            switch statement {
            case .label(let name, _): visibleLabels.insert(name)
            case .goto(let label, let line): gotos.append((label, line))
            case .returnStatement(let value, let line): returns.append((value, line))
            default: break
            }
        }
        // Where each object is first read through (`mm->…`): from then on it is in use, and not NULL.
        var firstDereference: [String: Int] = [:]
        model.body.visitExpressions { expression in
            for pointer in expression.dereferences where firstDereference[pointer] == nil {
                firstDereference[pointer] = expression.line
            }
        }
        var found: [SkippedCleanupLabel] = []
        var seenLabels = Set<String>()
        for jump in gotos where !visibleLabels.contains(jump.label) && seenLabels.insert(jump.label).inserted {
            guard let object = namedObject(jump.label, dereferenced: firstDereference),
                  let used = firstDereference[object] else { continue }
            for exit in returns where exit.line > used && isErrorReturn(exit.value) {
                if let value = exit.value, ResultFlow.mentions(ConditionFacts.atom(value.text), object) { continue }
                found.append(SkippedCleanupLabel(returnLine: exit.line, label: jump.label, object: object,
                                                 firstUseLine: used))
            }
        }
        return found
    }

    /// The object an exit label names: `mm` for `out_mm`, `exe_file` for `err_put_exe_file`, when
    /// the function reads through a pointer of that name.
    static func namedObject(_ label: String, dereferenced: [String: Int]) -> String? {
        let words = label.split(separator: "_").map(String.init)
        guard words.count >= 2, labelVerbs.contains(words[0]) else { return nil }
        for start in 1..<words.count {
            let name = words[start...].joined(separator: "_")
            if dereferenced[name] != nil { return name }
        }
        return nil
    }

    /// `return -EINTR;`, `return ERR_PTR(-ENOMEM);`: a failure the caller is told about.
    static func isErrorReturn(_ value: Expression?) -> Bool {
        guard let value else { return false }
        let text = ConditionFacts.atom(value.text)
        if text.hasPrefix("ERR_PTR(-") { return true }
        guard text.hasPrefix("-E"), text.count > 2 else { return false }
        return text.dropFirst().allSatisfy { $0.isUppercase || $0.isNumber || $0 == "_" }
    }
}
