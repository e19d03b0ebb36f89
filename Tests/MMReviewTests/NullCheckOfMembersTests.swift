import MMCore
import MMReview
import Testing

/// A fallible result stored in a structure member is followed like one kept in a local, and a
/// test written with a printk(KERN_ERR "…") body is still seen as a test.
@Suite struct NullCheckOfMembersTests {
    func review(_ patch: String) throws -> [String] {
        let result = try makeReviewer().review([ReviewInput(name: "p.diff", bytes: Array(patch.utf8))])
        #expect(result.errors.isEmpty)
        return result.findings.filter { $0.rule == "missing-null-check" }
            .map { "\($0.status.rawValue) \($0.line) \($0.code): \($0.message)" }
    }

    @Test func aNullTestOfAThreadStoredInAMemberWithAPrintkBodyIsTheWrongTest() throws {
        let patch = """
            --- a/drivers/media/pci/x/core.c
            +++ b/drivers/media/pci/x/core.c
            @@ -1354,8 +1354,10 @@ static int x_initdev(struct pci_dev *pci_dev)
             \t\tif (fw_debug) {
             \t\t\tdev->kthread = kthread_run(x_thread_function, dev, "x debug");
            -\t\t\tif (!dev->kthread)
            +\t\t\tif (IS_ERR(dev->kthread)) {
            +\t\t\t\tdev->kthread = NULL;
             \t\t\t\tprintk(KERN_ERR "%s() Failed to create debug kernel thread\\n", __func__);
            +\t\t\t}
             \t\t}
             
             \t}

            """
        #expect(try review(patch) == [
            "fixed 1356 if (!dev->kthread): kthread_run() returns an ERR_PTR on failure, not NULL: "
                + "this test lets the error through; use IS_ERR(dev->kthread)",
        ])
    }

    @Test func anAllocationStoredInAMemberAndUsedThroughItIsReportedUntilTested() throws {
        let patch = """
            --- a/drivers/media/dvb/frontends/x.c
            +++ b/drivers/media/dvb/frontends/x.c
            @@ -4783,6 +4783,8 @@ struct dvb_frontend *x_attach(const struct x_config *config)
             \t} else {
             \t\tstate->internal = kmalloc(sizeof(struct x_internal), GFP_KERNEL);
            +\t\tif (!state->internal)
            +\t\t\tgoto error;
             \t\ttemp_int = append_internal(state->internal);
             \t\tstate->internal->num_used = 1;
             \t\tstate->internal->mclk = 0;

            """
        #expect(try review(patch) == [
            "fixed 4786 state->internal->num_used = 1;: can 'state->internal' be NULL here? kmalloc() can return NULL "
                + "and 'state->internal' is dereferenced without a check",
        ])
    }

    @Test func aMemberWhoseStructureIsHandedToACallIsNoLongerFollowed() throws {
        let patch = """
            --- a/drivers/x.c
            +++ b/drivers/x.c
            @@ -40,6 +40,7 @@ static int x_probe(struct x_dev *dev)
             \tdev->buf = kmalloc(64, GFP_KERNEL);
             \tx_setup_buffers(dev);
            +\tdev->count = 0;
             \tdev->buf->len = 64;
             \treturn 0;
             }

            """
        #expect(try review(patch) == [])
    }
}
