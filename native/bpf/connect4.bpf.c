// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Outbound capture for IPv4 sockets: connect(dst) becomes connect(127.0.0.1:15001). */
#include "outbound.h"

SEC("cgroup/connect4")
int ambit_connect4(struct bpf_sock_addr *ctx)
{
	__u8 addr[16];

	addr_from_v4(addr, ctx->user_ip4);
	if (should_capture(ctx, addr, bpf_ntohs(ctx->user_port), AF_INET)) {
		ctx->user_ip4 = bpf_htonl(0x7f000001);
		ctx->user_port = bpf_htons(knobs.outbound_port);
	}
	return 1; /* never refuse a connect */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
