// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Inbound capture, attached to each enrolled pod's network namespace: a TCP
 * SYN for a pod IP goes to the agent's in-pod listener (15008 -> HBONE, any
 * other port -> 15006 plaintext). The accepted socket's local address is then
 * the original destination. The agent's own connections to the app (source
 * 127.0.0.6 / ::1) and bypassed ports take the normal lookup.
 */
#include "common.h"

static __always_inline int v6_equal(const __u32 a[4], const volatile __u8 b[16])
{
	__u32 w[4];

	__builtin_memcpy(w, (const void *)b, 16);
	return a[0] == w[0] && a[1] == w[1] && a[2] == w[2] && a[3] == w[3];
}

SEC("sk_lookup")
int ambit_sk_lookup(struct bpf_sk_lookup *ctx)
{
	struct ambit_ip_key ip = {};
	struct ambit_pod *pod;
	struct bpf_sock *sk;
	__u32 slot, key, r6[4], l6[4];
	__u16 port = (__u16)ctx->local_port;
	int err, v6 = ctx->family == AF_INET6;

	if (ctx->protocol != IPPROTO_TCP)
		return SK_PASS;
	if (!v6) {
		if (ctx->remote_ip4 == knobs.agent_src_ip4)
			return SK_PASS;
		addr_from_v4(ip.addr, ctx->local_ip4);
	} else {
		CTX_IP6(r6, ctx->remote_ip6);
		if (v6_equal(r6, knobs.agent_src_ip6))
			return SK_PASS;
		CTX_IP6(l6, ctx->local_ip6);
		addr_from_v6(ip.addr, l6);
	}
	pod = bpf_map_lookup_elem(&pod_ips, &ip);
	if (!pod || !(pod->flags & AMBIT_POD_F_CAPTURE_IN))
		return SK_PASS;

	if (port == knobs.hbone_port) {
		slot = v6 ? AMBIT_SLOT_HBONE6 : AMBIT_SLOT_HBONE4;
	} else {
		if (port_bypassed(pod->pod_id, port, AMBIT_DIR_INBOUND)) {
			count(AMBIT_CNT_IN_BYPASS_PORT);
			return SK_PASS;
		}
		slot = v6 ? AMBIT_SLOT_INBOUND6 : AMBIT_SLOT_INBOUND4;
	}
	key = pod->pod_id * AMBIT_SLOTS_PER_POD + slot;
	sk = bpf_map_lookup_elem(&listeners, &key);
	if (!sk) {
		/* Fail closed: an enrolled pod's traffic never reaches the app unchecked. */
		count(AMBIT_CNT_IN_NO_LISTENER);
		return SK_DROP;
	}
	err = bpf_sk_assign(ctx, sk, 0);
	bpf_sk_release(sk);
	if (err)
		return SK_DROP;
	count(slot == AMBIT_SLOT_HBONE4 || slot == AMBIT_SLOT_HBONE6 ? AMBIT_CNT_IN_HBONE
								   : AMBIT_CNT_IN_STEERED);
	return SK_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
