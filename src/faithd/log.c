// SPDX-License-Identifier: BSD-2-Clause
/* faithd's log: syslog (daemon facility) or stderr in the foreground. */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "faithd/log.h"

static bool use_syslog, debug_on;

void log_open(bool to_syslog, bool debug)
{
	use_syslog = to_syslog;
	debug_on = debug;
	if (use_syslog)
		openlog("faithd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
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
	/* One write per line, so that workers' lines never interleave. */
	n = snprintf(out, sizeof(out), "faithd[%d]: %s: %s\n", (int)getpid(),
		     prio <= LOG_DEBUG && names[prio] ? names[prio] : "log", line);
	if (n > (int)sizeof(out))
		n = sizeof(out) - 1;
	if (write(STDERR_FILENO, out, n) < 0)
		return;	/* nowhere left to report it */
}
