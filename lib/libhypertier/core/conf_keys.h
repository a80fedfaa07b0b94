/*
 * Every runtime setting, as data: HYPERTIER_CONF="key=value,key=value".
 * X(name, type, default, min, max, doc). Sizes take K/M/G/T suffixes,
 * durations us/ms/s (plain numbers are ms), lists are ';'-separated.
 * Numbers are decimal and start with a digit (no sign, space or 0x); a key
 * given twice and any control character are refused; spaces after a comma
 * are skipped.
 * This table is the single source for the parser, hypertier-info and the
 * man page (hypertier(7) lists the same keys; tests check they agree).
 */
/* general */
X(enable,        BOOL, "1",      0, 1, "master switch; 0 leaves the program untouched")
X(log,           ENUM, "off",    0, 0, "off|error|warn|info|debug; off keeps the program's output byte-identical")
X(log_file,      STR,  "",       0, 0, "log destination (default stderr); a regular file of ours: symlinks, FIFOs and hard-linked files are refused")
/* tiers */
X(fast_node,     NODE, "-1",    -1, 1023, "fast-tier node (-1: the node with CPUs and lowest distance)")
X(slow_node,     NODE, "-1",    -1, 1023, "slow-tier node (-1: CPU-less / farthest / highest HMAT latency)")
X(fast_quota,    SIZE, "0",      0, 0, "fast-tier quota for this process (0: no quota); while transparent huge pages are on, at least two huge pages (4M on x86-64), since move_pages moves a huge page whole")
X(watermark,     PCT,  "2",      0, 50, "percent of fast-node capacity kept free")
/* sampling */
X(sample,        ENUM, "auto",   0, 0, "auto|pebs|ibs|damon|software|replay|none (auto: PEBS, then IBS, then DAMON)")
X(events,        STR,  "",       0, 0, "libpfm4 events, ';'-separated, each NAME[@PERIOD][/store|/load] (default: per PMU)")
X(sample_period, U64,  "4093",   1, 100000007, "load sample period")
X(store_period,  U64,  "65535",  1, 100000007, "store sample period")
X(ldlat,         U64,  "64",     3, 65535, "load-latency threshold in cycles")
X(ring_pages,    U64,  "64",     1, 4096, "perf ring data pages per CPU (power of two)")
X(drain_interval,DUR,  "20ms",   100, 10000000, "sampler sleep between ring drains")
X(period_auto,   BOOL, "0",      0, 1, "let the CPU-budget controller step the period")
X(cpu_budget,    PCT,  "1",      0.01, 100, "sampler CPU budget, percent of one core")
X(period_min,    U64,  "1009",   1, 100000007, "lowest period the controller may use")
X(period_max,    U64,  "100003", 1, 100000007, "highest period the controller may use")
X(budget_window, DUR,  "1s",     10000, 3600000000, "CPU-budget controller window: at most one period step per window")
X(record,        STR,  "",       0, 0, "write samples and the range map to this trace file (a regular file of ours, as for log_file)")
X(replay,        STR,  "",       0, 0, "read samples from this trace file (sample=replay; a regular file, never a symlink or FIFO)")
/* DAMON source */
X(damon_sample,  DUR,  "5ms",    100, 10000000, "DAMON sampling interval: how often it checks one page per region for an access")
X(damon_aggr,    DUR,  "100ms",  1000, 60000000, "DAMON aggregation interval: one report of every region per interval")
X(damon_update,  DUR,  "1s",     1000, 3600000000, "DAMON regions update interval: how often it re-reads the address map")
X(damon_regions_min, U64, "10",  3, 1000000, "fewest regions DAMON keeps")
X(damon_regions_max, U64, "1000", 3, 1000000, "most regions DAMON keeps (its cost grows with them)")
X(damon_grain,   SIZE, "2M",     4096, 0, "a region yields nr_accesses x its bytes / damon_grain samples per report (dithered)")
X(damon_decay,   PCT,  "80",     0, 100, "decay used instead when the source is DAMON: its reports are region averages that shift as DAMON splits and merges regions every aggregation, so the classifier averages more of them (80: about 2.5 s at epoch=500ms)")
X(damon_slots,   U64,  "4",      1, 64, "kdamonds to create when there are none (DAMON adds kdamonds only while all are off)")
/* ranges and classifier */
X(epoch,         DUR,  "500ms",  1000, 60000000, "classifier epoch")
X(epoch_samples, U64,  "8192",   0, 100000000, "run an epoch early once this many samples arrived since the last one (0: timer only): a dense sample stream then re-ranks within the epoch instead of waiting for the timer; 8192 samples let a range holding 1% of them reach the split threshold (split_tau x 4 CPUs) in one epoch; off with DAMON, whose sample count is made up per report")
X(epoch_min,     DUR,  "50ms",   1000, 60000000, "shortest time between two epochs, early ones included: bounds the epoch's own cost (placement scan, ranking) to epoch_min per epoch")
X(rescan,        DUR,  "5s",     100000, 3600000000, "/proc/self/maps rescan period")
X(manage,        ENUM, "anon",   0, 0, "anon|all: which mappings are managed")
X(min_range,     SIZE, "2M",     4096, 0, "smallest range the classifier splits to")
X(max_ranges,    U64,  "2048",   16, 1000000, "cap on the number of ranges")
X(split_tau,     U64,  "15",     1, 1000000, "split when count >= split_tau * CPUs (counted on the memory nodes of the topology)")
X(split_holdback,U64,  "3",      0, 100, "epochs a fresh child is held back from splitting")
X(decay,         PCT,  "50",     0, 100, "percent of each count kept per unit of evidence: an epoch period, or decay_samples samples when they come sooner")
X(decay_long,    PCT,  "84",     0, 100, "a second, longer memory for the range counts: percent kept per unit of evidence (84 is four times decay's half-life, so half its Poisson noise; 0 turns it off); each epoch both memories are scored on how well they predicted the epoch's samples per range, and the ranges rank by the better one lately (a steady program gets the quieter counts, a phase change the quicker ones); at or below decay: decay alone")
X(decay_shift,   BOOL, "0",      0, 1, "while the ranges rank by the short memory: a range whose epoch hits fall short of its count's share of them by split_ratio and by split_sigma standard deviations shrinks its count to what those hits leave plausible, so a hot set that moved ranks above the old one within an epoch instead of after the decay's half-life; an idle epoch changes nothing. Off by default: it gains moving-hot 1.4-3.9% at 1/8 but costs the 16-loop sqlite-ycsb trace 1.8% at 1/3, whose own loop has phases")
X(decay_samples, U64,  "16384",  0, 100000000, "samples that count as one epoch period for decay and page_decay (0: time alone): a dense stream forgets by samples, a sparse one by time, and early epochs do not forget faster than either")
X(split_ratio,   PCT,  "100",    0, 10000, "split when density exceeds the lower neighbour's, or the busiest eighth of a range its idlest, by this percent")
X(split_sigma,   U64,  "3",      0, 100, "an uneven range splits only when the difference exceeds this many standard deviations of sampling noise")
X(page_state,    SIZE, "8M",     0, 0, "cap on the page-grain state (a sketch of per-page counts and a table of hot pages, below range granularity); it also never takes more than 0.2% of the managed bytes; 0: off")
X(page_hot,      U64,  "1",      1, 1000000, "sketch estimate for a page of a range that is not wholly hot to enter the table of tracked pages (its first sample at 1); which tracked pages are hot is chosen each epoch from the counts (page_memory)")
X(page_decay,    PCT,  "90",     0, 100, "percent of each page count kept per epoch in the sketch, and the least the table keeps (page_memory): longer memory than the ranges' (decay), since one page draws few samples; 90 is about 10 epochs")
X(page_memory,   U64,  "4",      0, 1000000, "samples per tracked page the table's counts remember: each epoch they keep 1 - (that epoch's samples) / (page_memory x table entries), at least page_decay, so that pages with 1-2 samples stand apart from pages with none when there are few samples per page (a page with 2 expected samples shows none with Poisson probability 14%); 0: page_decay alone")
X(page_cold_expect, U64, "3",    0, 1000000, "a page without samples counts as cold inside a range only where the range expects at least this many samples per page (P(0) = e^-3 = 5% at 3); 0: never")
X(page_thp,      BOOL, "0",      0, 1, "keep the page layer when transparent huge pages are [always]: there move_pages moves a whole huge page for one 4 KiB page of it, so single promotions and demotions move 512 times what the exchange counts and the fast tier runs over its quota until the next epoch; 0 (default): the layer is off there, and the ranges alone place memory")
X(page_gain,     PCT,  "25",     0, 10000, "percent more than their ranges' average that pages promoted one by one must draw after their move (watched out of sample), beyond split_sigma standard deviations, for single promotions to stay open; below it they are cut to page_probe per epoch (25: on the redis and sqlite traces they draw 1.25-1.5x, on uniform access 1x)")
X(page_probe,    U64,  "16",     0, 1000000, "single-page promotions per epoch, at most, while the pages promoted one by one have not drawn more samples since (page_gain) than their ranges' average: measured after each move, so the page layer stops swapping pages whose counts were noise (uniform access) and keeps measuring")
X(merge_ratio,   PCT,  "25",     0, 100, "merge cold neighbours whose densities differ by at most this percent")
/* exchange */
X(batch,         SIZE, "64M",    4096, 0, "bytes per move_pages batch")
X(migrate_rate,  SIZE, "256M",   0, 0, "migration rate limit in bytes per second (0: unlimited); pages over a lowered quota or budget are demoted at once all the same")
X(epoch_cap,     SIZE, "512M",   0, 0, "bytes moved per epoch at most (0: unlimited); not applied to pages over a lowered quota or budget")
X(backoff,       U64,  "4",      1, 1000, "epochs to skip a page after it failed (doubles per failure)")
X(fault_move,    PCT,  "0",      0, 100, "testing: percent of move_pages calls made to fail, for the whole call (ENOMEM) or for a quarter of its pages (EFAULT, EBUSY, ENOMEM: not moved); 0: off")
X(move_cost,     DUR,  "0",      0, 1000000, "cost of moving one page, e.g. 2us (a 4 KiB copy, the remap and its TLB shootdown); when set, a move is made only when the expected gain (decayed samples x sample_period x the latency gap, from HMAT or SLIT) beats it, beyond sampling noise (split_sigma); 0 (default): off, since on the simulator its gain estimate (a count over the decay time constant) undervalues moves on steady hot sets (zipf 1/5: 52% instead of 60% fast-tier hits); always off with DAMON, whose samples stand for no fixed number of accesses")
X(scan_max,      SIZE, "4G",     4096, 0, "managed bytes whose placement is queried per epoch (rolling beyond)")
X(set_policy,    BOOL, "1",      0, 1, "mbind hot/cold ranges so future pages land right")
/* allocator */
X(place,         ENUM, "fast_first", 0, 0, "fast_first|slow|fast|none: tier of new extents")
X(site_threshold,SIZE, "1M",     0, 0, "allocations at least this big record their call site (0: off)")
X(site_depth,    U64,  "6",      1, 32, "call-stack frames hashed per site")
X(site_hot,      PCT,  "75",     0, 100, "a site with at least this percent of its blocks' bytes in the hot set is born on the fast tier")
X(site_cold,     PCT,  "25",     0, 100, "a site with at most this percent of its blocks' bytes in the hot set is born on the slow tier")
X(site_floor,    PCT,  "1",      0, 100, "for site learning, ranges below this percent of the hottest density count as cold")
/* stats */
X(stats,         BOOL, "1",      0, 1, "publish a shared-memory stats file for htstat")
X(stats_dir,     STR,  "",       0, 0, "stats file directory, which must exist, belong to the caller and be writable by no one else (default: /run/hypertier for root, /run/user/UID/hypertier for others, else /tmp/hypertier-UID, created mode 0700)")
X(stats_log,     STR,  "",       0, 0, "append JSON stats lines to this file (a regular file of ours: symlinks, FIFOs and hard-linked files are refused)")
X(stats_interval,DUR,  "1s",     10000, 3600000000, "stats file / stats_log update period")
