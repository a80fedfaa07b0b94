/*
 * rangemap.h - which address spans are managed: add and remove spans of the
 * range array (filling gaps, trimming and splitting ranges that overlap),
 * and the /proc/self/maps scan that feeds it.
 */
#ifndef HT_RANGEMAP_H
#define HT_RANGEMAP_H
#include "range.h"

/* Called for every span really added (unmap=0) or removed (unmap=1). */
typedef void (*ht_span_fn)(void *arg, uintptr_t start, size_t len, int unmap);

/*
 * Manage [start, end): the parts not yet covered become new ranges of
 * origin (never longer than max_len each, so huge mappings start split).
 * Returns bytes newly covered, or -ENOMEM (cap on ranges reached; nothing
 * half-done stays: what was added before the cap remains valid).
 */
long ht_rangemap_add(struct ht_ranges *v, uintptr_t start, uintptr_t end, int origin,
		     uint64_t epoch, size_t max_ranges, ht_span_fn fn, void *arg);
/* Stop managing [start, end): trims/splits/erases ranges. Returns bytes removed. */
long ht_rangemap_remove(struct ht_ranges *v, uintptr_t start, uintptr_t end, ht_span_fn fn, void *arg);

/* One mapping of /proc/self/maps that the configuration manages. */
struct ht_mapping { uintptr_t start, end; };
/*
 * Read /proc/self/maps (path, for tests: another file) and keep the
 * mappings to manage: anonymous private writable (heap, anon mmaps) or,
 * with all=1, also file mappings and stacks; never the vdso/vvar/vsyscall
 * or non-writable ones. all=2: every mapping (to notice what was unmapped). Returns how many were stored in *out (malloc'd), or -errno.
 */
long ht_maps_read(const char *path, int all, struct ht_mapping **out);


/* Make addr a range boundary (split the range containing it). 0 or -ENOMEM. */
int ht_rangemap_cut(struct ht_ranges *v, uintptr_t addr);
#endif
