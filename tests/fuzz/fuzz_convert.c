/* ht-trace-convert's input: input is a lackey log, converted with -n 1
 * from one file into another; when the tool says it succeeded, its output
 * must read back as a complete trace. Files in a private temporary directory. */
#include "fuzz.h"
#define main ht_trace_convert_main
#include "../../tools/ht-trace-convert.c"
#undef main
#include <getopt.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[64], out[64], why[256];
	if (fuzz_file("lackey", data, size, in, sizeof(in)) == 0 && fuzz_file("out", NULL, 0, out, sizeof(out)) == 0) {
		char *argv[] = { "ht-trace-convert", "-n", "1", "-o", out, in, NULL };
		optind = 0; /* a fresh getopt for every call */
		if (ht_trace_convert_main(6, argv) == 0) {
			struct ht_trace_reader *r = ht_trace_reader_open(out, why, sizeof(why));
			struct ht_trace_rec rec;
			int rc;
			FUZZ_ASSERT(r);
			while ((rc = ht_trace_read_next(r, &rec)) == 1)
				;
			FUZZ_ASSERT(rc == 0 && ht_trace_reader_complete(r));
			ht_trace_reader_close(r);
		}
	}
	unlink(in);
	unlink(out);
	return 0;
}
