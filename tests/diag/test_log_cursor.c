/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cursor that resumes a log without losing or repeating lines
 * (src/diag/log_cursor.h), line by line: what a resumed request sends
 * again is dropped, lines that share a timestamp are counted, and a line
 * without a timestamp is passed on.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "diag/log_cursor.h"

static devkit__log_ts ts(const char *text)
{
	devkit__log_ts t;
	size_t n = devkit__log_ts_parse(text, strlen(text), &t);
	cr_assert_gt(n, 0, "not a timestamp: %s", text);
	return t;
}

Test(log_cursor, parses_the_kubelet_format)
{
	devkit__log_ts t;
	const char *line = "2024-05-01T12:00:00.123456789Z GET /cart 200";
	cr_assert_eq(devkit__log_ts_parse(line, strlen(line), &t), 30);
	cr_assert_eq(t.sec, 1714564800);
	cr_assert_eq(t.nsec, 123456789);
	/* fewer digits, an offset, no fraction */
	t = ts("2024-05-01T14:00:00.5+02:00 x");
	cr_assert_eq(t.sec, 1714564800);
	cr_assert_eq(t.nsec, 500000000);
	t = ts("2024-05-01T12:00:01Z");
	cr_assert_eq(t.sec, 1714564801);
	cr_assert_eq(t.nsec, 0);
	/* not timestamps */
	const char *bad[] = { "hello world", "2024-05-01 12:00:00 x", "2024-05-01T12:00:00.Z x",
		"", "2024-13-01T12:00:00Z x", NULL };
	for (int i = 0; bad[i]; i++)
		cr_assert_eq(devkit__log_ts_parse(bad[i], strlen(bad[i]), &t), 0, "%s", bad[i]);
}

Test(log_cursor, a_resume_drops_what_was_delivered)
{
	devkit__log_cursor c = { 0 };
	devkit__log_ts a = ts("2024-05-01T12:00:00.100000000Z");
	devkit__log_ts b = ts("2024-05-01T12:00:00.200000000Z");
	devkit__log_ts d = ts("2024-05-01T12:00:00.900000000Z");
	devkit__log_ts e = ts("2024-05-01T12:00:01.000000001Z");
	cr_assert_eq(devkit__log_cursor_take(&c, &a), DEVKIT__LOG_DELIVER);
	cr_assert_eq(devkit__log_cursor_take(&c, &b), DEVKIT__LOG_DELIVER);
	char since[40];
	devkit__log_cursor_since(&c, since, sizeof(since));
	cr_assert_str_eq(since, "2024-05-01T12:00:00Z");
	/* the connection broke after b; the server sends the whole second again */
	devkit__log_cursor_resume(&c);
	cr_assert_eq(devkit__log_cursor_take(&c, &a), DEVKIT__LOG_DROP);
	cr_assert_eq(devkit__log_cursor_take(&c, &b), DEVKIT__LOG_DROP);
	cr_assert_eq(devkit__log_cursor_take(&c, &d), DEVKIT__LOG_DELIVER);
	cr_assert_eq(devkit__log_cursor_take(&c, &e), DEVKIT__LOG_DELIVER);
	devkit__log_cursor_since(&c, since, sizeof(since));
	cr_assert_str_eq(since, "2024-05-01T12:00:01Z");
}

Test(log_cursor, lines_of_the_same_instant_are_counted)
{
	devkit__log_cursor c = { 0 };
	devkit__log_ts t = ts("2024-05-01T12:00:00.100000000Z");
	devkit__log_ts u = ts("2024-05-01T12:00:00.300000000Z");
	/* three lines written at once, two delivered before the cut */
	cr_assert_eq(devkit__log_cursor_take(&c, &t), DEVKIT__LOG_DELIVER);
	cr_assert_eq(devkit__log_cursor_take(&c, &t), DEVKIT__LOG_DELIVER);
	devkit__log_cursor_resume(&c);
	cr_assert_eq(devkit__log_cursor_take(&c, &t), DEVKIT__LOG_DROP);
	cr_assert_eq(devkit__log_cursor_take(&c, &t), DEVKIT__LOG_DROP);
	/* the third was never delivered: it is new */
	cr_assert_eq(devkit__log_cursor_take(&c, &t), DEVKIT__LOG_DELIVER);
	cr_assert_eq(c.same, 3);
	/* a second cut, then the server has one more of that instant and a later one */
	devkit__log_cursor_resume(&c);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(devkit__log_cursor_take(&c, &t), DEVKIT__LOG_DROP);
	cr_assert_eq(devkit__log_cursor_take(&c, &t), DEVKIT__LOG_DELIVER);
	cr_assert_eq(devkit__log_cursor_take(&c, &u), DEVKIT__LOG_DELIVER);
	cr_assert_eq(devkit__log_cursor_take(&c, &u), DEVKIT__LOG_DELIVER);
	cr_assert_eq(c.same, 2);
}

Test(log_cursor, untimed_lines_and_a_fresh_cursor)
{
	devkit__log_cursor c = { 0 };
	/* nothing delivered yet: a resume skips nothing */
	devkit__log_cursor_resume(&c);
	cr_assert_eq(c.resuming, 0);
	cr_assert_eq(devkit__log_cursor_take(&c, NULL), DEVKIT__LOG_DELIVER);
	devkit__log_ts t = ts("2024-05-01T12:00:00Z");
	cr_assert_eq(devkit__log_cursor_take(&c, &t), DEVKIT__LOG_DELIVER);
	devkit__log_cursor_resume(&c);
	/* a line the cursor cannot place is never dropped */
	cr_assert_eq(devkit__log_cursor_take(&c, NULL), DEVKIT__LOG_DELIVER);
	cr_assert_eq(devkit__log_cursor_take(&c, &t), DEVKIT__LOG_DROP);
}
