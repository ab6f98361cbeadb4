/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The audited shell's marker filter and line editor (shell_audit.h says
 * what they take and give). Byte at a time, so that a marker or an escape
 * sequence split anywhere between two reads or writes is handled as if it
 * had come whole.
 */
#include "shell_audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devkit/common.h"

#define BEL '\007'
#define ESC '\033'

/* --- the marker filter ----------------------------------------------------------- */

void devkit__shell_filter_init(devkit__shell_filter *f, const char *key)
{
	memset(f, 0, sizeof(*f));
	int n = snprintf(f->prefix, sizeof(f->prefix), DEVKIT__SHELL_OSC "devkit-%.*s;",
		DEVKIT__SHELL_KEY_LEN, key);
	f->prefix_len = n > 0 ? (size_t)n : 0;
}

void devkit__shell_filter_free(devkit__shell_filter *f)
{
	devkit__bytes_free(&f->payload);
	devkit__bytes_free(&f->text);
	f->matched = 0;
	f->in_payload = 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int devkit__shell_text_decode(const char *in, size_t len, devkit__bytes *out)
{
	size_t i = 0;
	while (i < len) {
		size_t run = i;
		while (run < len && in[run] != '\\')
			run++;
		if (run > i && devkit__bytes_append(out, in + i, run - i) != 0)
			return DEVKIT_ENOMEM;
		i = run;
		if (i >= len)
			break;
		/* in[i] == '\\'; the escaping never ends a text with a partial
		 * escape, only the payload's limit does: drop it then */
		if (i + 1 >= len || (in[i + 1] == 'x' && len - i <= 3))
			break;
		if (in[i + 1] == '\\') {
			if (devkit__bytes_append(out, "\\", 1) != 0)
				return DEVKIT_ENOMEM;
			i += 2;
		} else if (in[i + 1] == 'x' && hexval(in[i + 2]) >= 0 && hexval(in[i + 3]) >= 0) {
			char c = (char)(hexval(in[i + 2]) * 16 + hexval(in[i + 3]));
			if (devkit__bytes_append(out, &c, 1) != 0)
				return DEVKIT_ENOMEM;
			i += 4;
		} else {
			if (devkit__bytes_append(out, "\\", 1) != 0)
				return DEVKIT_ENOMEM;
			i++;
		}
	}
	return 0;
}

/* Digits only (at most `max` of them), into *out; 0 or -1. */
static int parse_digits(const char *s, size_t len, size_t max, long *out)
{
	if (len == 0 || len > max)
		return -1;
	long v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* The next ';'-separated field of [*p, end): its start and length; *p moves
 * past the ';'. -1 when there is no ';' left. */
static int next_field(const char **p, const char *end, const char **field, size_t *flen)
{
	const char *semi = memchr(*p, ';', (size_t)(end - *p));
	if (!semi)
		return -1;
	*field = *p;
	*flen = (size_t)(semi - *p);
	*p = semi + 1;
	return 0;
}

int devkit__shell_marker_parse(const char *payload, size_t len, devkit__bytes *text,
	devkit__shell_marker *m)
{
	memset(m, 0, sizeof(*m));
	m->status = -1;
	m->text = "";
	devkit__bytes_reset(text);
	if (len == 0)
		return -1;
	m->kind = payload[0];
	const char *p = payload + 1, *end = payload + len, *field;
	size_t flen;
	long v;
	if (m->kind == 'c' || m->kind == 'r')
		return len == 1 ? 0 : -1;
	if (p >= end || *p != ';')
		return -1;
	p++;
	switch (m->kind) {
	case 'p':
		if (parse_digits(p, (size_t)(end - p), 9, &v) != 0)
			return -1;
		m->status = (int)v;
		return 0;
	case 'P':
		if (next_field(&p, end, &field, &flen) != 0 || parse_digits(field, flen, 9, &v) != 0)
			return -1;
		m->status = (int)v;
		/* SEQ;TEXT as in S */
		__attribute__((fallthrough));
	case 'S':
		if (next_field(&p, end, &field, &flen) != 0)
			return -1;
		if (flen > 0 && parse_digits(field, flen, sizeof(m->seq) - 1, &v) != 0)
			return -1;
		memcpy(m->seq, field, flen);
		m->seq[flen] = '\0';
		if (devkit__shell_text_decode(p, (size_t)(end - p), text) != 0 ||
			devkit__bytes_append(text, "", 1) != 0)
			return DEVKIT_ENOMEM;
		text->len--;
		m->text = devkit__bytes_head(text);
		m->text_len = devkit__bytes_avail(text);
		return 0;
	default:
		return -1;
	}
}

static void end_payload(devkit__shell_filter *f, devkit__shell_marker_cb cb, void *data)
{
	devkit__shell_marker m;
	if (devkit__shell_marker_parse(devkit__bytes_head(&f->payload),
		devkit__bytes_avail(&f->payload), &f->text, &m) == 0) {
		m.truncated = f->overflow;
		if (cb)
			cb(data, &m);
	}
	devkit__bytes_reset(&f->payload);
	f->in_payload = 0;
	f->overflow = 0;
}

int devkit__shell_filter_feed(devkit__shell_filter *f, const char *in, size_t len,
	devkit__bytes *out, devkit__shell_marker_cb cb, void *data)
{
	size_t i = 0;
	while (i < len) {
		char c = in[i];
		if (f->in_payload) {
			if (c == BEL) {
				end_payload(f, cb, data);
				i++;
			} else if ((unsigned char)c < 0x20 || c == 0x7f) {
				/* A payload never holds a control byte (the shell escapes
				 * them): this one was cut off (the shell died in the middle).
				 * Drop it and take the byte as output. */
				devkit__bytes_reset(&f->payload);
				f->in_payload = 0;
				f->overflow = 0;
			} else {
				if (devkit__bytes_avail(&f->payload) < DEVKIT__SHELL_PAYLOAD_MAX) {
					if (devkit__bytes_append(&f->payload, &c, 1) != 0)
						return DEVKIT_ENOMEM;
				} else {
					f->overflow = 1;
				}
				i++;
			}
			continue;
		}
		if (f->matched > 0) {
			if (c == f->prefix[f->matched]) {
				if (++f->matched == f->prefix_len) {
					f->matched = 0;
					f->in_payload = 1;
				}
				i++;
				continue;
			}
			/* Not ours after all: what was held is output, and this byte
			 * is looked at afresh (it may be the ESC of a marker). */
			if (devkit__bytes_append(out, f->prefix, f->matched) != 0)
				return DEVKIT_ENOMEM;
			f->matched = 0;
			continue;
		}
		if (c == ESC) {
			f->matched = 1;
			i++;
			continue;
		}
		/* A run of plain output, up to the next ESC. */
		const char *esc = memchr(in + i, ESC, len - i);
		size_t run = esc ? (size_t)(esc - (in + i)) : len - i;
		if (devkit__bytes_append(out, in + i, run) != 0)
			return DEVKIT_ENOMEM;
		i += run;
	}
	return 0;
}

int devkit__shell_filter_end(devkit__shell_filter *f, devkit__bytes *out)
{
	int rc = 0;
	if (f->matched > 0 && devkit__bytes_append(out, f->prefix, f->matched) != 0)
		rc = DEVKIT_ENOMEM;
	f->matched = 0;
	devkit__bytes_reset(&f->payload);
	f->in_payload = 0;
	f->overflow = 0;
	return rc;
}

/* --- the line editor --------------------------------------------------------------- */

void devkit__shell_line_reset(devkit__shell_line *l)
{
	l->len = 0;
	l->buf[0] = '\0';
	l->truncated = 0;
	l->literal = 0;
	l->esc = 0;
}

static void line_add(devkit__shell_line *l, char c)
{
	if (l->len < DEVKIT__SHELL_LINE_MAX) {
		l->buf[l->len++] = c;
		l->buf[l->len] = '\0';
	} else {
		l->truncated = 1;
	}
}

/* One character: a UTF-8 sequence's continuation bytes and its lead byte. */
static void line_erase_char(devkit__shell_line *l)
{
	int cont = 0;
	while (l->len > 0 && cont < 3 && ((unsigned char)l->buf[l->len - 1] & 0xC0) == 0x80) {
		l->len--;
		cont++;
	}
	if (l->len > 0)
		l->len--;
	l->buf[l->len] = '\0';
}

/* As the terminal's WERASE: the blanks before the cursor, then the word. */
static void line_erase_word(devkit__shell_line *l)
{
	while (l->len > 0 && (l->buf[l->len - 1] == ' ' || l->buf[l->len - 1] == '\t'))
		l->len--;
	while (l->len > 0 && l->buf[l->len - 1] != ' ' && l->buf[l->len - 1] != '\t')
		l->len--;
	l->buf[l->len] = '\0';
}

size_t devkit__shell_line_feed(devkit__shell_line *l, const char *in, size_t len,
	devkit__shell_line_event *event)
{
	*event = DEVKIT__LINE_MORE;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (l->literal) {
			l->literal = 0;
			line_add(l, (char)c);
			continue;
		}
		if (l->esc == 1) {
			/* ESC [ starts a CSI sequence, ESC O an SS3 one (the cursor
			 * keys in application mode); ESC and anything else is one
			 * key (Alt-x) */
			l->esc = c == '[' ? 2 : c == 'O' ? 3 : 0;
			continue;
		}
		if (l->esc == 2) {
			if (c >= 0x40 && c <= 0x7e)
				l->esc = 0;  /* the final byte */
			continue;
		}
		if (l->esc == 3) {
			l->esc = 0;
			continue;
		}
		switch (c) {
		case '\r':
		case '\n':
			*event = DEVKIT__LINE_SUBMIT;
			return i + 1;
		case 0x03: /* ^C */
			devkit__shell_line_reset(l);
			*event = DEVKIT__LINE_CANCEL;
			return i + 1;
		case 0x04: /* ^D: end of input on an empty line, else nothing we record */
			if (l->len == 0) {
				*event = DEVKIT__LINE_EOF;
				return i + 1;
			}
			break;
		case 0x08: /* ^H */
		case 0x7f: /* DEL, what the Backspace key sends */
			line_erase_char(l);
			break;
		case 0x15: /* ^U */
			l->len = 0;
			l->buf[0] = '\0';
			break;
		case 0x17: /* ^W */
			line_erase_word(l);
			break;
		case 0x16: /* ^V */
			l->literal = 1;
			break;
		case 0x1b:
			l->esc = 1;
			break;
		case '\t':
			line_add(l, '\t');
			break;
		default:
			if (c >= 0x20)
				line_add(l, (char)c);
			break;
		}
	}
	return len;
}
