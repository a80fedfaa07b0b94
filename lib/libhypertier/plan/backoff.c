/* backoff.c - per-page failure back-off. */
#include "backoff.h"
#include <stdlib.h>

#define PROBE 8 /* probe window of the open-addressing table */

struct slot { uintptr_t page; uint64_t until; uint32_t fails; };

struct ht_backoff {
	struct slot *s;
	uint64_t mask, base;
};

struct ht_backoff *ht_backoff_create(unsigned slots_log2, uint64_t base_epochs)
{
	struct ht_backoff *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->s = calloc((size_t)1 << slots_log2, sizeof(*b->s));
	if (!b->s) {
		free(b);
		return NULL;
	}
	b->mask = ((uint64_t)1 << slots_log2) - 1;
	b->base = base_epochs ? base_epochs : 1;
	return b;
}

void ht_backoff_destroy(struct ht_backoff *b)
{
	if (b) {
		free(b->s);
		free(b);
	}
}

static uint64_t hash(uintptr_t p) { return (uint64_t)(p >> 12) * 0x9E3779B97F4A7C15ull; }

static struct slot *lookup(const struct ht_backoff *b, uintptr_t page)
{
	uint64_t h = hash(page);
	for (int i = 0; i < PROBE; i++) {
		struct slot *s = &b->s[(h + i) & b->mask];
		if (s->page == page)
			return s;
	}
	return NULL;
}

int ht_backoff_skip(const struct ht_backoff *b, uintptr_t page, uint64_t epoch)
{
	const struct slot *s = lookup(b, page);
	return s && s->until > epoch;
}

void ht_backoff_fail(struct ht_backoff *b, uintptr_t page, uint64_t epoch)
{
	struct slot *s = lookup(b, page);
	if (!s) {
		uint64_t h = hash(page);
		s = &b->s[h & b->mask];
		for (int i = 0; i < PROBE; i++) { /* free slot, else the one expiring first */
			struct slot *t = &b->s[(h + i) & b->mask];
			if (!t->page || t->until <= epoch) {
				s = t;
				break;
			}
			if (t->until < s->until)
				s = t;
		}
		s->page = page;
		s->fails = 0;
	}
	if (s->fails < 16)
		s->fails++;
	s->until = epoch + (b->base << (s->fails - 1));
}

void ht_backoff_ok(struct ht_backoff *b, uintptr_t page)
{
	struct slot *s = lookup(b, page);
	if (s)
		s->page = 0;
}

uint64_t ht_backoff_count(const struct ht_backoff *b, uint64_t epoch)
{
	uint64_t n = 0;
	for (uint64_t i = 0; i <= b->mask; i++)
		n += b->s[i].page && b->s[i].until > epoch;
	return n;
}
