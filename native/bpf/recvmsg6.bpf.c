// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The reply half of DNS capture for IPv6 (and dual-stack) sockets; see recvmsg4.bpf.c. */
#include "dns.h"

SEC("cgroup/recvmsg6")
int ambit_recvmsg6(struct bpf_sock_addr *ctx)
{
	dns_restore6(ctx);
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
