// SPDX-License-Identifier: BSD-2-Clause
#include <inttypes.h>
#include <stdio.h>

#include "json.h"

/* Does the current container already hold a member (so a comma is due)? */
static bool need_comma;

static void put_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void member(const char *key)
{
	if (need_comma)
		putchar(',');
	need_comma = true;
	if (key) {
		put_string(key);
		putchar(':');
	}
}

void json_obj_open(const char *key)
{
	member(key);
	putchar('{');
	need_comma = false;
}

void json_obj_close(void)
{
	putchar('}');
	need_comma = true;
}

void json_arr_open(const char *key)
{
	member(key);
	putchar('[');
	need_comma = false;
}

void json_arr_close(void)
{
	putchar(']');
	need_comma = true;
}

void json_str(const char *key, const char *val)
{
	member(key);
	put_string(val);
}

void json_u64(const char *key, uint64_t val)
{
	member(key);
	printf("%" PRIu64, val);
}

void json_bool(const char *key, bool val)
{
	member(key);
	fputs(val ? "true" : "false", stdout);
}

void json_end(void)
{
	putchar('\n');
	need_comma = false;
}
