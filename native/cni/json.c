/* SPDX-License-Identifier: Apache-2.0 */
/* A recursive-descent JSON reader (RFC 8259) with a depth limit, and a string writer. */
#include "json.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 64

struct parser {
	const char *text;
	size_t len;
	size_t pos;
	char *err;
	size_t err_len;
};

static int fail(struct parser *p, const char *what)
{
	snprintf(p->err, p->err_len, "%s at byte %zu", what, p->pos);
	return -1;
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len) {
		char c = p->text[p->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			return;
		p->pos++;
	}
}

static bool literal(struct parser *p, const char *word)
{
	size_t n = strlen(word);
	if (p->len - p->pos < n || memcmp(p->text + p->pos, word, n) != 0)
		return false;
	p->pos += n;
	return true;
}

static int hex4(struct parser *p, uint32_t *out)
{
	uint32_t v = 0;
	if (p->len - p->pos < 4)
		return fail(p, "truncated \\u escape");
	for (int i = 0; i < 4; i++) {
		char c = p->text[p->pos++];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return fail(p, "bad \\u escape");
	}
	*out = v;
	return 0;
}

static size_t put_utf8(char *dst, uint32_t cp)
{
	if (cp < 0x80) {
		dst[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		dst[0] = (char)(0xC0 | (cp >> 6));
		dst[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		dst[0] = (char)(0xE0 | (cp >> 12));
		dst[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		dst[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	dst[0] = (char)(0xF0 | (cp >> 18));
	dst[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	dst[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	dst[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* At the opening quote; decodes into a fresh NUL-terminated string. */
static int parse_string(struct parser *p, char **out)
{
	p->pos++; /* '"' */
	/* Decoded text is never longer than its source. */
	size_t start = p->pos;
	size_t end = start;
	while (end < p->len && p->text[end] != '"') {
		if (p->text[end] == '\\')
			end++;
		end++;
	}
	if (end >= p->len)
		return fail(p, "unterminated string");
	char *s = malloc(end - start + 1);
	if (s == NULL)
		return fail(p, "out of memory");
	size_t n = 0;
	while (p->pos < end) {
		unsigned char c = (unsigned char)p->text[p->pos];
		if (c < 0x20) {
			free(s);
			return fail(p, "control character in string");
		}
		if (c != '\\') {
			s[n++] = (char)c;
			p->pos++;
			continue;
		}
		p->pos++;
		char e = p->text[p->pos++];
		switch (e) {
		case '"': s[n++] = '"'; break;
		case '\\': s[n++] = '\\'; break;
		case '/': s[n++] = '/'; break;
		case 'b': s[n++] = '\b'; break;
		case 'f': s[n++] = '\f'; break;
		case 'n': s[n++] = '\n'; break;
		case 'r': s[n++] = '\r'; break;
		case 't': s[n++] = '\t'; break;
		case 'u': {
			uint32_t cp;
			if (hex4(p, &cp) < 0) {
				free(s);
				return -1;
			}
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				uint32_t lo;
				if (p->len - p->pos < 6 || p->text[p->pos] != '\\' || p->text[p->pos + 1] != 'u') {
					free(s);
					return fail(p, "unpaired surrogate");
				}
				p->pos += 2;
				if (hex4(p, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF) {
					free(s);
					return fail(p, "unpaired surrogate");
				}
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
				free(s);
				return fail(p, "unpaired surrogate");
			}
			if (cp == 0) {
				free(s);
				return fail(p, "\\u0000 in string");
			}
			n += put_utf8(s + n, cp);
			break;
		}
		default:
			free(s);
			return fail(p, "bad escape");
		}
	}
	p->pos = end + 1;
	s[n] = '\0';
	*out = s;
	return 0;
}

static int parse_number(struct parser *p, double *out)
{
	size_t start = p->pos;
	if (p->text[p->pos] == '-')
		p->pos++;
	if (p->pos >= p->len)
		return fail(p, "bad number");
	if (p->text[p->pos] == '0') {
		p->pos++;
	} else if (p->text[p->pos] >= '1' && p->text[p->pos] <= '9') {
		while (p->pos < p->len && p->text[p->pos] >= '0' && p->text[p->pos] <= '9')
			p->pos++;
	} else {
		return fail(p, "bad number");
	}
	if (p->pos < p->len && p->text[p->pos] == '.') {
		p->pos++;
		size_t digits = p->pos;
		while (p->pos < p->len && p->text[p->pos] >= '0' && p->text[p->pos] <= '9')
			p->pos++;
		if (p->pos == digits)
			return fail(p, "bad number");
	}
	if (p->pos < p->len && (p->text[p->pos] == 'e' || p->text[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len && (p->text[p->pos] == '+' || p->text[p->pos] == '-'))
			p->pos++;
		size_t digits = p->pos;
		while (p->pos < p->len && p->text[p->pos] >= '0' && p->text[p->pos] <= '9')
			p->pos++;
		if (p->pos == digits)
			return fail(p, "bad number");
	}
	char buf[64];
	size_t n = p->pos - start;
	if (n >= sizeof(buf))
		return fail(p, "number too long");
	memcpy(buf, p->text + start, n);
	buf[n] = '\0';
	errno = 0;
	*out = strtod(buf, NULL);
	return 0;
}

static int parse_value(struct parser *p, struct json_value *v, int depth);

static int push(struct parser *p, struct json_value *v, size_t *cap)
{
	if (v->count < *cap)
		return 0;
	size_t n = *cap ? *cap * 2 : 4;
	struct json_value *items = realloc(v->items, n * sizeof(*items));
	if (items == NULL)
		return fail(p, "out of memory");
	v->items = items;
	if (v->type == JSON_OBJECT) {
		char **keys = realloc(v->keys, n * sizeof(*keys));
		if (keys == NULL)
			return fail(p, "out of memory");
		v->keys = keys;
	}
	*cap = n;
	return 0;
}

static int parse_container(struct parser *p, struct json_value *v, int depth)
{
	bool object = p->text[p->pos] == '{';
	char close = object ? '}' : ']';
	size_t cap = 0;
	v->type = object ? JSON_OBJECT : JSON_ARRAY;
	if (depth >= JSON_MAX_DEPTH)
		return fail(p, "nested too deeply");
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->text[p->pos] == close) {
		p->pos++;
		return 0;
	}
	for (;;) {
		char *key = NULL;
		skip_ws(p);
		if (object) {
			if (p->pos >= p->len || p->text[p->pos] != '"')
				return fail(p, "expected a member name");
			if (parse_string(p, &key) < 0)
				return -1;
			skip_ws(p);
			if (p->pos >= p->len || p->text[p->pos] != ':') {
				free(key);
				return fail(p, "expected ':'");
			}
			p->pos++;
		}
		if (push(p, v, &cap) < 0) {
			free(key);
			return -1;
		}
		struct json_value *item = &v->items[v->count];
		memset(item, 0, sizeof(*item));
		if (object)
			v->keys[v->count] = key;
		v->count++;
		if (parse_value(p, item, depth + 1) < 0)
			return -1;
		skip_ws(p);
		if (p->pos >= p->len)
			return fail(p, "unterminated array or object");
		if (p->text[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->text[p->pos] == close) {
			p->pos++;
			return 0;
		}
		return fail(p, "expected ',' or the closing bracket");
	}
}

static int parse_value(struct parser *p, struct json_value *v, int depth)
{
	skip_ws(p);
	if (p->pos >= p->len)
		return fail(p, "expected a value");
	size_t start = p->pos;
	int rc = 0;
	char c = p->text[p->pos];
	if (c == '{' || c == '[') {
		rc = parse_container(p, v, depth);
	} else if (c == '"') {
		v->type = JSON_STRING;
		rc = parse_string(p, &v->string);
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		v->type = JSON_NUMBER;
		rc = parse_number(p, &v->number);
	} else if (literal(p, "true")) {
		v->type = JSON_BOOL;
		v->boolean = true;
	} else if (literal(p, "false")) {
		v->type = JSON_BOOL;
	} else if (literal(p, "null")) {
		v->type = JSON_NULL;
	} else {
		rc = fail(p, "unexpected character");
	}
	v->text = p->text + start;
	v->text_len = p->pos - start;
	return rc;
}

int json_parse(const char *text, size_t len, struct json_value *out, char *err, size_t err_len)
{
	struct parser p = { .text = text, .len = len, .err = err, .err_len = err_len };
	memset(out, 0, sizeof(*out));
	if (parse_value(&p, out, 0) < 0) {
		json_free(out);
		return -1;
	}
	skip_ws(&p);
	if (p.pos != p.len) {
		fail(&p, "trailing characters");
		json_free(out);
		return -1;
	}
	return 0;
}

void json_free(struct json_value *v)
{
	for (size_t i = 0; i < v->count; i++) {
		json_free(&v->items[i]);
		if (v->keys != NULL)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->string);
	memset(v, 0, sizeof(*v));
}

const struct json_value *json_get(const struct json_value *obj, const char *key)
{
	if (obj == NULL || obj->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < obj->count; i++)
		if (strcmp(obj->keys[i], key) == 0)
			return &obj->items[i];
	return NULL;
}

void sb_append(struct strbuf *sb, const char *s, size_t n)
{
	if (sb->failed)
		return;
	if (sb->len + n + 1 > sb->cap) {
		size_t cap = sb->cap ? sb->cap : 256;
		while (cap < sb->len + n + 1)
			cap *= 2;
		char *data = realloc(sb->data, cap);
		if (data == NULL) {
			sb->failed = true;
			return;
		}
		sb->data = data;
		sb->cap = cap;
	}
	memcpy(sb->data + sb->len, s, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
}

void sb_puts(struct strbuf *sb, const char *s)
{
	sb_append(sb, s, strlen(s));
}

void sb_json_string(struct strbuf *sb, const char *s)
{
	sb_append(sb, "\"", 1);
	for (const unsigned char *c = (const unsigned char *)s; *c != '\0'; c++) {
		char esc[8];
		if (*c == '"' || *c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*c;
			sb_append(sb, esc, 2);
		} else if (*c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", *c);
			sb_append(sb, esc, 6);
		} else {
			sb_append(sb, (const char *)c, 1);
		}
	}
	sb_append(sb, "\"", 1);
}

void sb_free(struct strbuf *sb)
{
	free(sb->data);
	memset(sb, 0, sizeof(*sb));
}
