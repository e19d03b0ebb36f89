import MMCore
import MMReview
import Testing

/// Leaks and NULL dereferences that only the patch itself can show: a release the patch adds where
/// the old code went on out of sight, an error return that skips an exit label named after the
/// object in use, memory kept in a member of a structure the function frees, and a pointer read
/// through before the function's own NULL test of it.
@Suite struct LeavesSightTests {
    func review(_ patch: String, rule: String) throws -> [String] {
        let result = try makeReviewer().review([ReviewInput(name: "p.diff", bytes: Array(patch.utf8))])
        #expect(result.errors.isEmpty)
        return result.findings.filter { $0.rule == rule }.map { "\($0.status.rawValue) \($0.line) \($0.code)" }
    }

    /// The patch moves kfree(name) below the block, onto the path where the second allocation
    /// failed: before it, that path went on past the hunk still owning `name`.
    @Test func aReleaseAddedWhereTheOldPathLeftSightStillOwning() throws {
        let patch = """
            --- a/mm/example.c
            +++ b/mm/example.c
            @@ -40,9 +40,9 @@ struct cache *cache_create(const char *label)
             \t\t\tlist_add(&c->list, &caches);
             \t\t\treturn c;
             \t\t}
            -\t\tkfree(name);
             \t\tkfree(c);
             \t}
            +\tkfree(name);
             out:
             \tmutex_unlock(&cache_mutex);
             
            """
        #expect(try review(patch, rule: "resource-leak") == ["fixed 47 mutex_unlock(&cache_mutex);"])
    }

    /// An error path redirected from a label out of sight to one that drops the reference.
    @Test func aGotoRedirectedToALabelThatDropsTheReference() throws {
        let patch = """
            --- a/mm/example.c
            +++ b/mm/example.c
            @@ -10,7 +10,6 @@ static int fill(struct ctx *ctx, struct page *page)
             \tif (charge(ctx, page)) {
             \t\tret = -ENOMEM;
            -\t\tunlock_page(page);
            -\t\tgoto out;
            +\t\tgoto out_page;
             \t}
             
             \tret = copy(ctx, page);
            @@ -30,6 +29,7 @@ out:
             out_unmap:
             \tunmap(ctx);
            +out_page:
             \tunlock_page(page);
             \tput_page(page);
             \treturn ret;
             }
            """
        #expect(try review(patch, rule: "resource-leak") == ["fixed 13 goto out;"])
    }

    /// A new error return before `goto out_buf`, in a function whose acquire and release of `buf`
    /// are both out of sight.
    @Test func anErrorReturnThatSkipsTheLabelNamedAfterTheObjectInUse() throws {
        let patch = """
            --- a/mm/example.c
            +++ b/mm/example.c
            @@ -20,7 +20,10 @@ static ssize_t store(struct file *file, const char *ubuf, size_t n)
             \t\t};
             
             \t\tif (mode == MODE_RESET) {
            -\t\t\tmutex_lock(&buf->lock);
            +\t\t\tif (mutex_lock_killable(&buf->lock)) {
            +\t\t\t\tput_ctx(ctx);
            +\t\t\t\treturn -EINTR;
            +\t\t\t}
             \t\t\treset(buf);
             \t\t\tmutex_unlock(&buf->lock);
             \t\t\tgoto out_buf;
            """
        #expect(try review(patch, rule: "resource-leak") == ["introduced 25 return -EINTR;"])
    }

    /// Memory kept in a member of a local structure: the error path frees the structure but not the
    /// member, which another error path does free.
    @Test func aMemberOfAStructureTheFunctionFreesIsLostWithIt() throws {
        let patch = """
            --- a/drivers/example.c
            +++ b/drivers/example.c
            @@ -50,6 +50,12 @@ struct dev *attach(const struct cfg *cfg)
             \t} else {
             \t\tdev->priv = kmalloc(sizeof(struct priv), GFP_KERNEL);
            +\t\tif (!dev->priv)
            +\t\t\tgoto error;
             \t\tslot = add_priv(dev->priv);
            +\t\tif (!slot) {
            +\t\t\tkfree(dev->priv);
            +\t\t\tgoto error;
            +\t\t}
             \t\tdev->priv->users = 1;
             \t}
             
            @@ -70,7 +76,9 @@ struct dev *attach(const struct cfg *cfg)
             \tif (setup(dev) < 0)
            -\t\tgoto error;
            +\t\tgoto err_remove;
             \treturn dev;
             
            +err_remove:
            +\tremove_priv(dev->priv);
             error:
             \tkfree(dev);
             \treturn NULL;
            """
        #expect(try review(patch, rule: "resource-leak") == ["introduced 84 return NULL;"])
    }

    /// The patch reads through `ctx->owner` and only then tests the copy it made of it.
    @Test func aPointerReadThroughBeforeTheFunctionTestsItForNull() throws {
        let patch = """
            --- a/kernel/example.c
            +++ b/kernel/example.c
            @@ -10,4 +10,11 @@ static int attach_owner(struct ctx *ctx)
             static int attach_owner(struct ctx *ctx)
             {
            -\treturn 0;
            +\tstruct task_struct *t;
            +
            +\tget_task_struct(ctx->owner);
            +\tt = ctx->owner;
            +\tif (!t)
            +\t\treturn -EINVAL;
            +\tput_task_struct(t);
            +\treturn 0;
             }
            """
        #expect(try review(patch, rule: "missing-null-check") == ["introduced 14 get_task_struct(ctx->owner);"])
    }

    /// A callee that reads through an unchecked allocation oopses out of sight; the function's
    /// own later use of it is named too.
    @Test func everyUseAfterACalleeReadThroughAnUncheckedAllocation() throws {
        let patch = """
            --- a/drivers/example.c
            +++ b/drivers/example.c
            @@ -10,4 +10,9 @@ static int parse(struct item *item)
             static int parse(struct item *item)
             {
            +\tif (!item->values) {
            +\t\titem->values = kmalloc(8, GFP_KERNEL);
            +\t\tstrcpy(item->values, "none");
            +\t}
            +\titem->multi = strchr(item->values, ',') != NULL;
             \treturn 0;
             }
            """
        #expect(try review(patch, rule: "missing-null-check") == [
            "introduced 14 strcpy(item->values, \"none\");",
            "introduced 16 item->multi = strchr(item->values, ',') != NULL;",
        ])
    }

    /// Tested first, then read through: nothing to say.
    @Test func aPointerTestedBeforeItIsReadThrough() throws {
        let patch = """
            --- a/kernel/example.c
            +++ b/kernel/example.c
            @@ -10,4 +10,11 @@ static int attach_owner(struct ctx *ctx)
             static int attach_owner(struct ctx *ctx)
             {
            -\treturn 0;
            +\tstruct task_struct *t;
            +
            +\tt = ctx->owner;
            +\tif (!t)
            +\t\treturn -EINVAL;
            +\tget_task_struct(t);
            +\tput_task_struct(t);
            +\treturn 0;
             }
            """
        #expect(try review(patch, rule: "missing-null-check") == [])
    }
}
