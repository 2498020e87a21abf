// SPDX-License-Identifier: BSD-2-Clause
/* faithd's log: syslog (daemon facility) or stderr in the foreground. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "faithd/log.h"

static bool use_syslog, debug_on, batching;
static pid_t pid;
/* Lines kept for one write at the end of a worker's batch of events. */
static char batch[4096];
static size_t batch_len;

void log_open(bool to_syslog, bool debug)
{
	use_syslog = to_syslog;
	debug_on = debug;
	pid = getpid();
	if (use_syslog)
		openlog("faithd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_pid(void)
{
	pid = getpid();
}

void log_flush(void)
{
	if (batch_len && write(STDERR_FILENO, batch, batch_len) < 0)
		batch_len = 0;	/* nowhere left to report it */
	batch_len = 0;
}

void log_batch(bool on)
{
	if (!on)
		log_flush();
	batching = on;
}

bool log_debug_on(void)
{
	return debug_on;
}

void log_msg(int prio, const char *fmt, ...)
{
	static const char *const names[] = {
		[LOG_ERR] = "error", [LOG_WARNING] = "warning",
		[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
	};
	char line[1024], out[1100];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (use_syslog) {
		syslog(prio, "%s", line);
		return;
	}
	/* Whole lines per write, so that workers' lines never interleave. */
	n = snprintf(out, sizeof(out), "faithd[%d]: %s: %s\n", (int)pid,
		     prio <= LOG_DEBUG && names[prio] ? names[prio] : "log", line);
	if (n >= (int)sizeof(out))
		n = sizeof(out) - 1;
	if (batching && prio > LOG_WARNING) {
		if (batch_len + n > sizeof(batch))
			log_flush();
		memcpy(batch + batch_len, out, n);
		batch_len += n;
		return;
	}
	log_flush();	/* keep the order */
	if (write(STDERR_FILENO, out, n) < 0)
		return;	/* nowhere left to report it */
}
