/*
 * sim.h - a simulated placement behind struct ht_actuator_ops.
 * bench/ runs the project's own engine against it, and the baselines use
 * the same table directly, so every policy is judged on one machine model:
 * a node per page over registered address spans, fast/slow capacities,
 * first-touch placement, and a per-page migration cost.
 */
#ifndef HT_ACTUATOR_SIM_H
#define HT_ACTUATOR_SIM_H
#include <stddef.h>
#include <stdint.h>
#include "actuator.h"

struct ht_sim_params {
	uint64_t fast_bytes, slow_bytes; /* capacities */
	size_t page_size;                /* 4096 unless told */
	int fast_node, slow_node;        /* node ids the engine sees (0 and 1) */
	uint64_t migrate_ns;             /* modelled cost of moving one page */
};

struct ht_sim_counts {
	uint64_t used[2];           /* pages resident: [0] fast, [1] slow */
	uint64_t cap[2];            /* capacity in pages */
	uint64_t promoted, demoted; /* pages moved slow->fast, fast->slow */
	uint64_t move_calls;        /* move() batches from the actuator ops */
	uint64_t failed;            /* per-page failures (full, not mapped, unplaced) */
	uint64_t migrate_ns;        /* promoted+demoted times the per-page cost */
};

struct ht_sim;

struct ht_sim *ht_sim_create(const struct ht_sim_params *p);
void ht_sim_destroy(struct ht_sim *s);
/* Register [start, start+len) (page aligned); its pages start unplaced. 0 or -errno. */
int ht_sim_add_span(struct ht_sim *s, uintptr_t start, size_t len);
/* Index of the page holding addr across all spans (0..n-1), or -1. */
long ht_sim_page_index(const struct ht_sim *s, uintptr_t addr);
uintptr_t ht_sim_page_addr(const struct ht_sim *s, long idx);
size_t ht_sim_nr_pages(const struct ht_sim *s);
/* Node of page idx: fast_node, slow_node, or -ENOENT while unplaced. */
int ht_sim_node(const struct ht_sim *s, long idx);
/* First touch: place an unplaced page on its policy node (set_policy), else
 * fast while there is room, else slow. Returns the node (placed or not). */
int ht_sim_touch(struct ht_sim *s, long idx);
/* Place page idx on node now (initial placement, not counted as migration). */
int ht_sim_place(struct ht_sim *s, long idx, int node);
/* Migrate page idx to node: node, or -ENOENT (unplaced), -ENOMEM (full). */
int ht_sim_move(struct ht_sim *s, long idx, int node);
void ht_sim_get_counts(const struct ht_sim *s, struct ht_sim_counts *c);
/* Is node the fast one? */
int ht_sim_is_fast(const struct ht_sim *s, int node);

/* The actuator: query/move/set_policy/node_mem over this table. */
void ht_actuator_sim_init(struct ht_actuator *a, struct ht_sim *sim);
#endif
