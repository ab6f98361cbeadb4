/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The parts of a capture that are words and bytes, not I/O: the script
 * that runs tcpdump in the container, what tcpdump's stderr means, and the
 * pcap stream's record count.
 */
#include "capture_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/error.h"
#include "diag_int.h"
#include "live/live_int.h"

/*
 * Why the script looks like this:
 *   - exec cannot signal a command, but it can write to its stdin, on every
 *     server (v4 cannot close stdin; v5 can). So tcpdump runs in the
 *     background and a reader waits for a line on stdin -- or its end, when
 *     the session goes away -- then sends SIGINT: tcpdump flushes what it
 *     holds, prints its summary on stderr and exits 0.
 *   - a background command of a non-interactive shell gets stdin from
 *     /dev/null, so stdin is kept on fd 3 first for the reader.
 *   - the reader's output goes to /dev/null and it is killed once tcpdump
 *     has ended by itself (-c): a process that still holds stdout or
 *     stderr would keep the session open.
 *   - SIGINT is ignored in background commands until tcpdump sets its own
 *     handler, which it does before it says "listening on": the library
 *     stops it only after that.
 */
char *devkit__capture_script(const char *interface_name, const char *filter, int format,
	unsigned long long max_packets, int snaplen)
{
	char *iface = devkit__live_sh_quote(interface_name && *interface_name ? interface_name
		: "any");
	char *quoted = filter && *filter ? devkit__live_sh_quote(filter) : NULL;
	devkit__bytes b = DEVKIT__BYTES_INIT;
	int failed = !iface || (filter && *filter && !quoted);
	if (!failed) {
		failed |= devkit__bytes_printf(&b, "exec 3<&0\n"
			"command -v tcpdump >/dev/null 2>&1 || { echo 'tcpdump: not found' >&2; "
			"exit 127; }\n"
			"tcpdump -i %s -n %s", iface,
			format == DEVKIT_CAPTURE_PCAP ? "-U -w -" : "-l") != 0;
		if (max_packets > 0)
			failed |= devkit__bytes_printf(&b, " -c %llu", max_packets) != 0;
		if (snaplen > 0)
			failed |= devkit__bytes_printf(&b, " -s %d", snaplen) != 0;
		if (quoted)
			failed |= devkit__bytes_printf(&b, " -- %s", quoted) != 0;
		failed |= devkit__bytes_printf(&b, " </dev/null 3<&- &\n"
			"p=$!\n"
			"{ read x <&3; kill -INT $p; } >/dev/null 2>&1 &\n"
			"r=$!\n"
			"wait $p\n"
			"s=$?\n"
			"kill $r 2>/dev/null\n"
			"exit $s\n") != 0;
		failed |= devkit__bytes_append(&b, "", 1) != 0;
	}
	free(iface);
	free(quoted);
	if (failed) {
		devkit__bytes_free(&b);
		devkit__error_set(DEVKIT_ENOMEM, "devkit_capture_start: out of memory");
		return NULL;
	}
	return b.data; /* off is 0: nothing was consumed */
}

/* Call fn with each line of text (without its newline), in order. */
static void each_line(const char *text, size_t len, void (*fn)(const char *, size_t, void *),
	void *arg)
{
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t n = end - i;
		if (n && text[i + n - 1] == '\r')
			n--;
		fn(text + i, n, arg);
		i = end + 1;
	}
}

/* "N packet[s] <rest>" at the start of a line: N, and whether rest follows. */
static int count_line(const char *line, size_t n, const char *rest, uint64_t *out)
{
	char buf[160];
	if (n == 0 || n >= sizeof(buf) || line[0] < '0' || line[0] > '9')
		return 0;
	memcpy(buf, line, n);
	buf[n] = '\0';
	char *end;
	unsigned long long v = strtoull(buf, &end, 10);
	if (strncmp(end, " packets ", 9) == 0)
		end += 9;
	else if (strncmp(end, " packet ", 8) == 0)
		end += 8;
	else
		return 0;
	if (strcmp(end, rest) != 0)
		return 0;
	*out = v;
	return 1;
}

static void summary_line(const char *line, size_t n, void *arg)
{
	devkit__capture_summary *s = arg;
	uint64_t v;
	if (count_line(line, n, "captured", &v)) {
		s->captured = v;
		s->have_captured = 1;
	} else if (count_line(line, n, "received by filter", &v)) {
		s->received = v;
	} else if (count_line(line, n, "dropped by kernel", &v)) {
		s->dropped = v;
		s->have_dropped = 1;
	}
}

