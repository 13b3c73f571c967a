// SPDX-License-Identifier: GPL-2.0
/*
 * kcb_ctl.c - the benchmark's controls, /sys/kernel/debug/kcovbench/:
 *
 *	run	write a spec (kcb_spec.c): the run happens in the writer,
 *		which returns when it is over (0 written bytes never; the
 *		spec's length on success).  -EINVAL for a bad spec, -EBUSY
 *		while another run is in progress, -EINTR if the writer is
 *		signalled (the threads stop within one batch).
 *		Read: "idle", "running: SPEC", "done: SPEC" or
 *		"failed ERRNO: SPEC" (the canonical spec, defaults filled in).
 *	results	the last run's JSON (kcb_json.c), snapshotted at open().
 *		-EINVAL if there is none: no run yet, or the last write
 *		failed (each write that starts clears the old results, so
 *		results never belong to an older spec).  -EBUSY during a run.
 *	variants  what config= takes: one upstream configuration a line
 *		("config openbsd-1.49 = obsd-1.49/cas"), then every front end
 *		x claim pair ("combo netbsd/cas", "broken" for the control),
 *		and what remote= takes: each design with the configuration
 *		of its hooks and its contexts ("remote linux-percpu
 *		hooks=linux task softirq"), then the request-rate baseline
 *		("baseline hooks-only hooks=linux task softirq").
 *
 * The writer holds the file open, and an open debugfs file holds a
 * reference on its module: rmmod during a run fails (-EAGAIN, "in use")
 * and leaves the run alone.  The load-time run (module parameter run=)
 * happens in module init, before these files exist.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/debugfs.h>
#include <linux/cpu.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include "kcb_run.h"

/* One run at a time (the kthreads own kcb_pcpu); it guards results. */
static DEFINE_MUTEX(run_lock);
static char *results;			/* [run_lock] kvmalloc()ed JSON */
static size_t results_len;		/* [run_lock] */

static DEFINE_SPINLOCK(status_lock);
static char status[KCB_SPEC_MAX + 32] = "idle";	/* [status_lock] */

static struct dentry *dir;

static __printf(1, 2) void set_status(const char *fmt, ...)
{
	va_list ap;

	spin_lock(&status_lock);
	va_start(ap, fmt);
	vscnprintf(status, sizeof(status), fmt, ap);
	va_end(ap);
	spin_unlock(&status_lock);
}

/* Parse text (modified) and run it; the results replace the old ones. */
static int ctl_run(char *text)
{
	struct kcb_results res = { };
	char canon[KCB_SPEC_MAX] = "bad spec";
	struct kcb_spec spec;
	size_t len;
	char *json;
	int err;

	if (!mutex_trylock(&run_lock))
		return -EBUSY;
	kvfree(results);
	results = NULL;
	results_len = 0;
	/* The spec's CPUs stay online, and its threads on them, till the end. */
	cpus_read_lock();
	err = kcb_spec_parse(text, &spec);
	if (!err) {
		kcb_spec_print(&spec, canon, sizeof(canon));
		set_status("running: %s\n", canon);
		err = kcb_results_alloc(&res, &spec);
	}
	if (!err)
		err = kcb_run(&spec, &res);
	cpus_read_unlock();
	if (!err)
		err = kcb_json(&res, &json, &len);
	if (!err) {
		kcb_results_log(&res);
		results = json;
		results_len = len;
		set_status("done: %s\n", canon);
	} else {
		set_status("failed %d: %s\n", err, canon);
	}
	kcb_results_free(&res);
	kcb_spec_free(&spec);
	mutex_unlock(&run_lock);
	return err;
}

static ssize_t run_write(struct file *file, const char __user *ubuf,
			 size_t count, loff_t *ppos)
{
	char *text;
	int err;

	if (!count || count >= KCB_SPEC_MAX)
		return -EINVAL;
	text = memdup_user_nul(ubuf, count);
	if (IS_ERR(text))
		return PTR_ERR(text);
	/* A NUL inside would hide what follows it from the parser. */
	err = strlen(text) != count ? -EINVAL : ctl_run(text);
	kfree(text);
	return err ? err : count;
}

