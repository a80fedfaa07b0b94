/*
 * test_munmap.c - guest test: the program unmaps chunks while the engine is
 * exchanging them (its own thread, real move_pages). Nothing crashes, the
 * pages that vanished are counted as failures, and afterwards the range map
 * holds exactly the chunks still mapped: the ones unregistered after munmap
 * and the ones only a /proc/self/maps rescan can notice are both gone.
 * The random race may never land inside a batch, so one last chunk is
 * unmapped for sure between the plan and its move: a gate in front of the
 * real actuator holds a batch until this thread has unmapped its chunk.
 */
#include <pthread.h>
#include "engine_guest.h"

#define MIB (1ul << 20)
#define CHUNK (2 * MIB)
#define NCHUNK 64
#define SIZE (NCHUNK * CHUNK)
#define PAGE 4096ul
#define LIMIT_S 150

static char *mem;
static int live[NCHUNK], told[NCHUNK];

/* The gate: armed, the next move batch waits (5 s at most) until the main thread has unmapped its chunk. */
struct gate {
	struct ht_actuator real;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int state; /* 0 off, 1 armed, 2 holding a batch, 3 released */
	uintptr_t held[CHUNK / PAGE * 4]; /* the held batch (batch=4M) */
	size_t nheld;
};
static struct gate G = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static int gate_query(void *priv, void **pages, size_t n, int *nodes)
{
	return G.real.ops->query(G.real.priv, pages, n, nodes);
	(void)priv;
}

static int gate_move(void *priv, void **pages, size_t n, int node, int *status)
{
	pthread_mutex_lock(&G.mu);
	if (G.state == 1 && n) {
		G.nheld = n < sizeof(G.held) / sizeof(G.held[0]) ? n : sizeof(G.held) / sizeof(G.held[0]);
		for (size_t i = 0; i < G.nheld; i++)
			G.held[i] = (uintptr_t)pages[i];
		G.state = 2;
		pthread_cond_broadcast(&G.cv);
		struct timespec dl;
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += 5;
		while (G.state == 2 && pthread_cond_timedwait(&G.cv, &G.mu, &dl) == 0)
			;
	}
	pthread_mutex_unlock(&G.mu);
	return G.real.ops->move(G.real.priv, pages, n, node, status);
	(void)priv;
}

static int gate_policy(void *priv, uintptr_t start, size_t len, int node)
{
	return G.real.ops->set_policy(G.real.priv, start, len, node);
	(void)priv;
}

static int gate_mem(void *priv, int node, uint64_t *free_b, uint64_t *total_b)
{
	return G.real.ops->node_mem(G.real.priv, node, free_b, total_b);
	(void)priv;
}

static const struct ht_actuator_ops gate_ops = { "gate", gate_query, gate_move, gate_policy, gate_mem };

static void hint_half(struct ht_engine *e, int hot)
{
	for (int c = 0; c < NCHUNK; c++)
		if (live[c])
			ht_engine_hint(e, (uintptr_t)(mem + (size_t)c * CHUNK), CHUNK, (c < NCHUNK / 2) == hot ? HT_HOT : HT_COLD);
}

