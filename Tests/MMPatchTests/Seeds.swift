// The five seed review threads from /work/shared/seeds, byte-exact (ASCII, no trailing newline),
// embedded so the tests do not depend on files outside the package.

enum Seed {
    /// 000_ed32f0bd73afb809.txt
    static let s000 = #"""
[PATCH] c/r: do not hold mmap_sem while checkpointing vma's

Matt Helsley matthltc at us.ibm.com
Mon Oct 26 13:52:36 PDT 2009


On Sun, Oct 25, 2009 at 06:23:29PM -0400, Oren Laadan wrote:
> This patch modifies the memory checkpoint code to _not_ hold the
> mmap_sem while dumping out the vma's.
> 
> The problem with holding the mmap_sem is that it first takes the
> mmap_sem and then takes the file's inode semaphore. This violates the
> normal locking order, e,g, when taking a page fault during a copyout,
> which is inode sem and then the mmap_sem.
> 
> Normally this reverse locking order won't cause a lockup because a the
> output file for the checkpoint image isn't used by the checkpointee.
> However, there a couple of cases where it may be a problem, e.g. when
> some async-IO happens to complete and triggers a page fault at the
> wrong time.
> 
> This fixes complaints from the lockdep about this reverse ordering.
> 
> Signed-off-by: Oren Laadan <orenl at cs.columbia.edu>
> ---
>  checkpoint/memory.c |  133 ++++++++++++++++++++++++++++++++++++---------------
>  1 files changed, 94 insertions(+), 39 deletions(-)
> 
> diff --git a/checkpoint/memory.c b/checkpoint/memory.c
> index 0da948f..656614c 100644
> --- a/checkpoint/memory.c
> +++ b/checkpoint/memory.c
> @@ -644,11 +644,80 @@ static int anonymous_checkpoint(struct ckpt_ctx *ctx,
>  	return private_vma_checkpoint(ctx, vma, CKPT_VMA_ANON, 0);
>  }
> 
> +static int checkpoint_vmas(struct ckpt_ctx *ctx, struct mm_struct *mm)
> +{
> +	struct vm_area_struct *vma, *next;
> +	int map_count = 0;
> +	int ret = 0;
> +
> +	vma = kzalloc(sizeof(*vma), GFP_KERNEL);
> +	if (!vma)
> +		return -ENOMEM;
> +
> +	/*
> +	 * Must not hold mm->mmap_sem when writing to image file, so
> +	 * can't simply traverse the vma list. Instead, use find_vma()
> +	 * to get the @next and make a local "copy" of it.
> +	 */
> +	while (1) {
> +		down_read(&mm->mmap_sem);
> +		next = find_vma(mm, vma->vm_end);
> +		if (!next) {
> +			up_read(&mm->mmap_sem);
> +			break;
> +		}
> +		if (vma->vm_file)
> +			fput(vma->vm_file);
> +		*vma = *next;
> +		if (vma->vm_file)
> +			get_file(vma->vm_file);
> +		up_read(&mm->mmap_sem);
> +
> +		map_count++;
> +
> +		ckpt_debug("vma %#lx-%#lx flags %#lx\n",
> +			 vma->vm_start, vma->vm_end, vma->vm_flags);
> +
> +		if (vma->vm_flags & CKPT_VMA_NOT_SUPPORTED) {
> +			ckpt_write_err(ctx, "TE", "vma: bad flags (%#lx)\n",
> +				       -ENOSYS, vma->vm_flags);
> +			ret = -ENOSYS;
> +			break;
> +		}
> +
> +		if (!vma->vm_ops)
> +			ret = anonymous_checkpoint(ctx, vma);
> +		else if (vma->vm_ops->checkpoint)
> +			ret = (*vma->vm_ops->checkpoint)(ctx, vma);
> +		else
> +			ret = -ENOSYS;
> +		if (ret < 0) {
> +			ckpt_write_err(ctx, "TE", "vma: failed", ret);
> +			break;
> +		}
> +		/*
> +		 * The file was collected, but not always checkpointed;
> +		 * be safe and mark as visited to appease leak detection
> +		 */
> +		if (vma->vm_file && !(ctx->uflags & CHECKPOINT_SUBTREE)) {
> +			ret = ckpt_obj_visit(ctx, vma->vm_file, CKPT_OBJ_FILE);
> +			if (ret < 0)
> +				break;
> +		}
> +	}
> +
> +	if (vma->vm_file)
> +		fput(vma->vm_file);
> +
> +	kfree(vma);
> +
> +	return ret < 0 ? ret : map_count;
> +}
> +
>  static int do_checkpoint_mm(struct ckpt_ctx *ctx, struct mm_struct *mm)
>  {
>  	struct ckpt_hdr_mm *h;
> -	struct vm_area_struct *vma;
> -	int exe_objref = 0;
> +	struct file *exe_file = NULL;
>  	int ret;
> 
>  	h = ckpt_hdr_get_type(ctx, sizeof(*h), CKPT_HDR_MM);
> @@ -674,14 +743,23 @@ static int do_checkpoint_mm(struct ckpt_ctx *ctx, struct mm_struct *mm)
> 
>  	h->map_count = mm->map_count;
> 
> -	/* checkpoint the ->exe_file */
> -	if (mm->exe_file) {
> -		exe_objref = checkpoint_obj(ctx, mm->exe_file, CKPT_OBJ_FILE);
> -		if (exe_objref < 0) {
> -			ret = exe_objref;
> +	if (mm->exe_file) {  /* checkpoint the ->exe_file */
> +		exe_file = mm->exe_file;
> +		get_file(exe_file);
> +	}
> +
> +	/*
> +	 * Drop mm->mmap_sem before writing data to checkpoint image
> +	 * to avoid reverse locking order (inode must come before mm).
> +	 */
> +	up_read(&mm->mmap_sem);
> +
> +	if (exe_file) {
> +		h->exe_objref = checkpoint_obj(ctx, exe_file, CKPT_OBJ_FILE);
> +		if (h->exe_objref < 0) {
> +			ret = h->exe_objref;
>  			goto out;
>  		}
> -		h->exe_objref = exe_objref;
>  	}
> 
>  	ret = ckpt_write_obj(ctx, &h->h);
> @@ -692,40 +770,17 @@ static int do_checkpoint_mm(struct ckpt_ctx *ctx, struct mm_struct *mm)
>  	if (ret < 0)
>  		return ret;
> 
> -	/* write the vma's */
> -	for (vma = mm->mmap; vma; vma = vma->vm_next) {
> -		ckpt_debug("vma %#lx-%#lx flags %#lx\n",
> -			 vma->vm_start, vma->vm_end, vma->vm_flags);
> -		if (vma->vm_flags & CKPT_VMA_NOT_SUPPORTED) {
> -			ckpt_write_err(ctx, "TE", "vma: bad flags (%#lx)\n",
> -				       -ENOSYS, vma->vm_flags);
> -			return -ENOSYS;
> -		}
> -		if (!vma->vm_ops)
> -			ret = anonymous_checkpoint(ctx, vma);
> -		else if (vma->vm_ops->checkpoint)
> -			ret = (*vma->vm_ops->checkpoint)(ctx, vma);
> -		else
> -			ret = -ENOSYS;
> -		if (ret < 0) {
> -			ckpt_write_err(ctx, "TE", "vma: failed", ret);
> -			goto out;
> -		}
> -		/*
> -		 * The file was collected, but not always checkpointed;
> -		 * be safe and mark as visited to appease leak detection
> -		 */
> -		if (vma->vm_file && !(ctx->uflags & CHECKPOINT_SUBTREE)) {
> -			ret = ckpt_obj_visit(ctx, vma->vm_file, CKPT_OBJ_FILE);
> -			if (ret < 0)
> -				goto out;
> -		}
> -	}
> +	ret = checkpoint_vmas(ctx, mm);
> +	if (ret != h->map_count && ret >= 0)
> +		ret = -EBUSY; /* checkpoint mm leak */
> +	if (ret < 0)
> +		goto out;
> 
>  	ret = checkpoint_mm_context(ctx, mm);
>   out:
> +	if (exe_file)
> +		fput(exe_file);
>  	ckpt_hdr_put(ctx, h);
> -	up_read(&mm->mmap_sem);
>  	return ret;
>  }
> 
> @@ -1288,9 +1343,9 @@ static struct mm_struct *do_restore_mm(struct ckpt_ctx *ctx)
>  		}
>  		set_mm_exe_file(mm, file);
>  	}
> +	up_write(&mm->mmap_sem);
> 
>  	ret = _ckpt_read_buffer(ctx, mm->saved_auxv, sizeof(mm->saved_auxv));
> -	up_write(&mm->mmap_sem);
>  	if (ret < 0)
>  		goto out;
> 
> -- 

At least in the restart path it's interesting to see how Alexey did it
without mmap_sem, at least for part of it:

http://patchwork.kernel.org/patch/25337/

(search for kstate_restore_mm_struct())

Is that a feasible and more-suitable approach for the initial portions
of mm restore?

Cheers,
	-Matt Helsley


More information about the Containers mailing list
"""#

    /// 001_f23a81c0b7ab8d5c.txt
    static let s001 = #"""
[Devel] Re: [PATCH 06/10] Introduce functions to dump mm

Louis Rilling Louis.Rilling at kerlabs.com
Mon Oct 20 05:25:14 PDT 2008


On Sat, Oct 18, 2008 at 03:11:34AM +0400, Andrey Mirkin wrote:
> Functions to dump mm struct, VMAs and mm context are added.

Again, a few little comments.

[...]

> diff --git a/checkpoint/cpt_mm.c b/checkpoint/cpt_mm.c
> new file mode 100644
> index 0000000..8a22c48
> --- /dev/null
> +++ b/checkpoint/cpt_mm.c
> @@ -0,0 +1,434 @@
> +/*
> + *  Copyright (C) 2008 Parallels, Inc.
> + *
> + *  Authors:	Andrey Mirkin <major at openvz.org>
> + *
> + *  This program is free software; you can redistribute it and/or
> + *  modify it under the terms of the GNU General Public License as
> + *  published by the Free Software Foundation, version 2 of the
> + *  License.
> + *
> + */
> +
> +#include <linux/sched.h>
> +#include <linux/slab.h>
> +#include <linux/file.h>
> +#include <linux/mm.h>
> +#include <linux/errno.h>
> +#include <linux/major.h>
> +#include <linux/mman.h>
> +#include <linux/mnt_namespace.h>
> +#include <linux/mount.h>
> +#include <linux/namei.h>
> +#include <linux/pagemap.h>
> +#include <linux/hugetlb.h>
> +#include <asm/ldt.h>
> +
> +#include "checkpoint.h"
> +#include "cpt_image.h"
> +
> +struct page_area
> +{
> +	int type;
> +	unsigned long start;
> +	unsigned long end;
> +	pgoff_t pgoff;
> +	loff_t mm;
> +	__u64 list[16];
> +};
> +
> +struct page_desc
> +{
> +	int	type;
> +	pgoff_t	index;
> +	loff_t	mm;
> +	int	shared;
> +};
> +
> +enum {
> +	PD_ABSENT,
> +	PD_COPY,
> +	PD_FUNKEY,
> +};
> +
> +/* 0: page can be obtained from backstore, or still not mapped anonymous  page,
> +      or something else, which does not requre copy.
> +   1: page requires copy
> +   2: page requres copy but its content is zero. Quite useless.
> +   3: wp page is shared after fork(). It is to be COWed when modified.
> +   4: page is something unsupported... We copy it right now.
> + */
> +
> +static void page_get_desc(struct vm_area_struct *vma, unsigned long addr,
> +			  struct page_desc *pdesc, cpt_context_t * ctx)
> +{
> +	struct mm_struct *mm = vma->vm_mm;
> +	pgd_t *pgd;
> +	pud_t *pud;
> +	pmd_t *pmd;
> +	pte_t *ptep, pte;
> +	spinlock_t *ptl;
> +	struct page *pg = NULL;
> +	pgoff_t linear_index = (addr - vma->vm_start)/PAGE_SIZE + vma->vm_pgoff;
> +
> +	pdesc->index = linear_index;
> +	pdesc->shared = 0;
> +	pdesc->mm = CPT_NULL;
> +
> +	if (vma->vm_flags & VM_IO) {
> +		pdesc->type = PD_ABSENT;
> +		return;
> +	}
> +
> +	pgd = pgd_offset(mm, addr);
> +	if (pgd_none(*pgd) || unlikely(pgd_bad(*pgd)))
> +		goto out_absent;
> +	pud = pud_offset(pgd, addr);
> +	if (pud_none(*pud) || unlikely(pud_bad(*pud)))
> +		goto out_absent;
> +	pmd = pmd_offset(pud, addr);
> +	if (pmd_none(*pmd) || unlikely(pmd_bad(*pmd)))
> +		goto out_absent;
> +#ifdef CONFIG_X86
> +	if (pmd_huge(*pmd)) {
> +		eprintk("page_huge\n");
> +		goto out_unsupported;
> +	}
> +#endif
> +	ptep = pte_offset_map_lock(mm, pmd, addr, &ptl);
> +	pte = *ptep;
> +	pte_unmap(ptep);
> +
> +	if (pte_none(pte))
> +		goto out_absent_unlock;
> +
> +	if ((pg = vm_normal_page(vma, addr, pte)) == NULL) {
> +		pdesc->type = PD_COPY;
> +		goto out_unlock;
> +	}
> +
> +	get_page(pg);
> +	spin_unlock(ptl);
> +
> +	if (pg->mapping && !PageAnon(pg)) {
> +		if (vma->vm_file == NULL) {
> +			eprintk("pg->mapping!=NULL for fileless vma: %08lx\n", addr);
> +			goto out_unsupported;
> +		}
> +		if (vma->vm_file->f_mapping != pg->mapping) {
> +			eprintk("pg->mapping!=f_mapping: %08lx %p %p\n",
> +				    addr, vma->vm_file->f_mapping, pg->mapping);
> +			goto out_unsupported;
> +		}
> +		pdesc->index = (pg->index << (PAGE_CACHE_SHIFT - PAGE_SHIFT));
> +		/* Page is in backstore. For us it is like
> +		 * it is not present.
> +		 */
> +		goto out_absent;
> +	}
> +
> +	if (PageReserved(pg)) {
> +		/* Special case: ZERO_PAGE is used, when an
> +		 * anonymous page is accessed but not written. */
> +		if (pg == ZERO_PAGE(addr)) {
> +			if (pte_write(pte)) {
> +				eprintk("not funny already, writable ZERO_PAGE\n");
> +				goto out_unsupported;
> +			}
> +			/* Just copy it for now */
> +			pdesc->type = PD_COPY;
> +			goto out_put;
> +		}
> +		eprintk("reserved page %lu at %08lx\n", pg->index, addr);
> +		goto out_unsupported;
> +	}
> +
> +	if (!pg->mapping) {
> +		eprintk("page without mapping at %08lx\n", addr);
> +		goto out_unsupported;
> +	}
> +
> +	pdesc->type = PD_COPY;
> +
> +out_put:
> +	if (pg)
> +		put_page(pg);
> +	return;
> +
> +out_unlock:
> +	spin_unlock(ptl);
> +	goto out_put;
> +
> +out_absent_unlock:
> +	spin_unlock(ptl);
> +
> +out_absent:
> +	pdesc->type = PD_ABSENT;
> +	goto out_put;
> +
> +out_unsupported:
> +	pdesc->type = PD_FUNKEY;
> +	goto out_put;
> +}
> +
> +static int count_vma_pages(struct vm_area_struct *vma, struct cpt_context *ctx)
> +{
> +	unsigned long addr;
> +	int page_num = 0;
> +
> +	for (addr = vma->vm_start; addr < vma->vm_end; addr += PAGE_SIZE) {
> +		struct page_desc pd;
> +
> +		page_get_desc(vma, addr, &pd, ctx);
> +
> +		if (pd.type != PD_COPY) {
> +			return -EINVAL;
> +		} else {
> +			page_num += 1;
> +		}
> +		
> +	}
> +	return page_num;
> +}
> +
> +/* ATTN: We give "current" to get_user_pages(). This is wrong, but get_user_pages()
> + * does not really need this thing. It just stores some page fault stats there.
> + *
> + * BUG: some archs (f.e. sparc64, but not Intel*) require flush cache pages
> + * before accessing vma.
> + */
> +static int dump_pages(struct vm_area_struct *vma, unsigned long start,
> +		unsigned long end, struct cpt_context *ctx)
> +{
> +#define MAX_PAGE_BATCH 16
> +	struct page *pg[MAX_PAGE_BATCH];
> +	int npages = (end - start)/PAGE_SIZE;
> +	int count = 0;
> +
> +	while (count < npages) {
> +		int copy = npages - count;
> +		int n;
> +
> +		if (copy > MAX_PAGE_BATCH)
> +			copy = MAX_PAGE_BATCH;
> +		n = get_user_pages(current, vma->vm_mm, start, copy,
> +				   0, 1, pg, NULL);
> +		if (n == copy) {
> +			int i;
> +			for (i=0; i<n; i++) {
> +				char *maddr = kmap(pg[i]);
> +				ctx->write(maddr, PAGE_SIZE, ctx);
> +				kunmap(pg[i]);

There is no error handling in this inner loop. Should be fixed imho.

> +			}
> +		} else {
> +			eprintk("get_user_pages fault");
> +			for ( ; n > 0; n--)
> +				page_cache_release(pg[n-1]);
> +			return -EFAULT;
> +		}
> +		start += n*PAGE_SIZE;
> +		count += n;
> +		for ( ; n > 0; n--)
> +			page_cache_release(pg[n-1]);
> +	}
> +	return 0;
> +}
> +
> +static int dump_page_block(struct vm_area_struct *vma,
> +			   struct cpt_page_block *pgb,
> +			   struct cpt_context *ctx)
> +{
> +	int err;
> +	pgb->cpt_len = sizeof(*pgb) + pgb->cpt_end - pgb->cpt_start;
> +	pgb->cpt_type = CPT_OBJ_PAGES;
> +	pgb->cpt_hdrlen = sizeof(*pgb);
> +	pgb->cpt_content = CPT_CONTENT_DATA;
> +
> +	err = ctx->write(pgb, sizeof(*pgb), ctx);
> +	if (!err)
> +		err = dump_pages(vma, pgb->cpt_start, pgb->cpt_end, ctx);
> +
> +	return err;
> +}
> +
> +static int cpt_dump_dentry(struct path *p, cpt_context_t *ctx)
> +{
> +	int len;
> +	char *path;
> +	char *buf;
> +	struct cpt_object_hdr o;
> +
> +	buf = (char *)__get_free_page(GFP_KERNEL);
> +	if (!buf)
> +		return -ENOMEM;
> +
> +	path = d_path(p, buf, PAGE_SIZE);
> +
> +	if (IS_ERR(path)) {
> +		free_page((unsigned long)buf);
> +		return PTR_ERR(path);
> +	}
> +
> +	len = buf + PAGE_SIZE - 1 - path;
> +	o.cpt_len = sizeof(o) + len + 1;
> +	o.cpt_type = CPT_OBJ_NAME;
> +	o.cpt_hdrlen = sizeof(o);
> +	o.cpt_content = CPT_CONTENT_NAME;
> +	path[len] = 0;
> +
> +	ctx->write(&o, sizeof(o), ctx);
> +	ctx->write(path, len + 1, ctx);

Error handling?

> +	free_page((unsigned long)buf);
> +
> +	return 0;
> +}
> +
> +static int dump_one_vma(struct mm_struct *mm,
> +			struct vm_area_struct *vma, struct cpt_context *ctx)
> +{
> +	struct cpt_vma_image *v;
> +	unsigned long addr;
> +	int page_num;
> +	int err;
> +
> +	v = kzalloc(sizeof(*v), GFP_KERNEL);
> +	if (!v)
> +		return -ENOMEM;
> +
> +	v->cpt_len = sizeof(*v);
> +	v->cpt_type = CPT_OBJ_VMA;
> +	v->cpt_hdrlen = sizeof(*v);
> +	v->cpt_content = CPT_CONTENT_ARRAY;
> +
> +	v->cpt_start = vma->vm_start;
> +	v->cpt_end = vma->vm_end;
> +	v->cpt_flags = vma->vm_flags;
> +	if (vma->vm_flags & VM_HUGETLB) {
> +		eprintk("huge TLB VMAs are still not supported\n");
> +		kfree(v);
> +		return -EINVAL;
> +	}
> +	v->cpt_pgprot = vma->vm_page_prot.pgprot;
> +	v->cpt_pgoff = vma->vm_pgoff;
> +	v->cpt_file = CPT_NULL;
> +	v->cpt_vma_type = CPT_VMA_TYPE_0;
> +
> +	page_num = count_vma_pages(vma, ctx);
> +	if (page_num < 0) {
> +		kfree(v);
> +		return -EINVAL;
> +	}

AFAICS, since count_vma_pages only supports pages with PD_COPY, and since
get_page_desc() tags text segment pages (file-mapped and not anonymous since
not written to) as PD_ABSENT, no executable is checkpointable. So, where is the
trick? Am I completely missing something about page mapping?

> +	v->cpt_page_num = page_num;
> +
> +	if (vma->vm_file) {
> +		v->cpt_file = 0;
> +		v->cpt_vma_type = CPT_VMA_FILE;
> +	}
> +
> +	ctx->write(v, sizeof(*v), ctx);

Error handling?

> +	kfree(v);
> +
> +	if (vma->vm_file) {
> +		err = cpt_dump_dentry(&vma->vm_file->f_path, ctx);
> +		if (err < 0)
> +			return err;
> +	}
> +
> +	for (addr = vma->vm_start; addr < vma->vm_end; addr += PAGE_SIZE) {
> +		struct page_desc pd;
> +		struct cpt_page_block pgb;
> +
> +		page_get_desc(vma, addr, &pd, ctx);
> +
> +		if (pd.type == PD_FUNKEY || pd.type == PD_ABSENT) {
> +			eprintk("dump_one_vma: funkey page\n");
> +			return -EINVAL;
> +		}
> +
> +		pgb.cpt_start = addr;
> +		pgb.cpt_end = addr + PAGE_SIZE;
> +		dump_page_block(vma, &pgb, ctx);

Error handling?

> +	}
> +
> +	return 0;
> +}
> +
> +static int cpt_dump_mm_context(struct mm_struct *mm, struct cpt_context *ctx)
> +{
> +#ifdef CONFIG_X86
> +	if (mm->context.size) {
> +		struct cpt_obj_bits b;
> +		int size;
> +
> +		mutex_lock(&mm->context.lock);
> +
> +		b.cpt_type = CPT_OBJ_BITS;
> +		b.cpt_len = sizeof(b);
> +		b.cpt_content = CPT_CONTENT_MM_CONTEXT;
> +		b.cpt_size = mm->context.size * LDT_ENTRY_SIZE;
> +
> +		ctx->write(&b, sizeof(b), ctx);
> +
> +		size = mm->context.size * LDT_ENTRY_SIZE;
> +
> +		ctx->write(mm->context.ldt, size, ctx);

Error handling?

> +
> +		mutex_unlock(&mm->context.lock);
> +	}
> +#endif
> +	return 0;
> +}
> +
> +int cpt_dump_mm(struct task_struct *tsk, struct cpt_context *ctx)
> +{
> +	struct mm_struct *mm = tsk->mm;
> +	struct cpt_mm_image *v;
> +	struct vm_area_struct *vma;
> +	int err;
> +
> +	v = kzalloc(sizeof(*v), GFP_KERNEL);
> +	if (!v)
> +		return -ENOMEM;
> +
> +	v->cpt_len = sizeof(*v);
> +	v->cpt_type = CPT_OBJ_MM;
> +	v->cpt_hdrlen = sizeof(*v);
> +	v->cpt_content = CPT_CONTENT_ARRAY;
> +
> +	down_read(&mm->mmap_sem);
> +	v->cpt_start_code = mm->start_code;
> +	v->cpt_end_code = mm->end_code;
> +	v->cpt_start_data = mm->start_data;
> +	v->cpt_end_data = mm->end_data;
> +	v->cpt_start_brk = mm->start_brk;
> +	v->cpt_brk = mm->brk;
> +	v->cpt_start_stack = mm->start_stack;
> +	v->cpt_start_arg = mm->arg_start;
> +	v->cpt_end_arg = mm->arg_end;
> +	v->cpt_start_env = mm->env_start;
> +	v->cpt_end_env = mm->env_end;
> +	v->cpt_def_flags = mm->def_flags;
> +	v->cpt_flags = mm->flags;
> +	v->cpt_map_count = mm->map_count;
> +
> +	err = ctx->write(v, sizeof(*v), ctx);
> +	kfree(v);
> +	
> +	if (err) {
> +		eprintk("error during writing mm\n");
> +		goto err_up;
> +	}
> +	
> +	for (vma = mm->mmap; vma; vma = vma->vm_next) {
> +		if ((err = dump_one_vma(mm, vma, ctx)) != 0)
> +			goto err_up;
> +	}
> +
> +	err = cpt_dump_mm_context(mm, ctx);
> +
> +err_up:
> +	up_read(&mm->mmap_sem);
> +
> +	return err;
> +}
> +

[...]

Louis

-- 
Dr Louis Rilling			Kerlabs
Skype: louis.rilling			Batiment Germanium
Phone: (+33|0) 6 80 89 08 23		80 avenue des Buttes de Coesmes
http://www.kerlabs.com/			35700 Rennes
-------------- next part --------------
A non-text attachment was scrubbed...
Name: signature.asc
Type: application/pgp-signature
Size: 189 bytes
Desc: Digital signature
URL: <http://lists.openvz.org/pipermail/devel/attachments/20081020/2feeb3cc/attachment-0001.sig>
-------------- next part --------------
_______________________________________________
Containers mailing list
Containers at lists.linux-foundation.org
https://lists.linux-foundation.org/mailman/listinfo/containers


More information about the Devel mailing list
"""#

    /// 002_09e121193730cda6.txt
    static let s002 = #"""
[Date Prev][Date Next][Thread Prev][Thread Next][Date Index][Thread Index]

Re: filecache/swapcache questions [RFC] [RFT] [PATCH] kanoj-mm12-2.3.8 Fix swapoff races



Linus/Andrea/Stephen,

This is the patch that tries to cure the swapoff races with processes
forking, exiting, and (readahead) swapping by faulting. 

Basically, all these operations are synchronized by the process
mmap_sem. Unfortunately, swapoff has to visit all processes, during
which it must hold tasklist_lock, a spinlock. Hence, it can not take
the mmap_sem, a sleeping mutex. So, the patch links up all active
mm's in a list that swapoff can visit (with minor restructuring, 
kswapd can also use this, although it can not hold mmap_sem).
Addition/deletions to the list are protected by a sleeping 
mutex, hence swapoff can grab the individual mmap_sems, while
preventing changes to the list. Effectively, process creation
and destruction are locked out if swapoff is running.