void devkit__capture_parse_summary(const char *text, size_t len, devkit__capture_summary *out)
{
	memset(out, 0, sizeof(*out));
	each_line(text, len, summary_line, out);
}

typedef struct pick {
	const char *tcpdump, *last;
	size_t tcpdump_len, last_len;
} pick;

static void pick_line(const char *line, size_t n, void *arg)
{
	pick *p = arg;
	size_t i = 0;
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == n)
		return;
	p->last = line;
	p->last_len = n;
	if (n >= 9 && strncmp(line, "tcpdump: ", 9) == 0) {
		p->tcpdump = line;
		p->tcpdump_len = n;
	}
}

const char *devkit__capture_error_line(const char *text, size_t len, char *buf, size_t cap)
{
	pick p = { 0 };
	each_line(text, len, pick_line, &p);
	const char *s = p.tcpdump ? p.tcpdump : p.last;
	size_t n = p.tcpdump ? p.tcpdump_len : p.last_len;
	if (!s)
		n = 0;
	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}

static int has(const char *text, const char *word)
{
	return devkit__diag_strcasestr(text, word) != NULL;
}

int devkit__capture_failure(const char *what, const char *filter, int exit_code,
	const char *stderr_text, size_t len)
{
	char line[400];
	devkit__capture_error_line(stderr_text ? stderr_text : "", stderr_text ? len : 0, line,
		sizeof(line));
	if (exit_code == 127)
		return devkit__error_set(DEVKIT_EUNSUPPORTED, "%s: %s (exit status 127): replicate "
			"the Pod with the tcpdump sidecar (devkit replicate --tcpdump, or tcpdump: true "
			"in devkit.yaml), whose image has tcpdump and the capabilities, or name a "
			"container that has tcpdump", what, line[0] ? line : "tcpdump: not found");
	if (has(line, "syntax error") || has(line, "parse filter") || has(line, "illegal ") ||
	    has(line, "unknown host") || has(line, "unknown port") || has(line, "unknown proto") ||
	    has(line, "unknown network") || has(line, "unknown ether") || has(line, "out of range"))
		return devkit__error_set(DEVKIT_EINVAL, "%s: %s (the filter \"%s\" is not a BPF "
			"expression tcpdump accepts)", what, line, filter ? filter : "");
	if (has(line, "permission") || has(line, "not permitted"))
		return devkit__error_set(DEVKIT_EFORBIDDEN, "%s: %s (capturing needs root and the "
			"NET_RAW capability in the container: the replica's tcpdump sidecar, devkit "
			"replicate --tcpdump, has both)", what, line);
	if (has(line, "no such device") || has(line, "doesn't exist"))
		return devkit__error_set(DEVKIT_ENOTFOUND, "%s: %s (the container has no such "
			"network interface: \"any\" takes all of them)", what, line);
	return devkit__error_set(DEVKIT_EIO, "%s: %s (exit status %d)", what,
		line[0] ? line : "tcpdump failed without a message", exit_code);
}

static uint32_t u32(const unsigned char *p, int swapped)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return swapped ? __builtin_bswap32(v) : v;
}

/*
 * A pcap stream is a 24-byte file header (magic a1b2c3d4, or a1b23c4d with
 * nanoseconds, in the writer's byte order), then records: a 16-byte header
 * whose third word is the captured length, then that many bytes.
 */
void devkit__capture_pcap_feed(devkit__capture_pcap *p, const void *data, size_t n)
{
	const unsigned char *b = data;
	while (n > 0 && !p->bad) {
		if (p->in_record) {
			size_t k = p->skip < n ? (size_t)p->skip : n;
			p->skip -= k;
			b += k;
			n -= k;
			if (p->skip == 0) {
				p->in_record = 0;
				p->records++;
			}
			continue;
		}
		size_t need = p->have_file_header ? 16 : 24;
		size_t k = need - p->head_len < n ? need - p->head_len : n;
		memcpy(p->head + p->head_len, b, k);
		p->head_len += k;
		b += k;
		n -= k;
		if (p->head_len < need)
			continue;
		p->head_len = 0;
		if (!p->have_file_header) {
			uint32_t magic;
			memcpy(&magic, p->head, 4);
			if (magic == 0xa1b2c3d4u || magic == 0xa1b23c4du)
				p->swapped = 0;
			else if (magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u)
				p->swapped = 1;
			else
				p->bad = 1;
			p->have_file_header = 1;
			continue;
		}
		uint32_t incl = u32(p->head + 8, p->swapped);
		p->skip = incl;
		if (incl == 0)
			p->records++;
		else
			p->in_record = 1;
	}
}
