/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The answer cache: whole responses keyed by (lower-cased name, type, class),
 * kept for the smallest TTL they carry and handed out with their TTLs aged, so
 * a client never holds a record longer than the server allowed. Bounded by
 * `max` entries; the least recently used goes first. A hash table with
 * chaining finds entries; a list keeps the use order.
 */
#include "dns_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
	devkit__list lru;        /* most recent first */
	struct entry *next;      /* in its bucket */
	char *key;
	uint8_t *resp;
	size_t len;
	uint64_t stored_ms, expires_ms;
} entry;

struct dns_cache {
	unsigned int max, count;
	size_t nbuckets;
	entry **buckets;
	devkit__list lru;
};

static char *make_key(const char *name, uint16_t type, uint16_t klass)
{
	size_t n = strlen(name);
	char *k = malloc(n + 16);
	if (!k)
		return NULL;
	for (size_t i = 0; i < n; i++)
		k[i] = (char)tolower((unsigned char)name[i]);
	snprintf(k + n, 16, "/%u/%u", type, klass);
	return k;
}

static size_t hash(const char *s)
{
	size_t h = 14695981039346656037ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

dns_cache *dns__cache_new(unsigned int max)
{
	dns_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->max = max;
	c->nbuckets = 64;
	while (c->nbuckets < max && c->nbuckets < (1u << 20))
		c->nbuckets *= 2;
	c->buckets = calloc(c->nbuckets, sizeof(entry *));
	if (!c->buckets) {
		free(c);
		return NULL;
	}
	devkit__list_init(&c->lru);
	return c;
}

static void drop(dns_cache *c, entry *e)
{
	entry **pp = &c->buckets[hash(e->key) & (c->nbuckets - 1)];
	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (*pp)
		*pp = e->next;
	devkit__list_remove(&e->lru);
	free(e->key);
	free(e->resp);
	free(e);
	c->count--;
}

void dns__cache_free(dns_cache *c)
{
	if (!c)
		return;
	while (!devkit__list_empty(&c->lru))
		drop(c, devkit__container_of(c->lru.next, entry, lru));
	free(c->buckets);
	free(c);
}

static entry *find(dns_cache *c, const char *key)
{
	for (entry *e = c->buckets[hash(key) & (c->nbuckets - 1)]; e; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

uint8_t *dns__cache_get(dns_cache *c, const char *name, uint16_t type, uint16_t klass,
	uint64_t now_ms, size_t *len)
{
	if (!c || c->max == 0)
		return NULL;
	char *key = make_key(name, type, klass);
	if (!key)
		return NULL;
	entry *e = find(c, key);
	free(key);
	if (!e)
		return NULL;
	if (now_ms >= e->expires_ms) {
		drop(c, e);
		return NULL;
	}
	uint8_t *copy = malloc(e->len);
	if (!copy)
		return NULL;
	memcpy(copy, e->resp, e->len);
	dns_msg m;
	if (dns_msg_parse(copy, e->len, &m) == 0)
		dns_msg_age(copy, &m, (uint32_t)((now_ms - e->stored_ms) / 1000));
	dns_msg_clear(&m);
	devkit__list_remove(&e->lru);
	devkit__list_push(c->lru.next, &e->lru); /* to the front */
	*len = e->len;
	return copy;
}

void dns__cache_put(dns_cache *c, const char *name, uint16_t type, uint16_t klass,
	const uint8_t *resp, size_t len, uint32_t ttl, uint64_t now_ms)
{
	if (!c || c->max == 0 || ttl == 0)
		return;
	char *key = make_key(name, type, klass);
	if (!key)
		return;
	entry *old = find(c, key);
	if (old)
		drop(c, old);
	entry *e = calloc(1, sizeof(*e));
	uint8_t *copy = malloc(len);
	if (!e || !copy) {
		free(e);
		free(copy);
		free(key);
		return;
	}
	memcpy(copy, resp, len);
	e->key = key;
	e->resp = copy;
	e->len = len;
	e->stored_ms = now_ms;
	e->expires_ms = now_ms + (uint64_t)ttl * 1000;
	size_t b = hash(key) & (c->nbuckets - 1);
	e->next = c->buckets[b];
	c->buckets[b] = e;
	devkit__list_push(c->lru.next, &e->lru);
	c->count++;
	while (c->count > c->max)
		drop(c, devkit__container_of(c->lru.prev, entry, lru));
}