static ssize_t run_read(struct file *file, char __user *ubuf, size_t count,
			loff_t *ppos)
{
	char buf[sizeof(status)];

	spin_lock(&status_lock);
	memcpy(buf, status, sizeof(buf));
	spin_unlock(&status_lock);
	return simple_read_from_buffer(ubuf, count, ppos, buf, strlen(buf));
}

static const struct file_operations run_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = run_read,
	.write = run_write,
	.llseek = default_llseek,
};

struct snapshot {
	size_t len;
	char text[];
};

static int results_open(struct inode *inode, struct file *file)
{
	struct snapshot *s = NULL;
	int err = 0;

	if (!mutex_trylock(&run_lock))
		return -EBUSY;
	if (!results)
		err = -EINVAL;
	else if (!(s = kvmalloc(sizeof(*s) + results_len, GFP_KERNEL)))
		err = -ENOMEM;
	if (s) {
		s->len = results_len;
		memcpy(s->text, results, results_len);
	}
	mutex_unlock(&run_lock);
	file->private_data = s;
	return err;
}

static ssize_t results_read(struct file *file, char __user *ubuf, size_t count,
			    loff_t *ppos)
{
	struct snapshot *s = file->private_data;

	return simple_read_from_buffer(ubuf, count, ppos, s->text, s->len);
}

static int results_release(struct inode *inode, struct file *file)
{
	kvfree(file->private_data);
	return 0;
}

static const struct file_operations results_fops = {
	.owner = THIS_MODULE,
	.open = results_open,
	.read = results_read,
	.release = results_release,
	.llseek = default_llseek,
};

static void remote_line(struct seq_file *m, const char *kind,
			const struct kcb_remote_ops *r)
{
	seq_printf(m, "%s %s hooks=%s task%s\n", kind, r->name, r->config,
		   r->softirq ? " softirq" : "");
}

static int variants_show(struct seq_file *m, void *v)
{
	int i;

	for (i = 0; i < kcb_nconfigs; i++)
		seq_printf(m, "config %s = %s/%s\n", kcb_configs[i].name,
			   kcb_configs[i].combo->fe->name,
			   kcb_configs[i].combo->pair->name);
	for (i = 0; i < kcb_ncombos; i++) {
		const struct kcb_combo *c = kcb_combo(i);

		seq_printf(m, "%s %s/%s\n", c->pair->broken ? "broken" : "combo",
			   c->fe->name, c->pair->name);
	}
	/*
	 * remote= runs: "remote NAME hooks=CONFIG CONTEXT...", the design,
	 * the configuration its sections' records call (scripts pick the
	 * designs on Linux's hooks by it) and the contexts it has; then the
	 * request-rate baseline (remote=hooks-only records=N), as "baseline".
	 */
	for (i = 0; i < kcb_nremotes; i++)
		remote_line(m, "remote", kcb_remotes[i]);
	remote_line(m, "baseline", &kcb_remote_hooks_only);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(variants);

int kcb_ctl_init(const char *run_at_load)
{
	if (run_at_load) {
		char *text = kstrdup(run_at_load, GFP_KERNEL);
		int err = text ? ctl_run(text) : -ENOMEM;

		kfree(text);
		if (err) {
			pr_err("run=\"%s\" failed: %d\n", run_at_load, err);
			kvfree(results);
			results = NULL;
			return err;
		}
	}
	/* Without debugfs the module still loads: the files are optional. */
	dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("run", 0600, dir, NULL, &run_fops);
	debugfs_create_file("results", 0400, dir, NULL, &results_fops);
	debugfs_create_file("variants", 0444, dir, NULL, &variants_fops);
	return 0;
}

void kcb_ctl_exit(void)
{
	debugfs_remove_recursive(dir);
	kvfree(results);
	results = NULL;
}
