// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* DNS capture for unconnected IPv6 UDP sockets: sendto([ns]:53) becomes sendto([::1]:15053). */
#include "dns.h"

SEC("cgroup/sendmsg6")
int ambit_sendmsg6(struct bpf_sock_addr *ctx)
{
	__u8 addr[16];
	__u32 ip6[4];

	CTX_IP6(ip6, ctx->user_ip6);
	addr_from_v6(addr, ip6);
	/* v4-mapped destinations take the IPv4 path and meet sendmsg4 instead. */
	if (addr_is_v4_mapped(addr))
		return 1;
	if (should_capture_dns(ctx, addr, bpf_ntohs(ctx->user_port), AF_INET6)) {
		ctx->user_ip6[0] = 0;
		ctx->user_ip6[1] = 0;
		ctx->user_ip6[2] = 0;
		ctx->user_ip6[3] = bpf_htonl(1);
		ctx->user_port = bpf_htons(knobs.dns_port);
	}
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
