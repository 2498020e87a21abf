/* SPDX-License-Identifier: BSD-2-Clause */
/* Small helpers shared by faith-loader's files: messages, numbers, bpffs. */
#ifndef FAITH_UTIL_H
#define FAITH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Messages go to stderr, prefixed with the program name. */
void faith_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void faith_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Strict unsigned parse: decimal or 0x hex, whole string, within max. */
bool parse_u32(const char *text, uint32_t max, uint32_t *out);
/* Stricter: decimal digits only, no leading zero, within max. */
bool parse_dec_u32(const char *text, uint32_t max, uint32_t *out);

/* dir + "/" + name into buf; false if it does not fit. */
bool path_join(char *buf, size_t len, const char *dir, const char *name);

/*
 * Make sure dir exists on a bpf filesystem, mounting one if needed.
 * -ENOTUNIQ: it would have to mount one in a private mount namespace
 * (ip netns exec), where the pins would not outlive the command.
 */
int bpffs_prepare(const char *dir);
/* If dir is itself a bpffs mount point that is now empty, unmount it. */
void bpffs_release(const char *dir);

/* Explain a negative errno from a BPF or netlink call in words. */
const char *faith_strerror(int err);

#endif /* FAITH_UTIL_H */
