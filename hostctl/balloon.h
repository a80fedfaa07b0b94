/* balloon.h - the guest side: a per-node balloon of pinned anonymous pages
 * whose guest-physical frames the host punches out of the tier's file. */
#ifndef HC_BALLOON_H
#define HC_BALLOON_H
#include <stddef.h>
#include <stdint.h>
#include "proto.h"

enum { HC_BALLOON_NODES = 64 };

struct hc_chunk {
	struct hc_chunk *next;
	char *addr;
	size_t len;
	uint8_t *rep;        /* per page: 1 if reported to (and punched by) the host */
	uint64_t reported;   /* bytes */
};

struct hc_balloon {
	struct hc_chunk *head[HC_BALLOON_NODES];  /* committed chunks, newest first */
	uint64_t size[HC_BALLOON_NODES];          /* committed bytes */
	struct hc_chunk *pending;                 /* last inflate, until commit */
	int pending_node;
	int pagemap_fd;
	uint64_t reserve;                         /* node memory never ballooned */
};

int hc_balloon_init(struct hc_balloon *b, uint64_t reserve, char *why);
/* Pin up to bytes on node and describe their frames as merged ranges. The
 * chunk is pending until hc_balloon_commit. 0 ranges with why: no memory. */
int hc_balloon_inflate(struct hc_balloon *b, int node, uint64_t bytes, struct hc_range *out,
		       size_t max, size_t *n, char *why);
void hc_balloon_commit(struct hc_balloon *b, int ok);
/* Unpin (munmap) up to bytes of node's committed balloon, newest first. */
uint64_t hc_balloon_deflate(struct hc_balloon *b, int node, uint64_t bytes);
/* MemTotal and MemFree from /sys/devices/system/node/nodeN/meminfo, plus
 * the node's free pages on per-CPU lists (/proc/zoneinfo); -1: no memory. */
int hc_node_mem(int node, uint64_t *total, uint64_t *free);
#endif