To do this, the lock ordering is mm_sem -> mmap_sem. To 
prevent deadlocks, care must be taken that a process invoking
delete/insert_mmlist does not have its own mmap_sem held. For
this, the do_fork path needs to change so as not to acquire
mmap_sem early, rather only when it is really needed. This does
not open up a resource-ordering problem between kernel_lock and
mmap_sem, since the kernel_lock is a monitor lock that is released
at schedule time, so no deadlocks are possible.

I have just done basic sanity testing on this, I am hoping Andrea 
can run his swapoff stress tests to see whether this patch helps
cure the problem he was seeing.

Thanks.

Kanoj
kanoj@engr.sgi.com


--- /usr/tmp/p_rdiff_a009HP/exec.c	Sun Jun 27 16:51:58 1999
+++ fs/exec.c	Sun Jun 27 15:14:43 1999
@@ -399,6 +399,7 @@
 	up(&mm->mmap_sem);
 	mm_release();
 	mmput(old_mm);
+	insert_mmlist(mm);
 	return 0;
 
 	/*
--- /usr/tmp/p_rdiff_a009HP/sched.h	Sun Jun 27 16:52:01 1999
+++ include/linux/sched.h	Fri Jun 25 17:22:56 1999
@@ -170,6 +170,8 @@
 	atomic_t count;
 	int map_count;				/* number of VMAs */
 	struct semaphore mmap_sem;
