// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Verdict program for the `listeners` sockmap. It passes every message; it
 * exists because kernels 6.6.128+, 6.12.75+ and 6.18.14+ lose epoll wake-ups
 * for sockets held in a sockmap/sockhash without a verdict program, which
 * stalls libuv. Every sockmap Ambit creates gets one.
 */
#include "common.h"

SEC("sk_msg")
int ambit_sk_msg(struct sk_msg_md *msg)
{
	return SK_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
