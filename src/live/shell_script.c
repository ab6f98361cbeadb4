/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scripts that start the audited shell in the container (shell_int.h):
 * a short boot command that reads the setup from the terminal, and the
 * setup.
 *
 * bash: --rcfile is a here-document (fd 3, read as /dev/fd/3, then closed)
 * that sources ~/.bashrc as bash would (--rcfile replaces only that file;
 * /etc/bash.bashrc is still read where bash is built to read it), then:
 *   - every line goes into the history (HISTCONTROL and HISTIGNORE empty),
 *     which is where the command text comes from, recalled and edited
 *     lines as bash ran them;
 *   - the user's history file is read for recall, but nothing is written
 *     back (HISTFILE unset): the audit log is the record, and a shared
 *     container's history is not filled with the forced duplicates;
 *   - PROMPT_COMMAND (first, so that it sees $?) prints the P marker; the
 *     user's PROMPT_COMMAND runs after it with $? unchanged;
 *   - PS0 (bash 4.4+) prints the S marker when a command starts, so a
 *     command still running when the session ends is known too.
 * A plain sh: $ENV is the here-document; it sources the user's $ENV, then
 * puts the p marker (with $?) in PS1 and the c marker in PS2; busybox ash
 * gets them inside \[ \] so that its line editor does not count them.
 *
 * The markers are built with printf in the container, so the script holds
 * no control bytes.
 */
#include "shell_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live_int.h"
#include "shell_audit.h"

#define RC_END "DEVKIT_RC"

static const char bash_rc[] =
	"exec 3<&-\n"
	"if [ -r ~/.bashrc ]; then . ~/.bashrc; fi\n"
	"HISTCONTROL=\n"
	"HISTIGNORE=\n"
	"case ${HISTSIZE-} in ''|*[!0-9]*|0) HISTSIZE=1000 ;; esac\n"
	"shopt -s promptvars\n"
	"__devkit_h=${HISTFILE-}\n"
	"unset HISTFILE\n"
	"if [ -n \"$__devkit_h\" ] && [ -r \"$__devkit_h\" ]; then history -r \"$__devkit_h\"; fi\n"
	"unset __devkit_h\n"
	/* the last history entry: its number in __devkit_n, its text escaped
	 * in __devkit_t ('\' doubled, control bytes as \xHH) */
	"__devkit_last() {\n"
	"\tlocal h b='\\' x c i\n"
	"\th=$(HISTTIMEFORMAT= builtin history 1)\n"
	"\th=${h#\"${h%%[! ]*}\"}\n"
	"\t__devkit_n=${h%%[!0-9]*}\n"
	"\th=${h#\"$__devkit_n\"?' '}\n"
	"\tif [[ $h == *[[:cntrl:]\\\\]* ]]; then\n"
	"\t\th=${h//\"$b\"/\"$b$b\"}\n"
	"\t\tfor i in {1..31} 127; do\n"
	"\t\t\tprintf -v x '%02x' \"$i\"\n"
	"\t\t\tprintf -v c \"\\\\x$x\"\n"
	"\t\t\th=${h//\"$c\"/\"${b}x$x\"}\n"
	"\t\tdone\n"
	"\tfi\n"
	"\t__devkit_t=$h\n"
	"}\n"
	"__devkit_prompt() {\n"
	"\tlocal s=$?\n"
	"\t__devkit_last\n"
	"\tprintf '\\033]6973;%s;P;%s;%s;%s\\007' \"$__devkit_k\" \"$s\" \"$__devkit_n\" "
	"\"$__devkit_t\" >&2\n"
	"\treturn \"$s\"\n"
	"}\n"
	"__devkit_start() {\n"
	"\t__devkit_last\n"
	"\tprintf '\\033]6973;%s;S;%s;%s\\007' \"$__devkit_k\" \"$__devkit_n\" \"$__devkit_t\"\n"
	"}\n"
	"PS0='$(__devkit_start)'\"${PS0-}\"\n"
	/* bash 5.1 runs each element of an array PROMPT_COMMAND; before, only
	 * the string */
	"if [ \"${BASH_VERSINFO[0]}\" -gt 5 ] || { [ \"${BASH_VERSINFO[0]}\" -eq 5 ] && "
	"[ \"${BASH_VERSINFO[1]}\" -ge 1 ]; }; then\n"
	"\tPROMPT_COMMAND=(__devkit_prompt \"${PROMPT_COMMAND[@]}\")\n"
	"else\n"
	"\tPROMPT_COMMAND=\"__devkit_prompt${PROMPT_COMMAND:+;$PROMPT_COMMAND}\"\n"
	"fi\n";