+	struct mm_struct *prev;			/* list of allocated mms */
+	struct mm_struct *next;			/* list of allocated mms */
 	unsigned long context;
 	unsigned long start_code, end_code, start_data, end_data;
 	unsigned long start_brk, brk, start_stack;
@@ -191,7 +193,7 @@
 		swapper_pg_dir, 			\
 		ATOMIC_INIT(1), 1,			\
 		__MUTEX_INITIALIZER(name.mmap_sem),	\
-		0,					\
+		&init_mm, &init_mm, 0,			\
 		0, 0, 0, 0,				\
 		0, 0, 0, 				\
 		0, 0, 0, 0,				\
@@ -611,6 +613,7 @@
 /*
  * Routines for handling mm_structs
  */
+extern struct semaphore mm_sem;
 extern struct mm_struct * mm_alloc(void);
 static inline void mmget(struct mm_struct * mm)
 {
@@ -619,6 +622,22 @@
 extern void mmput(struct mm_struct *);
 /* Remove the current tasks stale references to the old mm_struct */
 extern void mm_release(void);
+static inline void insert_mmlist(struct mm_struct * mm)
+{
+	down(&mm_sem);
+	mm->prev = &init_mm;
+	mm->next = init_mm.next;
+	init_mm.next->prev = mm;
+	init_mm.next = mm;
+	up(&mm_sem);
+}
+static inline void delete_mmlist(struct mm_struct * mm)
+{
+	down(&mm_sem);
+	mm->next->prev = mm->prev;
+	mm->prev->next = mm->next;
+	up(&mm_sem);
+}
 
 extern int  copy_thread(int, unsigned long, unsigned long, struct task_struct *, struct pt_regs *);
 extern void flush_thread(void);
--- /usr/tmp/p_rdiff_a009HP/fork.c	Sun Jun 27 16:52:04 1999
+++ kernel/fork.c	Sun Jun 27 15:28:34 1999
@@ -351,6 +351,7 @@
 		release_segments(mm);
 		exit_mmap(mm);
 		free_page_tables(mm);
+		delete_mmlist(mm);
 		kmem_cache_free(mm_cachep, mm);
 	}
 }
