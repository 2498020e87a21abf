/* SPDX-License-Identifier: BSD-2-Clause */
/* A minimal streaming JSON writer for `-j` output (one document, stdout). */
#ifndef FAITH_JSON_H
#define FAITH_JSON_H

#include <stdbool.h>
#include <stdint.h>

void json_obj_open(const char *key);	/* key NULL inside arrays/top level */
void json_obj_close(void);
void json_arr_open(const char *key);
void json_arr_close(void);
void json_str(const char *key, const char *val);
void json_u64(const char *key, uint64_t val);
void json_bool(const char *key, bool val);
/* Ends the document with a newline. */
void json_end(void);

#endif /* FAITH_JSON_H */
