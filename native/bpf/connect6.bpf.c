// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Outbound capture for IPv6 sockets. A v4-mapped destination (a dual-stack
 * socket talking IPv4) goes to ::ffff:127.0.0.1 so the IPv4 listener takes it
 * and the recorded family stays AF_INET; native IPv6 goes to [::1]:15001.
 * DNS (TCP, and UDP connects) goes to the DNS proxy port instead.
 */
#include "dns.h"

SEC("cgroup/connect6")
int ambit_connect6(struct bpf_sock_addr *ctx)
{
	__u16 port = bpf_ntohs(ctx->user_port);
	__u16 to_port;
	__u8 addr[16];
	__u32 ip6[4];
	int mapped;

	CTX_IP6(ip6, ctx->user_ip6);
	addr_from_v6(addr, ip6);
	mapped = addr_is_v4_mapped(addr);
	if (should_capture_dns(ctx, addr, port, mapped ? AF_INET : AF_INET6))
		to_port = knobs.dns_port;
	else if (should_capture(ctx, addr, port, mapped ? AF_INET : AF_INET6))
		to_port = captured_port(port);
	else
		return 1;

	ctx->user_ip6[0] = 0;
	ctx->user_ip6[1] = 0;
	ctx->user_ip6[2] = mapped ? bpf_htonl(0x0000ffff) : 0;
	ctx->user_ip6[3] = mapped ? bpf_htonl(0x7f000001) : bpf_htonl(1);
	ctx->user_port = bpf_htons(to_port);
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