@@ -383,7 +384,11 @@
 	retval = new_page_tables(tsk);
 	if (retval)
 		goto free_mm;
+	insert_mmlist(mm);
+
+	down(&current->mm->mmap_sem);
 	retval = dup_mmap(mm);
+	up(&current->mm->mmap_sem);
 	if (retval)
 		goto free_pt;
 	up(&mm->mmap_sem);
@@ -549,7 +554,6 @@
 
 	*p = *current;
 
-	down(&current->mm->mmap_sem);
 	lock_kernel();
 
 	retval = -EAGAIN;
@@ -676,7 +680,6 @@
 	++total_forks;
 bad_fork:
 	unlock_kernel();
-	up(&current->mm->mmap_sem);
 fork_out:
 	if ((clone_flags & CLONE_VFORK) && (retval > 0)) 
 		down(&sem);
--- /usr/tmp/p_rdiff_a009HP/mmap.c	Sun Jun 27 16:52:07 1999
+++ mm/mmap.c	Sun Jun 27 15:20:08 1999
@@ -39,6 +39,8 @@
 /* SLAB cache for vm_area_struct's. */
 kmem_cache_t *vm_area_cachep;
 
+struct semaphore mm_sem;
+
 int sysctl_overcommit_memory;
 
 /* Check that a process has enough memory to allocate a
@@ -812,6 +814,7 @@
 {
 	struct vm_area_struct * mpnt;
 
+	down(&mm->mmap_sem);
 	mpnt = mm->mmap;
 	mm->mmap = mm->mmap_avl = mm->mmap_cache = NULL;
 	mm->rss = 0;
@@ -843,6 +846,7 @@
 		printk("exit_mmap: map count is %d\n", mm->map_count);
 
 	clear_page_tables(mm, 0, USER_PTRS_PER_PGD);
+	up(&mm->mmap_sem);
 }
 
 /* Insert vm structure into process list sorted by address
@@ -957,6 +961,7 @@
 
 void __init vma_init(void)
 {
+	init_MUTEX(&mm_sem);
 	vm_area_cachep = kmem_cache_create("vm_area_struct",
 					   sizeof(struct vm_area_struct),
 					   0, SLAB_HWCACHE_ALIGN,
--- /usr/tmp/p_rdiff_a009HP/page_alloc.c	Sun Jun 27 16:52:09 1999
+++ mm/page_alloc.c	Sun Jun 27 15:39:58 1999
@@ -385,10 +385,9 @@
 }
 
 /*
- * The tests may look silly, but it essentially makes sure that
- * no other process did a swap-in on us just as we were waiting.
+ * Concurrent swap-in via swapoff is interlocked out.
  *
- * Also, don't bother to add to the swap cache if this page-in
+ * Don't bother to add to the swap cache if this page-in
  * was due to a write access.
  */
 void swap_in(struct task_struct * tsk, struct vm_area_struct * vma,
@@ -400,11 +399,6 @@
 	if (!page_map) {
 		swapin_readahead(entry);
 		page_map = read_swap_cache(entry);
-	}
-	if (pte_val(*page_table) != entry) {
-		if (page_map)
-			free_page_and_swap_cache(page_address(page_map));
-		return;
 	}
 	if (!page_map) {
 		set_pte(page_table, BAD_PAGE);
--- /usr/tmp/p_rdiff_a009HP/swapfile.c	Sun Jun 27 16:52:12 1999
+++ mm/swapfile.c	Sun Jun 27 15:27:49 1999
@@ -259,20 +259,20 @@
 	}
 }
 
