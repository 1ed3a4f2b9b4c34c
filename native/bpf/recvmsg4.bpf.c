// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The reply half of DNS capture for IPv4 sockets: a datagram the app receives
 * from the DNS proxy (127.0.0.1:15053) is reported as coming from the
 * nameserver the app sent its query to, as recorded by connect4/sendmsg4.
 */
#include "dns.h"

SEC("cgroup/recvmsg4")
int ambit_recvmsg4(struct bpf_sock_addr *ctx)
{
	dns_restore4(ctx);
	return 1; /* recvmsg programs must return 1 */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
