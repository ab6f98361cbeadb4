/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JSON documents the replica commands get from the library (the Pod of
 * devkit_replica_build, the rows of devkit_replica_list), read into a small
 * tree and written out again as YAML for `--dry-run -o yaml`.
 *
 * Why here and not jansson/libyaml: the CLI is built against the public API
 * of libdevkit alone and links nothing else; these documents come from the
 * library (valid JSON, jansson-made), so a small reader suffices. The YAML
 * writer is conservative: a string is written plain only when no YAML 1.1 or
 * 1.2 reader could take it for anything else, multi-line strings (the
 * keep-alive script) as literal blocks, everything else double-quoted.
 */
#ifndef DEVKIT_CLI_CMD_REPLICA_DOC_H
#define DEVKIT_CLI_CMD_REPLICA_DOC_H

#include <stddef.h>
#include <stdio.h>

typedef enum rdoc_type {
	RDOC_NULL,
	RDOC_BOOL,
	RDOC_NUMBER,
	RDOC_STRING,
	RDOC_ARRAY,
	RDOC_OBJECT
} rdoc_type;

typedef struct rdoc {
	rdoc_type type;
	char *key;           /* the member's name inside an object, else NULL */
	char *text;          /* STRING: the decoded UTF-8; NUMBER, BOOL: as written */
	size_t len;          /* of text (a string may hold "\u0000") */
	struct rdoc *child;  /* ARRAY, OBJECT: the first element or member, in order */
	struct rdoc *next;   /* the next sibling */
} rdoc;

/* Parse `len` bytes of JSON. NULL on error, with the reason and its offset
 * in err. Free with rdoc_free. */
rdoc *rdoc_parse(const char *text, size_t len, char *err, size_t errsize);
void rdoc_free(rdoc *doc);

/* The member `key` of an object, or NULL. */
const rdoc *rdoc_get(const rdoc *obj, const char *key);
/* The string value of member `key`, or NULL when absent or not a string. */
const char *rdoc_str(const rdoc *obj, const char *key);

/* Write the document as YAML (kubectl's layout: two-space indentation, list
 * items at their key's indentation). 0, or -1 if writing failed. */
int rdoc_write_yaml(const rdoc *doc, FILE *f);

#endif