-static void unuse_process(struct mm_struct * mm, unsigned long entry, 
+static void unuse_mm(struct mm_struct * mm, unsigned long entry, 
 			unsigned long page)
 {
 	struct vm_area_struct* vma;
 
 	/*
-	 * Go through process' page directory.
+	 * Go through address space page directory.
 	 */
-	if (!mm || mm == &init_mm)
-		return;
+	down(&mm->mmap_sem);
 	for (vma = mm->mmap; vma; vma = vma->vm_next) {
 		pgd_t * pgd = pgd_offset(mm, vma->vm_start);
 		unuse_vma(vma, pgd, entry, page);
 	}
+	up(&mm->mmap_sem);
 	return;
 }
 
@@ -283,8 +283,8 @@
  */
 static int try_to_unuse(unsigned int type)
 {
+	struct mm_struct * mm;
 	struct swap_info_struct * si = &swap_info[type];
-	struct task_struct *p;
 	struct page *page_map;
 	unsigned long entry, page;
 	int i;
@@ -316,10 +316,12 @@
   			return -ENOMEM;
 		}
 		page = page_address(page_map);
-		read_lock(&tasklist_lock);
-		for_each_task(p)
-			unuse_process(p->mm, entry, page);
-		read_unlock(&tasklist_lock);
+		down(&mm_sem);
+		mm = init_mm.next;
+		while (mm != &init_mm) {
+			unuse_mm(mm, entry, page);
+		}
+		up(&mm_sem);
 		shm_unuse(entry, page);
 		/* Now get rid of the extra reference to the temporary
                    page we've been using. */
--
To unsubscribe, send a message with 'unsubscribe linux-mm' in
the body to majordomo@kvack.org.  For more info on Linux MM,
see: http://humbolt.geo.uu.nl/Linux-MM/
"""#

    /// 003_ad1ce59d523a4214.txt
    static let s003 = #"""
[ofa-general] Re: [PATCH 1 of 9] Lock the entire mm to prevent any mmu related operation to happen
Andrea Arcangeli
andrea at qumranet.com
Fri Apr 25 09:56:40 PDT 2008
I somehow lost missed this email in my inbox, found it now because it
was strangely still unread... Sorry for the late reply!
On Tue, Apr 22, 2008 at 03:06:24PM +1000, Rusty Russell wrote:
> On Wednesday 09 April 2008 01:44:04 Andrea Arcangeli wrote:
> > --- a/include/linux/mm.h
> > +++ b/include/linux/mm.h
> > @@ -1050,6 +1050,15 @@
> > unsigned long addr, unsigned long len,
> > unsigned long flags, struct page **pages);
> >
> > +struct mm_lock_data {
> > + spinlock_t **i_mmap_locks;
> > + spinlock_t **anon_vma_locks;
> > + unsigned long nr_i_mmap_locks;
> > + unsigned long nr_anon_vma_locks;
> > +};
> > +extern struct mm_lock_data *mm_lock(struct mm_struct * mm);
> > +extern void mm_unlock(struct mm_struct *mm, struct mm_lock_data *data);
>
> As far as I can tell you don't actually need to expose this struct at all?
Yes, it should be possible to only expose 'struct mm_lock_data;'.
> > + data->i_mmap_locks = vmalloc(nr_i_mmap_locks *
> > + sizeof(spinlock_t));
>
> This is why non-typesafe allocators suck. You want 'sizeof(spinlock_t *)'
> here.
>
> > + data->anon_vma_locks = vmalloc(nr_anon_vma_locks *
> > + sizeof(spinlock_t));
>
> and here.
Great catch! (it was temporarily wasting some ram which isn't nice at all)
> > + err = -EINTR;
> > + i_mmap_lock_last = NULL;
> > + nr_i_mmap_locks = 0;
> > + for (;;) {
> > + spinlock_t *i_mmap_lock = (spinlock_t *) -1UL;
> > + for (vma = mm->mmap; vma; vma = vma->vm_next) {
> ...
> > + data->i_mmap_locks[nr_i_mmap_locks++] = i_mmap_lock;
> > + }
> > + data->nr_i_mmap_locks = nr_i_mmap_locks;
>
> How about you track your running counter in data->nr_i_mmap_locks, leave
> nr_i_mmap_locks alone, and BUG_ON(data->nr_i_mmap_locks != nr_i_mmap_locks)?
>
> Even nicer would be to wrap this in a "get_sorted_mmap_locks()" function.
I'll try to clean this up further and I'll make a further update for review.
> Unfortunately, I just don't think we can fail locking like this. In your next
> patch unregistering a notifier can fail because of it: that not usable.
Fortunately I figured out we don't really need mm_lock in unregister
because it's ok to unregister in the middle of the range_begin/end
critical section (that's definitely not ok for register that's why
register needs mm_lock). And it's perfectly ok to fail in register().
Also it wasn't ok to unpin the module count in ->release as ->release
needs to 'ret' to get back to the mmu notifier code. And without any
unregister at all, the module can't be unloaded at all which
is quite unacceptable...
The logic is to prevent mmu_notifier_register to race with
mmu_notifier_release because it takes the mm_users pin (implicit or
explicit, and then mmput just after mmu_notifier_register
returns). Then _register serializes against all the mmu notifier
methods (except ->release) with srcu (->release can't run thanks to
the mm_users pin). The mmu_notifier_mm->lock then serializes the
modification on the list (register vs unregister) and it ensures one
and only one between _unregister and _releases calls ->release before
_unregister returns. All other methods runs freely with srcu. Having
the guarante that ->release is called just before all pages are freed
or inside _unregister, allows the module to zap and freeze its
secondary mmu inside ->release with the race condition of exit()
against mmu_notifier_unregister internally by the mmu notifier code
and without dependency on exit_files/exit_mm ordering depending if the
fd of the driver is open the filetables or in the vma only. The
mmu_notifier_mm can be reset to 0 only after the last mmdrop.
About the mm_count refcounting for _release and _unregiste: no mmu
notifier and not even mmu_notifier_unregister and _release can cope
with mmu_notfier_mm list and srcu structures going away out of
order. exit_mmap is safe as it holds an mm_count implicitly because
mmdrop is run after exit_mmap returns. mmu_notifier_unregister is safe
too as _register takes the mm_count pin. We can't prevent
mmu_notifer_mm to go away with mm_users as that will screwup the vma
filedescriptor closure that only happens inside exit_mmap (mm_users
pinned prevents exit_mmap to run, and it can only be taken temporarily
until _register returns).
More information about the general
mailing list
"""#

    /// 004_135183a29977c0f3.txt
    static let s004 = #"""
On Fri, 7 May 2010 00:20:52 +0100 Mel Gorman <mel@xxxxxxxxx> wrote: > vma_adjust() is updating anon VMA information without locks being taken. > In contrast, file-backed mappings use the i_mmap_lock and this lack of > locking can result in races with users of rmap_walk such as page migration. > vma_address() can return -EFAULT for an address that will soon be valid. > For migration, this potentially leaves a dangling migration PTE behind > which can later cause a BUG_ON to trigger when the page is faulted in. > > With the recent anon_vma changes, there can be more than one anon_vma->lock > to take when walking a list of anon_vma_chains but as the order of anon_vmas > cannot be guaranteed, rmap_walk cannot take multiple locks without > potentially deadlocking. > > To resolve this problem, this patch has rmap_walk walk the anon_vma_chain > list but always starting from the "root" anon_vma which is the oldest > anon_vma in the list. It starts by locking the anon_vma lock associated > with a page. It then finds the "root" anon_vma using the anon_vma_chains > "same_vma" list as it is strictly ordered. The root anon_vma lock is taken > and rmap_walk traverses the list. This allows multiple locks to be taken > as the list is always traversed in the same direction. > > As spotted by Rik, to avoid any deadlocks versus mmu_notify, the order that > anon_vmas is locked in by mm_take_all_locks is reversed by this patch so that > both rmap_walk and mm_take_all_locks lock anon_vmas in the order of old->new. > > For vma_adjust(), the locking behaviour prior to the anon_vma is restored > so that rmap_walk() can be sure of the integrity of the VMA information and > lists when the anon_vma lock is held. With this patch, the vma->anon_vma->lock > is taken if > > a) If there is any overlap with the next VMA due to the adjustment > b) If there is a new VMA is being inserted into the address space > c) If the start of the VMA is being changed so that the > relationship between vm_start and vm_pgoff is preserved > for vma_address() > > Signed-off-by: Mel Gorman <mel@xxxxxxxxx> > --- > include/linux/rmap.h | 4 ++ > mm/ksm.c | 13 ++++++- > mm/mmap.c | 14 ++++++- > mm/rmap.c | 97 ++++++++++++++++++++++++++++++++++++++++++++++---- > 4 files changed, 118 insertions(+), 10 deletions(-) > > diff --git a/include/linux/rmap.h b/include/linux/rmap.h > index 7721674..1dc949f 100644 > --- a/include/linux/rmap.h > +++ b/include/linux/rmap.h > @@ -121,6 +121,10 @@ int anon_vma_prepare(struct vm_area_struct *); > void unlink_anon_vmas(struct vm_area_struct *); > int anon_vma_clone(struct vm_area_struct *, struct vm_area_struct *); > int anon_vma_fork(struct vm_area_struct *, struct vm_area_struct *); > +struct anon_vma *anon_vma_lock_nested(struct anon_vma *prev, > + struct anon_vma *next, struct anon_vma *root); > +struct anon_vma *anon_vma_lock_root(struct anon_vma *anon_vma); > +struct anon_vma *page_anon_vma_lock_root(struct page *page); > void __anon_vma_link(struct vm_area_struct *); > void anon_vma_free(struct anon_vma *); > > diff --git a/mm/ksm.c b/mm/ksm.c > index 3666d43..1db8656 100644 > --- a/mm/ksm.c > +++ b/mm/ksm.c > @@ -1655,6 +1655,7 @@ int rmap_walk_ksm(struct page *page, int (*rmap_one)(struct page *, > { > struct stable_node *stable_node; > struct hlist_node *hlist; > + struct anon_vma *nested_anon_vma = NULL; > struct rmap_item *rmap_item; > int ret = SWAP_AGAIN; > int search_new_forks = 0; > @@ -1671,9 +1672,16 @@ again: > struct anon_vma_chain *vmac; > struct vm_area_struct *vma; > > - spin_lock(&anon_vma->lock); > + anon_vma = anon_vma_lock_root(anon_vma); > + if (nested_anon_vma) { > + spin_unlock(&nested_anon_vma->lock); > + nested_anon_vma = NULL; > + } > list_for_each_entry(vmac, &anon_vma->head, same_anon_vma) { > vma = vmac->vma; > + nested_anon_vma = anon_vma_lock_nested(nested_anon_vma, > + vma->anon_vma, anon_vma); > + > if (rmap_item->address < vma->vm_start || > rmap_item->address >= vma->vm_end) > continue; > @@ -1697,6 +1705,9 @@ again: > if (!search_new_forks++) > goto again; > out: > + if (nested_anon_vma) > + spin_unlock(&nested_anon_vma->lock); > + > return ret; > } > > diff --git a/mm/mmap.c b/mm/mmap.c > index f90ea92..b447d5b 100644 > --- a/mm/mmap.c > +++ b/mm/mmap.c > @@ -505,6 +505,7 @@ int vma_adjust(struct vm_area_struct *vma, unsigned long start, > struct vm_area_struct *next = vma->vm_next; > struct vm_area_struct *importer = NULL; > struct address_space *mapping = NULL; > + struct anon_vma *anon_vma = NULL; > struct prio_tree_root *root = NULL; > struct file *file = vma->vm_file; > long adjust_next = 0; > @@ -578,6 +579,11 @@ again: remove_next = 1 + (end > next->vm_end); > } > } > > + if (vma->anon_vma && (insert || importer || start != vma->vm_start)) { > + anon_vma = vma->anon_vma; > + spin_lock(&anon_vma->lock); > + } > + > if (root) { > flush_dcache_mmap_lock(mapping); > vma_prio_tree_remove(vma, root); > @@ -620,6 +626,9 @@ again: remove_next = 1 + (end > next->vm_end); > if (mapping) > spin_unlock(&mapping->i_mmap_lock); > > + if (anon_vma) > + spin_unlock(&anon_vma->lock); > + > if (remove_next) { > if (file) { > fput(file); > @@ -2556,8 +2565,9 @@ int mm_take_all_locks(struct mm_struct *mm) > for (vma = mm->mmap; vma; vma = vma->vm_next) { > if (signal_pending(current)) > goto out_unlock; > + /* Lock the anon_vmas in the same order rmap_walk would */ > if (vma->anon_vma) > - list_for_each_entry(avc, &vma->anon_vma_chain, same_vma) > + list_for_each_entry_reverse(avc, &vma->anon_vma_chain, same_vma) > vm_lock_anon_vma(mm, avc->anon_vma); > } > > @@ -2620,7 +2630,7 @@ void mm_drop_all_locks(struct mm_struct *mm) > > for (vma = mm->mmap; vma; vma = vma->vm_next) { > if (vma->anon_vma) > - list_for_each_entry(avc, &vma->anon_vma_chain, same_vma) > + list_for_each_entry_reverse(avc, &vma->anon_vma_chain, same_vma) > vm_unlock_anon_vma(avc->anon_vma); > if (vma->vm_file && vma->vm_file->f_mapping) > vm_unlock_mapping(vma->vm_file->f_mapping); > diff --git a/mm/rmap.c b/mm/rmap.c > index 85f203e..2e65a75 100644 > --- a/mm/rmap.c > +++ b/mm/rmap.c > @@ -236,6 +236,81 @@ int anon_vma_fork(struct vm_area_struct *vma, struct vm_area_struct *pvma) > return -ENOMEM; > } > > +/* > + * When walking an anon_vma_chain and locking each anon_vma encountered, > + * this function is responsible for checking if the next VMA is the > + * same as the root, locking it if not and released the previous lock > + * if necessary. > + * > + * It is assumed the caller has locked the root anon_vma > + */ > +struct anon_vma *anon_vma_lock_nested(struct anon_vma *prev, > + struct anon_vma *next, struct anon_vma *root) > +{ > + if (prev) > + spin_unlock(&prev->lock); > + if (next == root) > + return NULL; > + spin_lock_nested(&next->lock, SINGLE_DEPTH_NESTING); > + return next; > +} > + > +/* > + * Given an anon_vma, find the root of the chain, lock it and return the > + * root. This must be called with the rcu_read_lock held > + */ > +struct anon_vma *anon_vma_lock_root(struct anon_vma *anon_vma) > +{ > + struct anon_vma *root_anon_vma; > + struct anon_vma_chain *avc, *root_avc; > + struct vm_area_struct *vma; > + > + /* Lock the same_anon_vma list and make sure we are on a chain */ > + spin_lock(&anon_vma->lock); > + if (list_empty(&anon_vma->head)) { > + spin_unlock(&anon_vma->lock); > + return NULL; > + } > + > + /* > + * Get the root anon_vma on the list by depending on the ordering > + * of the same_vma list setup by __page_set_anon_rmap. Basically > + * we are doing > + * > + * local anon_vma -> local vma -> root vma -> root anon_vma > + */ > + avc = list_first_entry(&anon_vma->head, struct anon_vma_chain, same_anon_vma); > + vma = avc->vma; > + root_avc = list_entry(vma->anon_vma_chain.prev, struct anon_vma_chain, same_vma); > + root_anon_vma = root_avc->anon_vma; > + > + /* Get the lock of the root anon_vma */ > + if (anon_vma != root_anon_vma) { > + VM_BUG_ON(!rcu_read_lock_held()); > + spin_unlock(&anon_vma->lock); > + spin_lock(&root_anon_vma->lock); > + } I'm sorry but I don't think I understand this. Could you help me ? IIUC, anon_vma_chain is linked as 2D-mesh anon_vma1 anon_vma2 anon_vma3 | | | vma1 ----- 1 -------- 2 --------- 3 ----- | | | vma2 ----- 4 -------- 5 ---------- 6 ----- | | | vma3 ----- 7 -------- 8 ---------- 9 ----- Here, * vertical link is anon_vma->head, avc->same_anon_vma link. * horizontal link is vma->anon_vma_chain, avc->same_vma link. * 1-9 are avcs. When scanning pages, we may see a page whose anon_vma is anon_vma1 or anon_vma2 or anon_vma3. When we see anon_vma3 in page->mapping, we lock anon_vma1 and chase avc1->avc4->avc7. Then, start from vma1. Next, we visit vma2, we lock anon_vma2. At the last, we visit vma3 and lock anon_vma3.....And all are done under anon_vma1->lock. Right ? Hmm, one concern is anon_vma3 -> avc3 -> vma1 -> avc1 -> anon_vma1 chasing. What will prevent vma1 disappear right after releasling anon_vma3->lock ? ex) a1) At we chase, anon_vma3 -> avc3 -> vma1 -> anon_vma1, link was following. anon_vma1 anon_vma2 anon_vma3 | | | vma1 ----- 1 -------- 2 --------- 3 ----- | | | vma2 ----- 4 -------- 5 ---------- 6 ----- | | | vma3 ----- 7 -------- 8 ---------- 9 ----- We hold lock on anon_vma3. a2) After releasing anon_vma3 lock. vma1 can be unlinked. anon_vma1 anon_vma2 anon_vma3 | | | vma1 removed. | | | vma2 ----- 4 -------- 5 ---------- 6 ----- | | | vma3 ----- 7 -------- 8 ---------- 9 ----- But we know anon_vma1->head is not empty, and it's accessable. Then, no problem for our purpose. Right ? b1) Another thinking. At we chase, anon_vma3 -> avc3 -> vma1 -> anon_vma1, link was following. anon_vma1 anon_vma2 anon_vma3 | | | vma1 ----- 1 -------- 2 --------- 3 ----- | | | vma2 ----- 4 -------- 5 ---------- 6 ----- | | | vma3 ----- 7 -------- 8 ---------- 9 ----- We hold lock on anon_vma3. So, anon_vma1 anon_vma2 anon_vma3 | | | vma1 ----removed -----removed ------ 3 ----- | | | vma2 ----- 4 -------- 5 ---------- 6 ----- | | | vma3 ----- 7 -------- 8 ---------- 9 ----- we may see half-broken link while we take anon_vma3->lock. In this case, anon_vma1 can be caugt. Don't we need this ? void unlink_anon_vmas(struct vm_area_struct *vma) { struct anon_vma_chain *avc, *next; /* Unlink each anon_vma chained to the VMA. */ - list_for_each_entry_safe_reverse(avc, next, &vma->anon_vma_chain, same_vma) { + list_for_each_entry_safe_reverse(avc, next, &vma->anon_vma_chain, same_vma) { anon_vma_unlink(avc); list_del(&avc->same_vma); anon_vma_chain_free(avc); } } head avc should be removed last... Hmm ? I'm sorry if all are in correct order already. Thanks, -Kame -- To unsubscribe, send a message with 'unsubscribe linux-mm' in the body to majordomo@xxxxxxxxxx For more info on Linux MM, see: http://www.linux-mm.org/ . Don't email: <a href=mailto:"dont@xxxxxxxxx"> email@xxxxxxxxx </a>
"""#

}
