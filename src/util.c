// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "util.h"

static void vmsg(const char *kind, const char *fmt, va_list ap)
{
	fprintf(stderr, "faith-loader: %s", kind);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void faith_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("error: ", fmt, ap);
	va_end(ap);
}

void faith_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

bool parse_u32(const char *text, uint32_t max, uint32_t *out)
{
	unsigned long long val;
	char *end;

	if (!text || !*text || *text == '-' || *text == '+' || *text == ' ')
		return false;
	errno = 0;
	val = strtoull(text, &end, 0);
	if (errno || *end || val > max)
		return false;
	*out = (uint32_t)val;
	return true;
}

bool parse_dec_u32(const char *text, uint32_t max, uint32_t *out)
{
	uint64_t val = 0;

	/* A leading zero is refused, not read as octal or ignored: "010"
	 * means 8 to some and 10 to others. */
	if (!text || !*text || (text[0] == '0' && text[1]))
		return false;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		val = val * 10 + (uint64_t)(*p - '0');
		if (val > max)
			return false;
	}
	*out = (uint32_t)val;
	return true;
}

bool path_join(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n > 0 && (size_t)n < len;
}

static bool on_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

/* The directory part of path, or "." / "/". */
static void parent_of(const char *path, char *buf, size_t len)
{
	char *slash;

	snprintf(buf, len, "%s", path);
	slash = strrchr(buf, '/');
	if (!slash)
		snprintf(buf, len, ".");
	else if (slash == buf)
		buf[1] = '\0';
	else
		*slash = '\0';
}

/* Is pid a kernel thread (PF_KTHREAD in /proc/PID/stat's flags)? */
static bool is_kthread(int pid)
{
	char path[32], buf[512], *end;
	unsigned int flags = 0;
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	end = strrchr(buf, ')');	/* the command name may hold anything */
	return end && sscanf(end + 1, " %*c %*d %*d %*d %*d %*d %u", &flags) == 1 &&
	       (flags & 0x00200000);	/* PF_KTHREAD */
}

static ino_t mnt_ns_of(const char *proc)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%s/ns/mnt", proc);
	return stat(path, &st) ? 0 : st.st_ino;
}

/*
 * Does this process run in a mount namespace of its own, unlike PID 1?  A
 * bpffs mounted there vanishes with it (ip netns exec makes one per
 * command).  Some inits cannot be inspected, not even by root: kthreadd
 * then stands in, a kernel thread always being in the initial namespaces.
 * If neither can be read, give the benefit of the doubt.
 */
static bool private_mnt_ns(void)
{
	ino_t init = mnt_ns_of("1"), self = mnt_ns_of("self");

	if (!init && is_kthread(2))
		init = mnt_ns_of("2");
	return init && self && init != self;
}

int bpffs_prepare(const char *dir)
{
	char parent[PATH_MAX];

	if (on_bpffs(dir))
		return 0;
	parent_of(dir, parent, sizeof(parent));
	if (!on_bpffs(parent)) {
		/* The usual place gets the usual mount; elsewhere, the pin
		 * directory itself becomes the mount point. */
		const char *where = strcmp(parent, "/sys/fs/bpf") ? dir : parent;

		if (private_mnt_ns())
			return -ENOTUNIQ;
		if (mkdir(where, 0700) && errno != EEXIST)
			return -errno;
		if (mount("bpf", where, "bpf", 0, "mode=0700"))
			return -errno;
		if (where == dir)
			return 0;
	}
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	return on_bpffs(dir) ? 0 : -ENOTDIR;
}

void bpffs_release(const char *dir)
{
	char parent[PATH_MAX];
	struct stat self, up;

	parent_of(dir, parent, sizeof(parent));
	if (stat(dir, &self) || stat(parent, &up))
		return;
	if (self.st_dev != up.st_dev && on_bpffs(dir))
		umount2(dir, MNT_DETACH);
	rmdir(dir);
}

const char *faith_strerror(int err)
{
	switch (-err) {
	case EPERM:
	case EACCES:
		return "permission denied (faith-loader needs root: CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN)";
	default:
		return strerror(err < 0 ? -err : err);
	}
}
