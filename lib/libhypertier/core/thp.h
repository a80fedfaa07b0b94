/*
 * thp.h - the smallest fast quota the engine can hold. With transparent
 * huge pages on, move_pages moves a whole 2 MiB huge page when asked for
 * one of its 4 KiB pages, so a quota under two huge pages cannot be held
 * (measured: fast_quota=1M gave 2 MiB on node 0; 4M held).
 */
#ifndef HT_THP_H
#define HT_THP_H
#include <stddef.h>
#include <stdint.h>

/* The huge page size when THP may back anonymous memory ([always] or
 * [madvise] in ROOT/sys/kernel/mm/transparent_hugepage/enabled), else 0.
 * root NULL: the real /sys. */
uint64_t ht_thp_unit(const char *root);

/* 1 when THP backs all anonymous memory ([always]): then no 4 KiB page of
 * it can move alone. */
int ht_thp_always(const char *root);

/* 0 if quota (0: none) can be held with huge pages of thp_unit bytes
 * (0: none), else -1 with the reason in err. */
int ht_quota_check(uint64_t quota, uint64_t thp_unit, char *err, size_t len);
#endif
