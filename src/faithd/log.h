/* SPDX-License-Identifier: BSD-2-Clause */
/* faithd's log: syslog (daemon facility) or stderr in the foreground. */
#ifndef FAITHD_LOG_H
#define FAITHD_LOG_H

#include <stdbool.h>
#include <syslog.h>

void log_open(bool to_syslog, bool debug);
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool log_debug_on(void);
/* After fork(): the process ID the lines carry. */
void log_set_pid(void);
/* Batching on: info and debug lines wait for log_flush() (one write for a
 * batch of events); errors and warnings go out at once. */
void log_batch(bool on);
void log_flush(void);

#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	do { if (log_debug_on()) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)

#endif /* FAITHD_LOG_H */
