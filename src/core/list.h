/* SPDX-License-Identifier: Apache-2.0 */
/* An intrusive circular doubly-linked list (as in libuv's queue.h). */
#ifndef DEVKIT_CORE_LIST_H
#define DEVKIT_CORE_LIST_H

#include <stddef.h>

typedef struct devkit__list {
	struct devkit__list *next, *prev;
} devkit__list;

#define devkit__container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

static inline void devkit__list_init(devkit__list *l) { l->next = l->prev = l; }
static inline int devkit__list_empty(const devkit__list *l) { return l->next == l; }
/* 1 if the node is linked into some list. Nodes must be initialised or zeroed. */
static inline int devkit__list_linked(const devkit__list *n) { return n->next && n->next != n; }

static inline void devkit__list_push(devkit__list *head, devkit__list *n)
{
	n->next = head;
	n->prev = head->prev;
	head->prev->next = n;
	head->prev = n;
}

static inline void devkit__list_remove(devkit__list *n)
{
	if (!n->next)
		return;
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}

/* Iterate safely against removal of the current node. */
#define devkit__list_each(pos, tmp, head) \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head); (pos) = (tmp), (tmp) = (pos)->next)

#endif