static const char sh_rc[] =
	"exec 3<&-\n"
	"if [ -n \"${__devkit_env-}\" ]; then ENV=$__devkit_env; export ENV; "
	"if [ -r \"$ENV\" ]; then . \"$ENV\"; fi; else unset ENV; fi\n"
	"unset __devkit_env\n"
	"__devkit_m=$(printf '\\033]6973;%s;' \"$__devkit_k\")\n"
	"__devkit_b=$(printf '\\007')\n"
	"if [ -n \"${BB_ASH_VERSION-}\" ]; then\n"
	"\tPS1=\"\\\\[${__devkit_m}p;\"'$?'\"$__devkit_b\\\\]$PS1\"\n"
	"\tPS2=\"\\\\[${__devkit_m}c$__devkit_b\\\\]$PS2\"\n"
	"else\n"
	"\tPS1=\"${__devkit_m}p;\"'$?'\"$__devkit_b$PS1\"\n"
	"\tPS2=\"${__devkit_m}c$__devkit_b$PS2\"\n"
	"fi\n"
	"unset __devkit_m __devkit_b __devkit_k\n";

int devkit__shell_name_ok(const char *shell)
{
	if (!shell || !*shell || strlen(shell) > 255)
		return 0;
	for (const char *p = shell; *p; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '_' || c == '.' || c == '/' || c == '+' || c == '-'))
			return 0;
	}
	return 1;
}

static int is_bash(const char *shell)
{
	const char *base = strrchr(shell, '/');
	return strcmp(base ? base + 1 : shell, "bash") == 0;
}

static int add_rc(devkit__bytes *b, const char *key, const char *rc)
{
	return devkit__bytes_printf(b, "__devkit_k=devkit-%.*s\n", DEVKIT__SHELL_KEY_LEN, key) ||
		devkit__bytes_append(b, rc, strlen(rc)) ||
		devkit__bytes_append(b, RC_END "\n", strlen(RC_END) + 1) ? -1 : 0;
}

static int add_bash(devkit__bytes *b, const char *prog, const char *key)
{
	return devkit__bytes_printf(b, "exec %s --rcfile /dev/fd/3 -i 3<<'" RC_END "'\n", prog) ||
		add_rc(b, key, bash_rc) ? -1 : 0;
}

static int add_sh(devkit__bytes *b, const char *prog, const char *key)
{
	/* the user's $ENV is kept for the setup to source and put back */
	return devkit__bytes_printf(b, "__devkit_env=${ENV-}; export __devkit_env; "
		"ENV=/dev/fd/3; export ENV\n"
		"exec %s -i 3<<'" RC_END "'\n", prog) || add_rc(b, key, sh_rc) ? -1 : 0;
}

char *devkit__shell_boot(const char *key)
{
	char *boot = NULL;
	/* echo off first, then ask: what is typed before stty ran would be
	 * echoed */
	if (asprintf(&boot, "stty -echo 2>/dev/null;printf '\\033]6973;devkit-%.*s;r\\007';s=;"
		"while IFS= read -r l;do [ \"$l\" = . ]&&break;s=\"$s$l\n\";done;"
		"stty echo 2>/dev/null;eval \"$s\"", DEVKIT__SHELL_KEY_LEN, key) < 0)
		return NULL;
	return boot;
}

char *devkit__shell_script(const char *shell, const char *key)
{
	devkit__bytes b = DEVKIT__BYTES_INIT;
	char *prog = shell ? devkit__live_sh_quote(shell) : NULL;
	int rc;
	if (shell && !prog)
		return NULL;
	if (!shell)
		rc = devkit__bytes_printf(&b, "if command -v bash >/dev/null 2>&1; then\n") ||
			add_bash(&b, "bash", key) || devkit__bytes_printf(&b, "fi\n") ||
			add_sh(&b, "sh", key);
	else if (is_bash(shell))
		rc = add_bash(&b, prog, key);
	else
		rc = add_sh(&b, prog, key);
	free(prog);
	if (rc || devkit__bytes_append(&b, "", 1) != 0) {
		devkit__bytes_free(&b);
		return NULL;
	}
	return b.data;
}
