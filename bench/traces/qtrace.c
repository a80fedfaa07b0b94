/*
 * qtrace.c - QEMU user-mode TCG plugin: every data access of the guest, in
 * the raw form `ht-trace-convert -q` reads. Built by traces.sh against the
 * qemu-plugin.h of the installed QEMU (qemu-plugin-header.sh).
 *
 *   qemu-x86_64 -plugin qtrace.so,out=PATH[,max=N] PROG ARGS...
 *
 * Output: 16-byte header ("HTQEMU\0\0", u32 version 1, u32 record size 8),
 * then one little-endian u64 an access: bits 0-55 the guest virtual address,
 * 56-62 the vCPU (guest thread) index + 1, 63 set for a store. Each vCPU
 * fills its own buffer and writes it whole under a lock: no lock per access,
 * threads interleave a buffer at a time. max=N: after N accesses the
 * trace is written and the process ends (_exit 0), the capture's bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#define BUF_RECS (1u << 19) /* 4 MiB a vCPU: big write()s */
#define MAX_VCPUS 4096

struct buf {
	uint64_t n, tag;
	uint64_t r[BUF_RECS];
};

static struct buf *bufs[MAX_VCPUS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int fd = -1, failed;
static uint64_t total, max_recs;

static void put(const void *p, size_t len)
{
	const char *c = p;
	while (len && !failed) {
		ssize_t w = write(fd, c, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			failed = 1; /* reader gone (e.g. converter killed): stop tracing */
			break;
		}
		c += w;
		len -= (size_t)w;
	}
}

/* Writes b's records (under lock). At max, the whole trace ends here. */
static void flush(struct buf *b, int at_exit)
{
	pthread_mutex_lock(&lock);
	uint64_t n = b->n;
	if (max_recs && total + n >= max_recs)
		n = max_recs - total;
	put(b->r, n * sizeof(b->r[0]));
	total += n;
	b->n = 0;
	if (max_recs && total >= max_recs && !at_exit) {
		fprintf(stderr, "qtrace: %" PRIu64 " accesses (max): ending the process\n", total);
		close(fd);
		_exit(0);
	}
	pthread_mutex_unlock(&lock);
}

/* A vCPU's buffer, made on its first access. A reused index (a thread
 * that ended) keeps its buffer: never two threads at once. */
static struct buf *new_buf(unsigned int vcpu)
{
	pthread_mutex_lock(&lock);
	struct buf *b = bufs[vcpu % MAX_VCPUS];
	if (!b && (b = malloc(sizeof(*b)))) {
		b->n = 0;
		b->tag = (uint64_t)(vcpu % 127 + 1) << 56;
		bufs[vcpu % MAX_VCPUS] = b;
	}
	pthread_mutex_unlock(&lock);
	return b;
}

static void on_mem(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *udata)
{
	(void)udata;
	struct buf *b = bufs[vcpu % MAX_VCPUS];
	if (failed || (!b && !(b = new_buf(vcpu))))
		return;
	b->r[b->n++] = (vaddr & ((1ull << 56) - 1)) | b->tag | (uint64_t)qemu_plugin_mem_is_store(info) << 63;
	if (b->n == BUF_RECS)
		flush(b, 0);
}

static void on_tb(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	(void)id;
	size_t n = qemu_plugin_tb_n_insns(tb);
	for (size_t i = 0; i < n; i++)
		qemu_plugin_register_vcpu_mem_cb(qemu_plugin_tb_get_insn(tb, i), on_mem, QEMU_PLUGIN_CB_NO_REGS,
						 QEMU_PLUGIN_MEM_RW, NULL);
}

static void on_exit_cb(qemu_plugin_id_t id, void *p)
{
	(void)id, (void)p;
	for (int i = 0; i < MAX_VCPUS; i++)
		if (bufs[i] && bufs[i]->n)
			flush(bufs[i], 1);
	/* stderr, not qemu_plugin_outs: that needs -d plugin */
	fprintf(stderr, "qtrace: %" PRIu64 " accesses%s\n", total, failed ? " (write failed)" : "");
	close(fd);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
	const char *out = NULL;
	(void)info;
	for (int i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "out=", 4))
			out = argv[i] + 4;
		else if (!strncmp(argv[i], "max=", 4))
			max_recs = strtoull(argv[i] + 4, NULL, 0);
		else {
			fprintf(stderr, "qtrace: unknown argument %s (out=PATH, max=N)\n", argv[i]);
			return -1;
		}
	}
	if (!out) {
		fprintf(stderr, "qtrace: out=PATH is required\n");
		return -1;
	}
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "qtrace: %s: %s\n", out, strerror(errno));
		return -1;
	}
	unsigned char h[16] = "HTQEMU";
	h[8] = 1;  /* version */
	h[12] = 8; /* record size */
	put(h, sizeof(h));
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb);
	qemu_plugin_register_atexit_cb(id, on_exit_cb, NULL);
	return 0;
}
