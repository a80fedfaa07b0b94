/* mtree.h - guest-physical layout from QEMU's `info mtree -f`. */
#ifndef HC_MTREE_H
#define HC_MTREE_H
#include <stddef.h>
#include <stdint.h>

struct hc_seg {
	uint64_t gpa, len;  /* guest-physical range */
	uint64_t off;       /* offset inside the memory region (its backend) */
	int ram;            /* "ram" (not rom, i/o, romd...) */
	char mr[64];        /* memory region name: the memdev id for backends */
};

/* Parse the flat view of address space "memory" (the system bus). Returns 0
 * and a malloc'd, gpa-sorted array, or -1 with why. */
int hc_mtree_parse(const char *text, struct hc_seg **segs, size_t *n, char *why);
#endif
