/*
 * bench_gen.c: writes the benchmark's input files.
 *
 *   bench_gen routes N SEED FILE   N "route add ..." lines (bench.h's
 *                                  route set); rtm-admin -b and
 *                                  ip -batch both read this syntax
 *   bench_gen arp M FILE           M "arp add MAC IP" lines
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "bench.h"

static int
usage(void)
{
	fprintf(stderr, "usage: bench_gen routes N SEED FILE\n"
	    "       bench_gen arp M FILE\n");
	return 2;
}

static int
gen_routes(size_t n, uint64_t seed, FILE *f)
{
	struct addr_route	*r;
	char			 buf[ADDR_ROUTE_STRLEN];

	if ((r = bench_routes(n, seed)) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		fprintf(f, "route add %s\n", addr_route_format(&r[i], buf));
	free(r);
	return 0;
}

static int
gen_arp(size_t m, FILE *f)
{
	struct addr_mac	 mac;
	char		 mb[ADDR_MAC_STRLEN], ib[ADDR_IPV4_STRLEN];

	for (size_t i = 0; i < m; i++) {
		bench_mac(i, &mac);
		fprintf(f, "arp add %s %s\n", addr_mac_format(&mac, mb),
		    addr_ipv4_format(bench_mac_ip(i), ib));
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	FILE		*f;
	const char	*file;
	size_t		 n;
	int		 r;

	if (argc == 5 && strcmp(argv[1], "routes") == 0)
		file = argv[4];
	else if (argc == 4 && strcmp(argv[1], "arp") == 0)
		file = argv[3];
	else
		return usage();
	n = strtoul(argv[2], NULL, 10);
	if (n == 0 || n > (1u << 24))
		return usage();
	if ((f = fopen(file, "w")) == NULL) {
		fprintf(stderr, "bench_gen: %s: %s\n", file, strerror(errno));
		return 1;
	}
	if (argv[1][0] == 'r')
		r = gen_routes(n, strtoull(argv[3], NULL, 10), f);
	else
		r = gen_arp(n, f);
	if (r == -1 || ferror(f) || fclose(f) == EOF) {
		fprintf(stderr, "bench_gen: %s: %s\n", file, strerror(errno));
		return 1;
	}
	return 0;
}
