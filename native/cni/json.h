/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small JSON reader and writer, enough for a CNI network configuration (with prevResult) and
 * the enrollment protocol's messages. Every value keeps the span of its source text, so a
 * chained plugin can pass prevResult on byte for byte.
 */
#ifndef AMBIT_CNI_JSON_H
#define AMBIT_CNI_JSON_H

#include <stdbool.h>
#include <stddef.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json_value {
	enum json_type type;
	/* The value's source text (not NUL-terminated). */
	const char *text;
	size_t text_len;
	bool boolean;
	double number;
	/* JSON_STRING: the decoded string, NUL-terminated (a "\u0000" escape is refused). */
	char *string;
	/* JSON_ARRAY and JSON_OBJECT: the members; for objects keys[i] names items[i]. */
	size_t count;
	char **keys;
	struct json_value *items;
};

/* Parses `len` bytes; on failure returns -1 and writes why (with the byte offset) to `err`. */
int json_parse(const char *text, size_t len, struct json_value *out, char *err, size_t err_len);
void json_free(struct json_value *v);

/* The member `key` of an object (the first one if repeated), or NULL. */
const struct json_value *json_get(const struct json_value *obj, const char *key);

/* A growable NUL-terminated output buffer; on allocation failure `failed` is set and appends stop. */
struct strbuf {
	char *data;
	size_t len;
	size_t cap;
	bool failed;
};

void sb_append(struct strbuf *sb, const char *s, size_t n);
void sb_puts(struct strbuf *sb, const char *s);
/* Appends `s` as a quoted JSON string. */
void sb_json_string(struct strbuf *sb, const char *s);
void sb_free(struct strbuf *sb);

#endif
