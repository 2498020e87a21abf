/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tiny check/report helpers for the C tests, header-only.  Output follows
 * tests/README.md: one line per check,
 *
 *	ok - what was checked
 *	not ok - what was checked
 *	skip - what was not checked: why
 *
 * diagnostics on lines starting with '#', and a last line
 * "N passed, N failed" (", N skipped" appended when some were skipped).
 * Include it from exactly one .c file: the counters are static.
 */
#ifndef FAITH_TESTLIB_H
#define FAITH_TESTLIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int tl_passed, tl_failed, tl_skipped;

static inline void tl_vline(const char *tag, const char *fmt, va_list ap)
{
	printf("%s - ", tag);
	vprintf(fmt, ap);
	putchar('\n');
}

/* Report one check; returns cond so that callers can add diagnostics. */
__attribute__((format(printf, 2, 3)))
static inline bool tl_check(bool cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tl_vline(cond ? "ok" : "not ok", fmt, ap);
	va_end(ap);
	if (cond)
		tl_passed++;
	else
		tl_failed++;
	return cond;
}

__attribute__((format(printf, 1, 2)))
static inline void tl_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tl_vline("skip", fmt, ap);
	va_end(ap);
	tl_skipped++;
}

/* A diagnostic line, "#   ...". */
__attribute__((format(printf, 1, 2)))
static inline void tl_diag(const char *fmt, ...)
{
	va_list ap;

	printf("#   ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Check that got == want (integers), printing both on mismatch. */
#define tl_check_eq(got, want, ...) do {				\
	long long g_ = (long long)(got), w_ = (long long)(want);	\
	if (!tl_check(g_ == w_, __VA_ARGS__))				\
		tl_diag("got %lld, want %lld", g_, w_);			\
} while (0)

/* Print the summary line; returns the process exit status. */
static inline int tl_report(void)
{
	if (tl_skipped)
		printf("%d passed, %d failed, %d skipped\n",
		       tl_passed, tl_failed, tl_skipped);
	else
		printf("%d passed, %d failed\n", tl_passed, tl_failed);
	return tl_failed ? 1 : 0;
}

#endif /* FAITH_TESTLIB_H */
