// The kernel prelude: a self-contained header of kernel types, constants and prototypes that every
// translation unit includes (as the in-memory file `mm_prelude.h`). Functions are declared as
// functions (never macros) so call locations stay in the hunk; they are declared without prototypes
// (`T f();`) so argument counts that changed between kernel versions never make clang drop a call.

enum KernelPrelude {
    static let fileName = "/mmreview/mm_prelude.h"

    /// Iteration macros, defined as `for (;;)` loops: their arguments are dropped so undeclared
    /// member names in them never cost a statement; the extractor reads the header from tokens.
    static let loopMacros: Set<String> = [
        "list_for_each", "list_for_each_prev", "list_for_each_safe", "list_for_each_prev_safe",
        "list_for_each_entry", "list_for_each_entry_reverse", "list_for_each_entry_continue",
        "list_for_each_entry_continue_reverse", "list_for_each_entry_from", "list_for_each_entry_safe",
        "list_for_each_entry_safe_reverse", "list_for_each_entry_safe_continue", "list_for_each_entry_safe_from",
        "list_for_each_entry_rcu", "list_for_each_entry_lockless", "list_for_each_continue",
        "hlist_for_each", "hlist_for_each_safe", "hlist_for_each_entry", "hlist_for_each_entry_safe",
        "hlist_for_each_entry_rcu", "hlist_for_each_entry_continue", "hlist_for_each_entry_from",
        "hlist_bl_for_each_entry", "hlist_nulls_for_each_entry", "hlist_for_each_entry_rcu_notrace",
        "for_each_vma", "for_each_vma_range", "for_each_process", "for_each_thread", "for_each_task",
        "for_each_online_cpu", "for_each_possible_cpu", "for_each_present_cpu", "for_each_cpu",
        "for_each_online_node", "for_each_node", "for_each_node_state", "for_each_zone",
        "for_each_populated_zone", "for_each_online_pgdat", "for_each_mem_cgroup", "for_each_node_mask",
        "rbtree_postorder_for_each_entry_safe", "radix_tree_for_each_slot", "xa_for_each",
        "xa_for_each_range", "xa_for_each_marked", "mas_for_each", "vma_interval_tree_foreach",
        "anon_vma_interval_tree_foreach", "for_each_mem_range", "for_each_memblock", "for_each_sg",
        "llist_for_each_entry", "llist_for_each_entry_safe", "pagevec_for_each", "for_each_lru",
        "for_each_evictable_lru", "do_each_pid_task", "do_each_pid_thread", "for_each_set_bit",
        "for_each_clear_bit", "list_for_each_codec", "for_each_mm",
    ]

    /// Function-like macros that are not calls (they wrap, cast or select their arguments).
    static let transparentMacros: Set<String> = [
        "likely", "unlikely", "container_of", "list_entry", "list_first_entry", "list_last_entry",
        "list_next_entry", "list_prev_entry", "list_first_entry_or_null", "hlist_entry",
        "hlist_entry_safe", "rb_entry", "rb_entry_safe", "offsetof", "ARRAY_SIZE", "READ_ONCE",
        "WRITE_ONCE", "min", "max", "min_t", "max_t", "clamp", "clamp_t", "__must_hold", "__acquires",
        "__releases", "__releases_shared", "__acquires_shared", "__stringify", "ACCESS_ONCE",
        "rcu_dereference", "rcu_dereference_protected", "rcu_dereference_raw", "rcu_access_pointer",
        "rcu_assign_pointer", "rcu_dereference_check", "lockdep_assert_held", "lockdep_assert_held_write",
        "lockdep_assert_held_read", "EXPORT_SYMBOL", "EXPORT_SYMBOL_GPL", "__aligned", "__section",
        "__printf", "__scanf", "__alloc_size", "__realloc_size",
    ]

