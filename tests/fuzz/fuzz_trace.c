/* Trace-file reader: input is a whole trace file (in a private temporary
 * directory). Read every record; a failure must say why. */
#include "fuzz.h"
#include "source/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], why[256];
	if (fuzz_file("trace", data, size, path, sizeof(path)) < 0)
		return 0;
	struct ht_trace_reader *r = ht_trace_reader_open(path, why, sizeof(why));
	unlink(path);
	if (!r)
		return 0;
	struct ht_trace_rec rec;
	int rc;
	size_t n = 0;
	while ((rc = ht_trace_read_next(r, &rec)) == 1)
		FUZZ_ASSERT(++n <= size && rec.kind >= HT_TRACE_SAMPLE && rec.kind <= HT_TRACE_UNMAP);
	if (rc < 0)
		FUZZ_ASSERT(ht_trace_reader_error(r) && ht_trace_reader_error(r)[0]);
	ht_trace_reader_close(r);
	return 0;
}
