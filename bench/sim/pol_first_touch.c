/* pol_first_touch.c - no migration: pages stay where first touch put them. */
#include <stdlib.h>
#include "bench.h"

static void *ft_create(struct machine *m, uint64_t *tick) { return m; }
static void ft_tick(void *p, uint64_t now, const uint32_t *f, size_t n) {}
static void ft_destroy(void *p) {}

const struct policy_ops pol_first_touch = {
	.name = "first-touch", .create = ft_create, .tick = ft_tick, .destroy = ft_destroy,
};