int main(void)
{
	struct tier_engine T;
	tier_engine_init(&T, "epoch=100ms,fast_quota=64M,migrate_rate=0,epoch_cap=0,batch=4M");
	G.real = T.act; /* the engine calls through &T.act on every move */
	T.act.ops = &gate_ops;
	T.act.priv = &G;
	mem = (char *)gups_map(SIZE, 1);
	if (!mem)
		tap_bail("mmap/mbind of 128 MiB on node 1 failed");
	for (size_t i = 0; i < SIZE; i++)
		mem[i] = (char)(i * 7 + 1);
	for (int c = 0; c < NCHUNK; c++)
		live[c] = 1;
	is_int(ht_engine_add_range(T.e, (uintptr_t)mem, SIZE, HT_ORIGIN_USER), 0, "128 MiB registered");
	hint_half(T.e, 1);
	ok(ht_engine_start(T.e) == 0, "engine thread started");

	uint64_t t0 = mono_ns(), x = 12345;
	int unmapped = 0, unregistered = 0, flips = 0;
	struct ht_stats st = { .size = sizeof(st) };
	do {
		sleep_ms(150);
		/* every third round: switch halves, so exchanges are in flight again */
		if (++flips % 3 == 0)
			hint_half(T.e, (flips / 3) & 1);
		sleep_ms(50);
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		int c = (int)((x >> 33) % NCHUNK);
		if (!live[c])
			continue;
		if (munmap(mem + (size_t)c * CHUNK, CHUNK) != 0)
			tap_bail("munmap failed");
		live[c] = 0;
		unmapped++;
		if (c & 1) { /* the program tells us, after the fact */
			ht_engine_remove_range(T.e, (uintptr_t)(mem + (size_t)c * CHUNK), CHUNK);
			told[c] = 1;
			unregistered++;
		}
	} while (unmapped < NCHUNK / 2 - 1 && (mono_ns() - t0) / 1000000000ull < LIMIT_S);
	ht_engine_get_stats(T.e, &st);
	uint64_t raced = st.fail_enoent;

	/* The sure shot: hold the next batch, unmap the live chunk it moves (silently), release it. */
	int shot = -1;
	size_t in_batch = 0;
	for (int tries = 0; shot < 0 && tries < 20 && (mono_ns() - t0) / 1000000000ull < LIMIT_S; tries++) {
		hint_half(T.e, tries & 1); /* new hot half: a plan with moves */
		pthread_mutex_lock(&G.mu);
		G.state = 1;
		struct timespec dl;
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += 3;
		while (G.state == 1 && pthread_cond_timedwait(&G.cv, &G.mu, &dl) == 0)
			;
		if (G.state == 2) {
			uintptr_t a = G.held[0];
			int c = (int)((a - (uintptr_t)mem) / CHUNK);
			if (a >= (uintptr_t)mem && c < NCHUNK && live[c]) {
				uintptr_t cs = (uintptr_t)mem + (size_t)c * CHUNK;
				for (size_t i = 0; i < G.nheld; i++)
					in_batch += G.held[i] >= cs && G.held[i] < cs + CHUNK;
				if (munmap((void *)cs, CHUNK) != 0)
					tap_bail("munmap failed");
				live[c] = 0;
				unmapped++;
				shot = c;
			}
		}
		G.state = 3;
		pthread_cond_broadcast(&G.cv);
		pthread_mutex_unlock(&G.mu);
	}
	sleep_ms(300);
	ht_engine_stop(T.e);
	ht_engine_get_stats(T.e, &st);
	ok(1, "no crash: %d chunks unmapped under the engine (%d unregistered after), %llu pages moved",
	   unmapped, unregistered, (unsigned long long)(st.pages_promoted + st.pages_demoted));
	if (shot < 0)
		tap_diag("no batch reached the gate in 20 tries");
	ok(shot >= 0 && in_batch > 0 && st.fail_enoent - raced >= in_batch,
	   "pages that vanished mid-exchange counted: %llu of the %zu a held batch had in chunk %d, unmapped under it; "
	   "%llu in the random race (ebusy %llu, enomem %llu, other %llu)",
	   (unsigned long long)(st.fail_enoent - raced), in_batch, shot, (unsigned long long)raced,
	   (unsigned long long)st.fail_ebusy, (unsigned long long)st.fail_enomem, (unsigned long long)st.fail_other);

	/* The rescan notices chunks unmapped without a word (it also adds the process's other anon memory). */
	ok(ht_engine_scan_maps(T.e) > 0, "rescan of /proc/self/maps");
	size_t cap = 100000, n;
	struct ht_range_info *ri = malloc(cap * sizeof(*ri));
	n = ht_engine_top_ranges(T.e, ri, cap);
	uint64_t covered[NCHUNK] = { 0 };
	int wrong = 0;
	for (size_t i = 0; i < n; i++) {
		uintptr_t s = ri[i].start, e = s + ri[i].len;
		for (int c = 0; c < NCHUNK; c++) {
			uintptr_t cs = (uintptr_t)mem + (size_t)c * CHUNK, ce = cs + CHUNK;
			uintptr_t a = s > cs ? s : cs, b = e < ce ? e : ce;
			if (b <= a)
				continue;
			covered[c] += b - a;
			/* managed inside an unmapped chunk: only if something else got mapped there since */
			if (!live[c] && msync((void *)a, b - a, MS_ASYNC) != 0) {
				tap_diag("unmapped chunk %d (%s): [%#lx, %#lx) still managed", c,
					 told[c] ? "unregistered" : "rescan", (unsigned long)a, (unsigned long)b);
				wrong++;
			}
		}
	}
	for (int c = 0; c < NCHUNK; c++)
		if (live[c] && covered[c] != CHUNK) {
			tap_diag("live chunk %d: %llu bytes managed", c, (unsigned long long)covered[c]);
			wrong++;
		}
	is_int(wrong, 0, "range map: the %d live chunks fully managed, the %d unmapped ones gone", NCHUNK - unmapped, unmapped);
	size_t bad = 0;
	for (int c = 0; c < NCHUNK; c++)
		if (live[c])
			for (size_t i = (size_t)c * CHUNK; i < (size_t)(c + 1) * CHUNK; i++)
				bad += mem[i] != (char)(i * 7 + 1);
	is_int(bad, 0, "live chunks intact after all the moves");
	free(ri);
	ht_engine_destroy(T.e);
	return tap_done();
}
