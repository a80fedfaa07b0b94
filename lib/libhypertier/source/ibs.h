/* ibs.h - AMD IBS op raw-record decoding (layout documented in ibs.c). */
#ifndef HT_IBS_H
#define HT_IBS_H
#include "source.h"

/* Fill o->addr/store/weight from one PERF_SAMPLE_RAW payload of ibs_op.
 * 1 if it is a load or store with a valid user linear address, else 0. */
int ht_ibs_decode(const void *raw, uint32_t size, struct ht_sample *o);
#endif
