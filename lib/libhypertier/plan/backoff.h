/*
 * backoff.h - pages that keep failing to move are skipped for a while:
 * conf->backoff epochs after the first failure, doubling per failure.
 * A fixed-size open-addressing table: no allocation after create; when a
 * probe window is full the entry expiring first is replaced.
 */
#ifndef HT_BACKOFF_H
#define HT_BACKOFF_H
#include <stdint.h>

struct ht_backoff;
struct ht_backoff *ht_backoff_create(unsigned slots_log2, uint64_t base_epochs);
void ht_backoff_destroy(struct ht_backoff *b);
/* 1 when page must be skipped at this epoch. */
int ht_backoff_skip(const struct ht_backoff *b, uintptr_t page, uint64_t epoch);
void ht_backoff_fail(struct ht_backoff *b, uintptr_t page, uint64_t epoch);
void ht_backoff_ok(struct ht_backoff *b, uintptr_t page);
/* Pages currently backed off (stats). */
uint64_t ht_backoff_count(const struct ht_backoff *b, uint64_t epoch);
#endif