    static let text: String = {
        var s = #"""
        /* mmreview kernel prelude */
        typedef unsigned char u8; typedef unsigned short u16; typedef unsigned int u32;
        typedef unsigned long long u64; typedef signed char s8; typedef short s16; typedef int s32;
        typedef long long s64; typedef u8 __u8; typedef u16 __u16; typedef u32 __u32; typedef u64 __u64;
        typedef s8 __s8; typedef s16 __s16; typedef s32 __s32; typedef s64 __s64;
        typedef u16 __le16; typedef u32 __le32; typedef u64 __le64; typedef u16 __be16; typedef u32 __be32;
        typedef u64 __be64; typedef unsigned long size_t; typedef long ssize_t; typedef long long loff_t;
        typedef long off_t; typedef unsigned long pgoff_t; typedef unsigned int gfp_t; typedef _Bool bool;
        typedef unsigned long uintptr_t; typedef long intptr_t; typedef int pid_t; typedef unsigned int uid_t;
        typedef unsigned int gid_t; typedef unsigned int fmode_t; typedef unsigned short umode_t;
        typedef unsigned int mode_t; typedef unsigned long sector_t; typedef unsigned long vm_flags_t;
        typedef unsigned int dev_t; typedef unsigned long ino_t; typedef long time_t; typedef long clock_t;
        typedef unsigned long phys_addr_t; typedef unsigned long dma_addr_t; typedef unsigned long resource_size_t;
        typedef int vm_fault_t; typedef unsigned int fgf_t; typedef unsigned int zap_flags_t;
        typedef unsigned long pteval_t; typedef unsigned long pmdval_t; typedef unsigned long pudval_t;
        typedef unsigned long pgdval_t; typedef unsigned long pgprotval_t; typedef unsigned int isolate_mode_t;
        typedef struct { int counter; } atomic_t; typedef struct { long counter; } atomic_long_t;
        typedef struct { long long counter; } atomic64_t; typedef struct { atomic_t refs; } refcount_t;
        typedef struct { unsigned long val; } swp_entry_t;
        typedef struct { int raw_lock; } raw_spinlock_t; typedef struct { int rlock; } spinlock_t;
        typedef struct { int raw_lock; } rwlock_t; typedef struct { unsigned sequence; } seqcount_t;
        typedef struct { unsigned sequence; spinlock_t lock; } seqlock_t;
        struct mutex { long owner; }; struct rw_semaphore { long count; }; struct semaphore { int count; };
        struct rcu_head { void *next; void (*func)(); };
        struct list_head { struct list_head *next, *prev; };
        struct hlist_node { struct hlist_node *next, **pprev; }; struct hlist_head { struct hlist_node *first; };
        struct llist_node { struct llist_node *next; }; struct llist_head { struct llist_node *first; };
        struct rb_node { unsigned long __rb_parent_color; struct rb_node *rb_right, *rb_left; };
        struct rb_root { struct rb_node *rb_node; }; struct rb_root_cached { struct rb_root rb_root; struct rb_node *rb_leftmost; };
        typedef struct { spinlock_t lock; struct list_head head; } wait_queue_head_t;
        typedef struct { unsigned flags; void *private; } wait_queue_entry_t; typedef wait_queue_entry_t wait_queue_t;
        struct completion { unsigned int done; wait_queue_head_t wait; };
        struct kref { refcount_t refcount; };
        typedef struct { unsigned long pte; } pte_t; typedef struct { unsigned long pmd; } pmd_t;
        typedef struct { unsigned long pud; } pud_t; typedef struct { unsigned long p4d; } p4d_t;
        typedef struct { unsigned long pgd; } pgd_t; typedef struct { unsigned long pgprot; } pgprot_t;
        typedef struct { unsigned long bits[1]; } cpumask_t; typedef struct { unsigned long bits[1]; } nodemask_t;
        typedef long va_list;

        struct task_struct; struct mm_struct; struct vm_area_struct; struct page; struct folio; struct file;
        struct inode; struct address_space; struct anon_vma; struct anon_vma_chain; struct dentry; struct path;
        struct kmem_cache; struct vm_fault; struct mmu_gather; struct vma_iterator; struct ma_state;
        struct zone; struct pglist_data; struct mem_cgroup; struct lruvec; struct shrinker; struct super_block;
        struct vfsmount; struct user_struct; struct cred; struct pid; struct sighand_struct; struct signal_struct;
        struct files_struct; struct fs_struct; struct kiocb; struct iov_iter; struct bio; struct buffer_head;
        struct writeback_control; struct swap_info_struct; struct mmu_notifier; struct userfaultfd_ctx;

        #define NULL ((void *)0)
        #define true 1
        #define false 0
        #define likely(x) (x)
        #define unlikely(x) (x)
        #define container_of(ptr, type, member) ((type *)(ptr))
        #define list_entry(ptr, type, member) ((type *)(ptr))
        #define list_first_entry(ptr, type, member) ((type *)(ptr))
        #define list_last_entry(ptr, type, member) ((type *)(ptr))
        #define list_first_entry_or_null(ptr, type, member) ((type *)(ptr))
        #define list_next_entry(pos, member) (pos)
        #define list_prev_entry(pos, member) (pos)
        #define hlist_entry(ptr, type, member) ((type *)(ptr))
        #define hlist_entry_safe(ptr, type, member) ((type *)(ptr))
        #define rb_entry(ptr, type, member) ((type *)(ptr))
        #define rb_entry_safe(ptr, type, member) ((type *)(ptr))
        #define offsetof(type, member) ((unsigned long)0)
        #define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
        #define READ_ONCE(x) (x)
        #define ACCESS_ONCE(x) (x)
        #define WRITE_ONCE(x, v) ((x) = (v))
        #define min(a, b) ((a) < (b) ? (a) : (b))
        #define max(a, b) ((a) > (b) ? (a) : (b))
        #define min_t(t, a, b) ((t)(a) < (t)(b) ? (t)(a) : (t)(b))
        #define max_t(t, a, b) ((t)(a) > (t)(b) ? (t)(a) : (t)(b))
        #define clamp(v, lo, hi) (v)
        #define clamp_t(t, v, lo, hi) ((t)(v))
        #define rcu_dereference(p) (p)
        #define rcu_dereference_raw(p) (p)
        #define rcu_access_pointer(p) (p)
        #define rcu_dereference_protected(p, c) (p)
        #define rcu_dereference_check(p, c) (p)
        #define rcu_assign_pointer(p, v) ((p) = (v))
        #define lockdep_assert_held(l) ((void)0)
        #define lockdep_assert_held_write(l) ((void)0)
        #define lockdep_assert_held_read(l) ((void)0)
        #define EXPORT_SYMBOL(x)
        #define EXPORT_SYMBOL_GPL(x)
        #define __stringify(x) #x
        #define __must_hold(x)
        #define __acquires(x)
        #define __releases(x)
        #define __acquires_shared(x)
        #define __releases_shared(x)
        #define __aligned(x)
        #define __section(x)
        #define __printf(a, b)
        #define __scanf(a, b)
        #define __alloc_size(...)
        #define __realloc_size(...)
        #define __user
        #define __rcu
        #define __iomem
        #define __force
        #define __percpu
        #define __kernel
        #define __bitwise
        #define __init
        #define __exit
        #define __initdata
        #define __read_mostly
        #define __always_inline inline
        #define __maybe_unused
        #define __must_check
        #define __cold
        #define __weak
        #define __ref
        #define __sched
        #define __visible
        #define __noreturn
        #define __meminit
        #define __devinit
        #define __cpuinit
        #define __init_or_module
        #define __attribute_const__
        #define __pure
        #define noinline
        #define notrace
        #define asmlinkage
        #define fastcall
        #define FASTCALL(x) x
        #define __randomize_layout
        #define __latent_entropy
        #define __nocast

        enum { GFP_KERNEL = 0x10, GFP_ATOMIC, GFP_NOFS, GFP_NOIO, GFP_USER, GFP_HIGHUSER,
               GFP_HIGHUSER_MOVABLE, GFP_NOWAIT, GFP_DMA, GFP_DMA32, GFP_KERNEL_ACCOUNT, GFP_TRANSHUGE,
               __GFP_ZERO, __GFP_NOWARN, __GFP_HIGHMEM, __GFP_NORETRY, __GFP_NOFAIL, __GFP_COMP,
               __GFP_MOVABLE, __GFP_IO, __GFP_FS, __GFP_WAIT, __GFP_RECLAIM, __GFP_DIRECT_RECLAIM,
               __GFP_ACCOUNT, __GFP_THISNODE, __GFP_MEMALLOC, __GFP_RETRY_MAYFAIL };
        enum { EPERM = 1, ENOENT, ESRCH, EINTR, EIO, ENXIO, E2BIG, ENOEXEC, EBADF, ECHILD, EAGAIN, ENOMEM,
               EACCES, EFAULT, ENOTBLK, EBUSY, EEXIST, EXDEV, ENODEV, ENOTDIR, EISDIR, EINVAL, ENFILE,
               EMFILE, ENOTTY, ETXTBSY, EFBIG, ENOSPC, ESPIPE, EROFS, EMLINK, EPIPE, EDOM, ERANGE,
               EDEADLK, ENAMETOOLONG, ENOLCK, ENOSYS, ENOTEMPTY, ELOOP, EWOULDBLOCK, ENOMSG, ENODATA,
               ETIMEDOUT, EOVERFLOW, EOPNOTSUPP, ENOTSUPP, ERESTARTSYS, ERESTARTNOINTR, ECANCELED,
               EHWPOISON, ENOTRECOVERABLE, EOWNERDEAD, EALREADY, EINPROGRESS, ESTALE, EDQUOT };
        enum { PAGE_SHIFT = 12, PAGE_SIZE = 4096, PAGE_MASK = -4096, PAGE_CACHE_SHIFT = 12,
               PAGE_CACHE_SIZE = 4096, PAGE_CACHE_MASK = -4096, PMD_SIZE = 2097152, PMD_MASK = -2097152,
               PUD_SIZE = 1073741824, PUD_MASK = -1073741824, PGDIR_SIZE, PGDIR_MASK, HPAGE_PMD_NR = 512,
               HPAGE_PMD_SIZE = 2097152, HPAGE_PMD_MASK = -2097152, PTRS_PER_PTE = 512, PTRS_PER_PMD = 512,
               TASK_SIZE, TASK_RUNNING = 0, TASK_INTERRUPTIBLE = 1, TASK_UNINTERRUPTIBLE = 2, TASK_KILLABLE,
               MAX_ERRNO = 4095, ULONG_MAX = -1, UINT_MAX = -1, INT_MAX = 2147483647, LONG_MAX };

        extern struct task_struct *current;
        extern struct mm_struct init_mm;

        void spin_lock(); void spin_unlock(); void spin_lock_irq(); void spin_unlock_irq();
        void spin_lock_irqsave(); void spin_unlock_irqrestore(); void spin_lock_bh(); void spin_unlock_bh();
        void spin_lock_nested(); int spin_trylock(); int spin_is_locked(); void spin_lock_init();
        void raw_spin_lock(); void raw_spin_unlock(); void raw_spin_lock_irqsave(); void raw_spin_unlock_irqrestore();
        void read_lock(); void read_unlock(); void write_lock(); void write_unlock(); void read_lock_irq();
        void read_unlock_irq(); void write_lock_irq(); void write_unlock_irq(); void write_lock_irqsave();
        void write_unlock_irqrestore(); void read_lock_irqsave(); void read_unlock_irqrestore();
        void write_lock_bh(); void write_unlock_bh(); void read_lock_bh(); void read_unlock_bh();
        void rwlock_init(); int write_trylock(); int read_trylock();
        void mutex_lock(); void mutex_unlock(); int mutex_trylock(); int mutex_lock_interruptible();
        int mutex_lock_killable(); void mutex_lock_nested(); int mutex_is_locked(); void mutex_init();
        void down(); void up(); int down_trylock(); int down_interruptible(); int down_killable(); void sema_init();
        void init_MUTEX(); void init_MUTEX_LOCKED();
        void down_read(); void up_read(); void down_write(); void up_write(); void downgrade_write();
        int down_read_trylock(); int down_write_trylock(); int down_read_killable(); int down_write_killable();
        int down_read_interruptible(); void down_read_nested(); void down_write_nested(); void init_rwsem();
        int rwsem_is_locked();
        void mmap_read_lock(); void mmap_read_unlock(); void mmap_write_lock(); void mmap_write_unlock();
        int mmap_read_trylock(); int mmap_write_trylock(); int mmap_read_lock_killable();
        int mmap_write_lock_killable(); void mmap_write_downgrade(); void mmap_assert_locked();
        void mmap_assert_write_locked(); void mmap_lock(); void mmap_unlock();
        struct vm_area_struct *lock_vma_under_rcu(); void vma_start_read(); void vma_end_read();
        void vma_start_write(); void vma_assert_locked(); void vma_assert_write_locked();
        void anon_vma_lock_write(); void anon_vma_unlock_write(); void anon_vma_lock_read();
        void anon_vma_unlock_read(); void i_mmap_lock_write(); void i_mmap_unlock_write();
        void i_mmap_lock_read(); void i_mmap_unlock_read(); void inode_lock(); void inode_unlock();
        void inode_lock_shared(); void inode_unlock_shared(); void lock_page(); void unlock_page();
        int trylock_page(); void folio_lock(); void folio_unlock(); int folio_trylock(); void lock_kernel();
        void unlock_kernel(); void page_lock_anon_vma(); void page_unlock_anon_vma();
        struct anon_vma *page_lock_anon_vma_read(); void page_unlock_anon_vma_read();
        void rcu_read_lock(); void rcu_read_unlock(); void rcu_read_lock_bh(); void rcu_read_unlock_bh();
        void synchronize_rcu(); void call_rcu(); void kfree_rcu(); void srcu_read_unlock(); int srcu_read_lock();
        void local_irq_disable(); void local_irq_enable(); void local_irq_save(); void local_irq_restore();
        void preempt_disable(); void preempt_enable(); void preempt_enable_no_resched(); void migrate_disable();
        void migrate_enable(); void pagefault_disable(); void pagefault_enable(); void local_bh_disable();
        void local_bh_enable(); int in_atomic(); int in_interrupt(); int irqs_disabled(); void might_sleep();
        void cond_resched(); void schedule(); long schedule_timeout(); void msleep(); void ssleep(); void udelay();
        void cpu_relax(); void yield(); int signal_pending(); int fatal_signal_pending();
        void *kmalloc(); void *kzalloc(); void *kcalloc(); void *kmalloc_array(); void *krealloc(); void kfree();
        void kvfree(); void *kvmalloc(); void *kvzalloc(); void *vmalloc(); void *vzalloc(); void vfree();
        void *kmem_cache_alloc(); void *kmem_cache_zalloc(); void kmem_cache_free(); struct kmem_cache *kmem_cache_create();
        void kmem_cache_destroy(); unsigned long __get_free_page(); unsigned long __get_free_pages();
        unsigned long get_zeroed_page(); void free_page(); void free_pages(); struct page *alloc_page();
        struct page *alloc_pages(); void __free_page(); void __free_pages(); void *kmemdup(); char *kstrdup();
        struct folio *folio_alloc(); void folio_put(); void folio_get();
        unsigned long copy_to_user(); unsigned long copy_from_user(); unsigned long __copy_to_user();
        unsigned long __copy_from_user(); unsigned long clear_user(); long strncpy_from_user(); long strnlen_user();
        int get_user(); int put_user(); int __get_user(); int __put_user(); int access_ok(); int verify_area();
        long get_user_pages(); long get_user_pages_fast(); long get_user_pages_remote(); long get_user_pages_unlocked();
        long pin_user_pages(); long pin_user_pages_fast(); void unpin_user_page(); void unpin_user_pages();
        void *kmap(); void kunmap(); void *kmap_atomic(); void kunmap_atomic(); void *kmap_local_page();
        void kunmap_local(); void *page_address(); struct page *virt_to_page(); struct page *pfn_to_page();
        unsigned long page_to_pfn(); void get_page(); void put_page(); void page_cache_release();
        void page_cache_get(); int page_count(); int page_mapcount(); struct page *vm_normal_page();
        struct page *follow_page();
        void get_file(); void fput(); struct file *fget(); struct file *get_task_exe_file();
        void mmget(); void mmput(); void mmgrab(); void mmdrop(); int mmget_not_zero(); struct mm_struct *get_task_mm();
        void get_task_struct(); void put_task_struct(); void task_lock(); void task_unlock();
        struct vm_area_struct *find_vma(); struct vm_area_struct *find_vma_prev(); struct vm_area_struct *vma_lookup();
        struct vm_area_struct *find_vma_intersection(); struct vm_area_struct *vm_area_alloc();
        void vm_area_free(); struct vm_area_struct *vma_next(); struct vm_area_struct *vma_prev();
        pgd_t *pgd_offset(); p4d_t *p4d_offset(); pud_t *pud_offset(); pmd_t *pmd_offset(); pte_t *pte_offset_map();
        pte_t *pte_offset_map_lock(); pte_t *pte_offset_kernel(); void pte_unmap(); void pte_unmap_unlock();
        spinlock_t *pte_lockptr(); spinlock_t *pmd_lock(); spinlock_t *pmd_lockptr(); spinlock_t *pud_lock();
        spinlock_t *pmd_trans_huge_lock(); spinlock_t *huge_pte_lock();
        int pgd_none(); int pgd_bad(); int pgd_present(); int p4d_none(); int p4d_bad(); int pud_none();
        int pud_bad(); int pud_present(); int pmd_none(); int pmd_bad(); int pmd_present(); int pmd_trans_huge();
        int pmd_huge(); int pte_none(); int pte_present(); int pte_write(); int pte_dirty(); int pte_young();
        unsigned long pte_val(); unsigned long pmd_val(); unsigned long pud_val(); unsigned long pgd_val();
        unsigned long pte_pfn(); pte_t ptep_get(); void set_pte(); void set_pte_at(); pte_t pte_mkwrite();
        pte_t pte_mkdirty(); pte_t pte_mkold(); pte_t pte_wrprotect(); pte_t mk_pte(); void flush_tlb_range();
        void flush_tlb_page(); void flush_tlb_mm(); void flush_cache_range(); void flush_cache_page();
        void update_mmu_cache();
        long IS_ERR(); long PTR_ERR(); void *ERR_PTR(); long IS_ERR_OR_NULL(); void *ERR_CAST(); int PTR_ERR_OR_ZERO();
        void BUG(); void BUG_ON(); int WARN_ON(); int WARN_ON_ONCE(); int WARN(); int WARN_ONCE(); void VM_BUG_ON();
        void VM_BUG_ON_PAGE(); void VM_BUG_ON_VMA(); void VM_BUG_ON_MM(); void VM_WARN_ON(); void VM_WARN_ON_ONCE();
        void BUILD_BUG_ON(); void panic();
        int printk(); int pr_err(); int pr_info(); int pr_warn(); int pr_debug(); int pr_notice();
        int pr_warning(); int pr_emerg(); int pr_alert(); int pr_crit(); int pr_cont(); void dump_stack();
        int sprintf(); int snprintf(); int scnprintf(); int sscanf();
        void *memset(); void *memcpy(); void *memmove(); int memcmp(); unsigned long strlen(); char *strcpy();
        char *strncpy(); int strcmp(); int strncmp(); char *strchr(); unsigned long strlcpy(); long strscpy();
        void atomic_inc(); void atomic_dec(); int atomic_read(); void atomic_set(); void atomic_add(); void atomic_sub();
        int atomic_dec_and_test(); int atomic_inc_not_zero(); int atomic_inc_return(); int atomic_dec_return();
        int atomic_add_return(); int atomic_sub_and_test(); int atomic_cmpxchg(); int atomic_xchg();
        long atomic_long_read(); void atomic_long_inc(); void atomic_long_dec(); void atomic_long_add();
        void atomic_long_set(); void refcount_inc(); int refcount_dec_and_test(); int refcount_inc_not_zero();
        void refcount_set(); int refcount_read(); void kref_init(); void kref_get(); int kref_put();
        void INIT_LIST_HEAD(); void list_add(); void list_add_tail(); void list_del(); void list_del_init();
        int list_empty(); void list_move(); void list_move_tail(); void list_splice(); void list_splice_init();
        void list_add_rcu(); void list_del_rcu(); void list_add_tail_rcu(); void hlist_add_head(); void hlist_del();
        void hlist_del_init(); int hlist_empty(); int hlist_unhashed(); void INIT_HLIST_NODE();
        void rb_insert_color(); void rb_erase(); void rb_link_node(); struct rb_node *rb_first(); struct rb_node *rb_next();
        struct rb_node *rb_prev(); struct rb_node *rb_last();
        void init_waitqueue_head(); void wake_up(); void wake_up_all(); void wake_up_interruptible(); void wake_up_process();
        int wait_event(); int wait_event_interruptible(); int wait_event_killable(); long wait_event_timeout();
        void prepare_to_wait(); void finish_wait(); void init_completion(); void complete(); void complete_all();
        void wait_for_completion(); int wait_for_completion_interruptible(); int wait_for_completion_killable();
        void set_current_state(); void __set_current_state();
        int test_bit(); void set_bit(); void clear_bit(); int test_and_set_bit(); int test_and_clear_bit();
        void __set_bit(); void __clear_bit(); void smp_mb(); void smp_wmb(); void smp_rmb(); void barrier();
        void mb(); void wmb(); void rmb(); void smp_mb__after_atomic(); void smp_mb__before_atomic();
        int capable(); int ns_capable(); unsigned long jiffies_fn(); int current_is_kswapd();
        struct page *find_get_page(); struct page *find_lock_page(); struct page *grab_cache_page();
        int add_to_page_cache(); void delete_from_page_cache(); void mark_page_accessed(); void set_page_dirty();
        int PageAnon(); int PageLocked(); int PageDirty(); int PageWriteback(); int PageReserved(); int PageSwapCache();
        int PageCompound(); int PageHuge(); int PageTransHuge(); int PageLRU(); int PageUptodate(); int PageSlab();
        void SetPageDirty(); void ClearPageDirty(); void SetPageUptodate(); void SetPageLocked(); void ClearPageLocked();
        ssize_t vfs_read(); ssize_t vfs_write(); ssize_t kernel_read(); ssize_t kernel_write(); int vfs_fsync();
        struct file *filp_open(); int filp_close(); void path_get(); void path_put(); char *d_path();
        void dput(); struct dentry *dget(); void iput(); struct inode *igrab(); struct inode *file_inode();
        int do_munmap(); unsigned long do_mmap(); unsigned long do_mmap_pgoff(); unsigned long do_brk();
        int vm_munmap(); unsigned long vm_mmap(); int insert_vm_struct(); void unmap_vmas(); void free_pgtables();
        int split_vma(); struct vm_area_struct *vma_merge(); int expand_stack(); int handle_mm_fault();
        void lru_add_drain(); void tlb_gather_mmu(); void tlb_finish_mmu(); void update_hiwater_rss();
        void vma_link(); void __vma_link_rb(); int anon_vma_prepare(); void unlink_anon_vmas(); int anon_vma_clone();
        int try_to_unmap(); int page_referenced(); void page_add_anon_rmap(); void page_remove_rmap();
        void page_add_file_rmap(); int swap_duplicate(); void swap_free(); int try_to_free_swap();
        struct page *lookup_swap_cache(); struct page *read_swap_cache_async(); void swapin_readahead();
        struct page *read_swap_cache(); void free_page_and_swap_cache(); int shm_unuse(); int add_to_swap();
        void delete_from_swap_cache(); int kill_pid(); int send_sig(); void force_sig();
        int is_vm_hugetlb_page(); int vma_is_anonymous(); void mmu_notifier_invalidate_range_start();
        void mmu_notifier_invalidate_range_end(); void khugepaged_enter(); void ksm_exit();
        """#
        s += "\n"
        for name in loopMacros.sorted() {
            s += "#define \(name)(...) for (;;)\n"
        }
        s += "void __mm_gap(void);\n"
        return s
    }()

    /// The prelude's tokens, lexed once for the three name sets below.
    /// Split on bytes: a Character split of the whole prelude cost more than lexing it.
    private static let tokens: [CToken] = CLexer.lex(
        text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }).tokens

    /// Every identifier the prelude declares or mentions.
    static let knownNames: Set<String> = {
        var names = Set<String>()
        for t in tokens {
            if t.kind == .identifier { names.insert(t.text) }
            if t.kind == .directive {
                let parts = t.text.split(whereSeparator: { $0 == " " || $0 == "(" || $0 == "\t" })
                if parts.count >= 2, parts[0] == "#define" { names.insert(String(parts[1])) }
            }
        }
        return names
    }()

    /// The ordinary identifiers the prelude declares at file scope: functions, variables,
    /// typedefs, enumerators and macros. Unlike knownNames it leaves out parameter, member, tag and
    /// local names, which do not declare a name a hunk could use (`val` is a member of swp_entry_t,
    /// not a variable).
    static let fileScopeNames: Set<String> = {
        var names = Set<String>()
        var depth = 0
        var enumBodies: [Int] = []  // depths at which an enum's braces were opened
        var previous: CToken? = nil
        var beforePrevious: CToken? = nil
        for t in tokens {
            defer { if t.kind != .directive { beforePrevious = previous; previous = t } }
            switch t.kind {
            case .directive:
                let parts = t.text.split(whereSeparator: { $0 == " " || $0 == "(" || $0 == "\t" })
                if parts.count >= 2, parts[0] == "#define" { names.insert(String(parts[1])) }
            case .punct:
                if t.text == "(" || t.text == "[" || t.text == "{" {
                    if t.text == "{", previous?.text == "enum" || beforePrevious?.text == "enum" { enumBodies.append(depth) }
                    depth += 1
                } else if t.text == ")" || t.text == "]" || t.text == "}" {
                    depth = max(0, depth - 1)
                    if t.text == "}", enumBodies.last == depth { enumBodies.removeLast() }
                }
            case .identifier:
                let isTag = previous.map { ["struct", "union", "enum"].contains($0.text) } ?? false
                let inEnum = enumBodies.last.map { depth == $0 + 1 } ?? false
                if !isTag, depth == 0 || inEnum { names.insert(t.text) }
            default:
                break
            }
        }
        return names
    }()

    /// Struct tags the prelude defines completely (others the stubs complete).
    static let definedTags: Set<String> = {
        var tags = Set<String>()
        let toks = tokens
        for i in 0..<max(0, toks.count - 2) where toks[i].text == "struct" && toks[i + 1].isIdentifier && toks[i + 2].isPunct("{") {
            tags.insert(toks[i + 1].text)
        }
        return tags
    }()

    /// Struct tags the prelude only forward-declares; every unit completes them with stub members.
    static let forwardTags: Set<String> = {
        var tags = Set<String>()
        let toks = tokens
        for i in 0..<max(0, toks.count - 2) where toks[i].text == "struct" && toks[i + 1].isIdentifier && toks[i + 2].isPunct(";") {
            tags.insert(toks[i + 1].text)
        }
        return tags.subtracting(definedTags)
    }()
}
