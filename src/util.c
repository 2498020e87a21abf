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
