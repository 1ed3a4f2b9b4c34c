// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * getpeername() of a UDP socket whose DNS connect() was captured reports the
 * nameserver it connected to, not the DNS proxy (Go's resolver, for one,
 * reads it back into RemoteAddr()).
 */
#include "dns.h"

SEC("cgroup/getpeername4")
int ambit_getpeername4(struct bpf_sock_addr *ctx)
{
	dns_restore4(ctx);
	return 1;
}

SEC("cgroup/getpeername6")
int ambit_getpeername6(struct bpf_sock_addr *ctx)
{
	dns_restore6(ctx);
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
