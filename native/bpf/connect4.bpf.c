// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Outbound capture for IPv4 sockets: connect(dst) becomes connect(127.0.0.1:15001),
 * or 127.0.0.1:15053 (the DNS proxy) for TCP and UDP DNS.
 */
#include "dns.h"

SEC("cgroup/connect4")
int ambit_connect4(struct bpf_sock_addr *ctx)
{
	__u16 port = bpf_ntohs(ctx->user_port);
	__u8 addr[16];

	addr_from_v4(addr, ctx->user_ip4);
	if (should_capture_dns(ctx, addr, port, AF_INET)) {
		/* glibc connects its UDP socket before send(): sendmsg4 never sees those. */
		ctx->user_ip4 = bpf_htonl(0x7f000001);
		ctx->user_port = bpf_htons(knobs.dns_port);
	} else if (should_capture(ctx, addr, port, AF_INET)) {
		ctx->user_ip4 = bpf_htonl(0x7f000001);
		ctx->user_port = bpf_htons(captured_port(port));
	}
	return 1; /* never refuse a connect */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
