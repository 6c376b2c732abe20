/*
 * text.c: librtmc's text helpers, thin wrappers over ipc/addr so that
 * programs using only rtmc.h print and parse exactly as rtm-admin does.
 */
#include <string.h>

#include "addr.h"
#include "rtmc.h"

int
rtmc_ipv4_parse(const char *s, uint32_t *ip, const char **why)
{
	return addr_ipv4_parse(s, ip, why);
}

char *
rtmc_ipv4_format(uint32_t ip, char buf[RTMC_IPV4_STRLEN])
{
	return addr_ipv4_format(ip, buf);
}

int
rtmc_mac_parse(const char *s, uint8_t mac[RTMC_MAC_LEN], const char **why)
{
	struct addr_mac m;

	if (addr_mac_parse(s, &m, why) == -1)
		return -1;
	memcpy(mac, m.b, RTMC_MAC_LEN);
	return 0;
}

char *
rtmc_mac_format(const uint8_t mac[RTMC_MAC_LEN], char buf[RTMC_MAC_STRLEN])
{
	struct addr_mac m;

	memcpy(m.b, mac, RTMC_MAC_LEN);
	return addr_mac_format(&m, buf);
}

char *
rtmc_route_format(const struct rtmc_route *r, char buf[RTMC_ROUTE_STRLEN])
{
	struct addr_route a;

	memset(&a, 0, sizeof(a));
	a.dst.addr = r->dst;
	a.dst.len = r->len;
	a.has_gw = r->has_gw ? 1 : 0;
	a.gw = r->has_gw ? r->gw : 0;
	memcpy(a.ifname, r->ifname, sizeof(a.ifname));
	a.ifname[sizeof(a.ifname) - 1] = '\0';
	return addr_route_format(&a, buf);
}
