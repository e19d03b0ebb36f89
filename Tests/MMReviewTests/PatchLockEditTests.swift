import MMCore
import MMReview
import Testing

/// What a patch says by the lock calls it adds: an unlock added before an exit it leaves as it
/// was means the old exit kept the lock; a lock taken again before such an exit means the old exit
/// returned without the lock its caller releases. And two hunks of one function whose section is
/// the name line of a two-line definition header are one function.
@Suite struct PatchLockEditTests {
    func review(_ patch: String, rule: String) throws -> [String] {
        let result = try makeReviewer().review([ReviewInput(name: "p.diff", bytes: Array(patch.utf8))])
        #expect(result.errors.isEmpty)
        return result.findings.filter { $0.rule == rule }
            .map { "\($0.status.rawValue) \($0.line) \($0.code): \($0.message)" }
    }

    @Test func anUnlockAddedBeforeAnUnchangedReturnMeansTheOldReturnLeakedTheLock() throws {
        let patch = """
            --- a/kernel/example.c
            +++ b/kernel/example.c
            @@ -60,8 +60,10 @@ static int write_mask(struct cgroup *cgrp, const char *buf)
             \t\treturn -ENODEV;
             
             \ttrial = alloc_trial(cs);
            -\tif (!trial)
            +\tif (!trial) {
            +\t\tmutex_unlock(&cgroup_mutex);
             \t\treturn -ENOMEM;
            +\t}
             
             \tswitch (cft->private) {
             \tcase FILE_CPULIST:

            """
        #expect(try review(patch, rule: "lock-leak") == [
            "fixed 64 return -ENOMEM;: write_mask() returns here with cgroup_mutex still held: "
                + "the patch adds mutex_unlock() before this exit",
        ])
    }

    @Test func aLockTakenAgainBeforeAnUnchangedReturnMeansTheCallerWouldReleaseAnUnheldLock() throws {
        let patch = """
            --- a/mm/example.c
            +++ b/mm/example.c
            @@ -80,8 +80,11 @@ static int cow_one(struct mm_struct *mm, struct vm_area_struct *vma)
             \t * When the original page is shared one, it does not have
             \t * anon_vma prepared.
             \t */
            -\tif (unlikely(anon_vma_prepare(vma)))
            +\tif (unlikely(anon_vma_prepare(vma))) {
            +\t\t/* Caller expects lock to be held */
            +\t\tspin_lock(&mm->page_table_lock);
             \t\treturn VM_FAULT_OOM;
            +\t}
             
             \tcopy_page(new_page, old_page);

            """
        #expect(try review(patch, rule: "unbalanced-unlock") == [
            "fixed 84 return VM_FAULT_OOM;: cow_one() returns here without 'mm->page_table_lock', which its caller "
                + "holds and will release: the patch takes it again with spin_lock() before this exit",
        ])
        #expect(try review(patch, rule: "lock-leak").isEmpty)
    }

    @Test func aLockThePatchTurnsIntoAnUnlockBeforeAnExitWasTakenTwice() throws {
        let patch = """
            --- a/drivers/example.c
            +++ b/drivers/example.c
            @@ -372,7 +372,7 @@ static int xfer(struct i2c_adapter *adap, struct i2c_msg *msgs, int num)
             			rc = check_for_device(adap, &msgs[i]);
             			if (rc < 0) {
             				dprintk(2, " no device");
            -				mutex_lock(&dev->i2c_lock);
            +				mutex_unlock(&dev->i2c_lock);
             				return rc;
             			}
             

            """
        let found = try review(patch, rule: "double-lock")
        #expect(found == [
            "fixed 375 mutex_lock(&dev->i2c_lock);: mutex_lock() takes 'dev->i2c_lock', which is already held here: "
                + "the patch releases it with mutex_unlock() instead",
        ])
        #expect(try review(patch, rule: "lock-leak").isEmpty)
    }

    @Test func aReleaseSwitchedToTheOtherSideOfAnRwsemDidNotMatchHowItWasHeld() throws {
        let patch = """
            --- a/mm/example.c
            +++ b/mm/example.c
            @@ -3030,8 +3030,8 @@ static int cow_fault(struct vm_area_struct *vma, struct vm_fault *vmf)
             		unlock_page(vmf->page);
             		put_page(vmf->page);
             	} else {
            -		i_mmap_unlock_write(vma->vm_file->f_mapping);
            +		i_mmap_unlock_read(vma->vm_file->f_mapping);
             	}
             	return ret;
             }

            """
        let found = try review(patch, rule: "unbalanced-unlock")
        #expect(found == [
            "fixed 3033 i_mmap_unlock_write(vma->vm_file->f_mapping);: i_mmap_unlock_write() releases "
                + "'vma->vm_file->f_mapping->i_mmap_rwsem' for write, but it is held for read here: "
                + "the patch releases it with i_mmap_unlock_read()",
        ])
    }

    // Switching between two different locks says nothing about either's mode.
    @Test func aReleaseSwitchedToAnotherLockIsNoModeChange() throws {
        let patch = """
            --- a/mm/example.c
            +++ b/mm/example.c
            @@ -30,5 +30,5 @@ static void drop(struct mm_struct *mm, struct address_space *mapping)
             	flush(mm);
            -	mmap_write_unlock(mm);
            +	i_mmap_unlock_read(mapping);
             	return;
             }

            """
        #expect(try review(patch, rule: "unbalanced-unlock").isEmpty)
    }

    // console_lock() is taken before the first hunk and console_unlock() on the normal path lies
    // between the hunks: the error label's unlock says the lock is held on entry, not that the
    // `return 0` after the unseen code still holds it.
    @Test func aLockPresumedHeldIsNotCarriedAcrossUnseenCodeThatReachesNoneOfItsReleases() throws {
        let patch = """
            --- a/drivers/example.c
            +++ b/drivers/example.c
            @@ -3350,6 +3350,8 @@ static int __init con_init(void)
             
             	for (currcons = 0; currcons < MIN_NR_CONSOLES; currcons++) {
             		vc_cons[currcons].d = vc = kzalloc(sizeof(struct vc_data), GFP_NOWAIT);
            +		if (!vc)
            +			goto err_vc;
             		visual_init(vc, currcons, 1);
             	}
             
            @@ -3375,6 +3377,9 @@ static int __init con_init(void)
             	register_console(&vt_console_driver);
             #endif
             	return 0;
            +err_vc:
            +	console_unlock();
            +	return -ENOMEM;
             }
             
             static const struct tty_operations con_ops = {

            """
        #expect(try review(patch, rule: "lock-leak").isEmpty)
    }

    // The patch brings its own locking: the lock it takes in sight says nothing about the old code.
    @Test func locksThePatchTakesItselfTeachNothingAboutTheOldExits() throws {
        let patch = """
            --- a/mm/example.c
            +++ b/mm/example.c
            @@ -20,7 +20,10 @@ static int update(struct foo *foo)
             {
             \tint ret;
             
            +\tmutex_lock(&foo->lock);
             \tret = prepare(foo);
            -\tif (ret)
            +\tif (ret) {
            +\t\tmutex_unlock(&foo->lock);
             \t\treturn ret;
            +\t}

            """
        #expect(try review(patch, rule: "lock-leak").isEmpty)
    }

    // An unlock that only moves (removed and added in the same run) states nothing new.
    @Test func anUnlockThatOnlyMovesStatesNothing() throws {
        let patch = """
            --- a/mm/example.c
            +++ b/mm/example.c
            @@ -20,6 +20,6 @@ static int update(struct foo *foo)
             \tif (ret) {
            -\t\tmutex_unlock(&foo->lock);
             \t\tfoo->err = ret;
            +\t\tmutex_unlock(&foo->lock);
             \t\treturn ret;
             \t}

            """
        #expect(try review(patch, rule: "lock-leak").isEmpty)
    }

    @Test func aGotoAcrossHunksOfATwoLineHeaderFunctionReachesItsLabel() throws {
        let patch = """
            --- a/fs/example.c
            +++ b/fs/example.c
            @@ -401,7 +401,7 @@ reconnect(__le16 command, struct tcon *tcon,
             
             \tspin_lock(&ses->ses_lock);
             \tif (ses->flags & SCALE_CHANNELS)
            -\t\tgoto skip_add_channels;
            +\t\tgoto skip_add_channels_locked;
             \tses->flags |= SCALE_CHANNELS;
             \tspin_unlock(&ses->ses_lock);
             
            @@ -448,6 +448,7 @@ reconnect(__le16 command, struct tcon *tcon,
             
             skip_add_channels:
             \tspin_lock(&ses->ses_lock);
            +skip_add_channels_locked:
             \tses->flags &= ~SCALE_CHANNELS;
             \tspin_unlock(&ses->ses_lock);
             

            """
        #expect(try review(patch, rule: "double-lock") == [
            "fixed 450 spin_lock(&ses->ses_lock);: spin_lock() takes 'ses->ses_lock', which this path already holds",
        ])
        #expect(try review(patch, rule: "unbalanced-unlock").isEmpty)
    }
}
