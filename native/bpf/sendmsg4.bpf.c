// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * DNS capture for unconnected IPv4 UDP sockets (musl, Node's c-ares, dig):
 * sendto(nameserver:53) becomes sendto(127.0.0.1:15053), the agent's DNS
 * proxy inside the pod. Also runs for a dual-stack IPv6 socket sending to a
 * v4-mapped address (the kernel hands those to the IPv4 path).
 */
#include "dns.h"

SEC("cgroup/sendmsg4")
int ambit_sendmsg4(struct bpf_sock_addr *ctx)
{
	__u8 addr[16];

	addr_from_v4(addr, ctx->user_ip4);
	if (should_capture_dns(ctx, addr, bpf_ntohs(ctx->user_port), AF_INET)) {
		ctx->user_ip4 = bpf_htonl(0x7f000001);
		ctx->user_port = bpf_htons(knobs.dns_port);
	}
	return 1; /* never refuse a send */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
