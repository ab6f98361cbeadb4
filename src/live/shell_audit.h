/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The audited shell's pure parts (no I/O, no server), unit-tested byte by
 * byte in tests/live/test_shell_audit.c:
 *
 *   the marker filter  takes the terminal's output, removes the markers the
 *                      shell prints for the audit and hands them over parsed;
 *                      a marker may be split across reads at any byte
 *   the line editor    the line a user types at a plain sh's prompt, as the
 *                      terminal's line discipline would edit it
 *
 * A marker is an OSC escape sequence that carries the session's key, so
 * that one printed by a program (cat of a file that holds markers of
 * another session) is not taken for the shell's and is shown as it is:
 *
 *   ESC ] 6973 ; devkit-KEY ; KIND [; field]... BEL
 *
 *   P;STATUS;SEQ;TEXT  bash, before each prompt (PROMPT_COMMAND): the exit
 *                      status of the last command, its history number
 *                      ("" with an empty history) and its text
 *   S;SEQ;TEXT         bash 4.4+, once a command line is read, before it
 *                      runs (PS0): the command being started
 *   p;STATUS           a plain sh, in PS1: a prompt and $?
 *   c                  a plain sh, in PS2: a continuation prompt
 *   r                  the start: the container waits for the setup script
 *
 * TEXT is escaped so that the terminal's output processing cannot change
 * it (a newline would become CR LF): '\' is "\\" and each control byte is
 * "\xHH"; every other byte is itself.
 */
#ifndef DEVKIT_LIVE_SHELL_AUDIT_H
#define DEVKIT_LIVE_SHELL_AUDIT_H

#include <stddef.h>

#include "core/bytes.h"

/* OSC 6973 ("id" on a phone keypad, unused by terminals). */
#define DEVKIT__SHELL_OSC "\033]6973;"
/* The key: this many lowercase hex digits after "devkit-". */
#define DEVKIT__SHELL_KEY_LEN 16
/* Longest marker payload kept; a longer command's text is cut there. */
#define DEVKIT__SHELL_PAYLOAD_MAX (64 * 1024)

typedef struct devkit__shell_marker {
	char kind;           /* 'P', 'S', 'p', 'c' or 'r' */
	int status;          /* P, p: the exit status; -1 otherwise */
	char seq[24];        /* P, S: the history number; "" otherwise */
	const char *text;    /* P, S: the decoded command text (may hold any byte) */
	size_t text_len;
	int truncated;       /* the text was cut at DEVKIT__SHELL_PAYLOAD_MAX */
} devkit__shell_marker;

typedef void (*devkit__shell_marker_cb)(void *data, const devkit__shell_marker *m);

typedef struct devkit__shell_filter {
	char prefix[64];     /* ESC ] 6973 ; devkit-KEY ; */
	size_t prefix_len;
	size_t matched;      /* bytes of prefix seen so far (held back from the output) */
	int in_payload;
	int overflow;        /* payload longer than the maximum: the rest is dropped */
	devkit__bytes payload;
	devkit__bytes text;  /* decoded TEXT of the last marker */
} devkit__shell_filter;

/* key: DEVKIT__SHELL_KEY_LEN hex digits. */
void devkit__shell_filter_init(devkit__shell_filter *f, const char *key);
void devkit__shell_filter_free(devkit__shell_filter *f);

/* Feed output bytes: what the user should see is appended to out, and cb
 * runs for each whole marker, in order (malformed ones are dropped: they
 * carry the key, so they are the shell's). Bytes that may start a marker
 * are held until the next feed. 0, or DEVKIT_ENOMEM. */
int devkit__shell_filter_feed(devkit__shell_filter *f, const char *in, size_t len,
	devkit__bytes *out, devkit__shell_marker_cb cb, void *data);

/* The output ended: held bytes that did not become a marker go to out (an
 * unfinished marker is dropped). 0, or DEVKIT_ENOMEM. */
int devkit__shell_filter_end(devkit__shell_filter *f, devkit__bytes *out);

/* Parse one payload (after the prefix, before BEL) into m; the text is
 * decoded into `text`, which m->text then points into. 0, or -1 when it is
 * not a well-formed marker. */
int devkit__shell_marker_parse(const char *payload, size_t len, devkit__bytes *text,
	devkit__shell_marker *m);

/* The marker's escaping of TEXT, for the tests and for the record of what
 * a shell script does ("\\" and "\xHH"). */
int devkit__shell_text_decode(const char *in, size_t len, devkit__bytes *out);

/* --- the line typed at a plain sh's prompt -------------------------------------- */

typedef enum devkit__shell_line_event {
	DEVKIT__LINE_MORE = 0,   /* everything was taken; the line goes on */
	DEVKIT__LINE_SUBMIT,     /* Enter (CR or LF): the line is in l->buf */
	DEVKIT__LINE_CANCEL,     /* ^C: the line was thrown away (a new prompt follows) */
	DEVKIT__LINE_EOF         /* ^D on an empty line: the shell ends */
} devkit__shell_line_event;

/* Longest line kept; what is typed beyond it is not recorded. */
#define DEVKIT__SHELL_LINE_MAX (16 * 1024)

typedef struct devkit__shell_line {
	char buf[DEVKIT__SHELL_LINE_MAX + 1]; /* NUL-terminated */
	size_t len;
	int truncated;
	int literal;   /* after ^V: the next byte is taken as it is */
	int esc;       /* inside a typed escape sequence: 1 after ESC, 2 CSI, 3 SS3 */
} devkit__shell_line;

void devkit__shell_line_reset(devkit__shell_line *l);

/*
 * Take typed bytes until an event: erase (BS, DEL) removes the last
 * character (a whole UTF-8 sequence), ^U the line, ^W the last word (and
 * the blanks after it), ^V quotes the next byte, escape sequences (cursor
 * keys, bracketed paste marks) are left out, other control bytes are left
 * out too. Returns how many bytes were taken (up to and including the one
 * that made the event) and sets *event. After SUBMIT the line stays in buf
 * until devkit__shell_line_reset.
 */
size_t devkit__shell_line_feed(devkit__shell_line *l, const char *in, size_t len,
	devkit__shell_line_event *event);

#endif
