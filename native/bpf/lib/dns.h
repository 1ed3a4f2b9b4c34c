/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * DNS capture shared by connect4/6, sendmsg4/6, recvmsg4/6 and getpeername4/6:
 * an enrolled pod's UDP DNS goes to the agent's DNS proxy on 127.0.0.1 / [::1]
 * :dns_port inside the pod, and the proxy's replies are shown to the app as
 * coming from the nameserver it asked (glibc and musl drop replies whose
 * source is not the server they queried).
 */
#ifndef AMBIT_DNS_H
#define AMBIT_DNS_H

#include "outbound.h"

#ifndef SOCK_DGRAM
#define SOCK_DGRAM 2
#endif

/*
 * Returns 1 when this UDP datagram (sendmsg) or UDP connect must go to the DNS
 * proxy: port 53 from an enrolled pod that does not bypass it. The original
 * destination is recorded under the socket cookie for the reply side.
 */
static __always_inline int should_capture_dns(struct bpf_sock_addr *ctx, const __u8 addr[16],
					      __u16 port, __u16 family)
{
	struct ambit_pod *pod;

	if (!knobs.dns_capture || port != AMBIT_DNS_PORT)
		return 0;
	if (ctx->type != SOCK_DGRAM || ctx->protocol != IPPROTO_UDP)
		return 0;
	pod = outbound_pod(ctx, addr, port);
	if (!pod)
		return 0;

	if (record_orig_dst(&dns_orig_dst, ctx, addr, port, family, pod->pod_id))
		return 0; /* cannot record it: the app would drop the proxy's reply */
	count(AMBIT_CNT_DNS_UDP_CAPTURED);
	return 1;
}

/*
 * Reply side: the nameserver a captured UDP socket asked, or NULL when this
 * socket's DNS was never captured. Callers check that the address they would
 * rewrite is the proxy's.
 */
static __always_inline struct ambit_orig_dst *dns_origin(struct bpf_sock_addr *ctx)
{
	__u64 cookie;

	if (!knobs.dns_capture || ctx->type != SOCK_DGRAM)
		return NULL;
	cookie = bpf_get_socket_cookie(ctx);
	return bpf_map_lookup_elem(&dns_orig_dst, &cookie);
}

static __always_inline int is_dns_proxy4(struct bpf_sock_addr *ctx)
{
	return ctx->user_ip4 == bpf_htonl(0x7f000001) && ctx->user_port == bpf_htons(knobs.dns_port);
}

/* [::1] or ::ffff:127.0.0.1 (a dual-stack socket that asked an IPv4 nameserver). */
static __always_inline int is_dns_proxy6(struct bpf_sock_addr *ctx)
{
	__u32 ip6[4];

	if (ctx->user_port != bpf_htons(knobs.dns_port))
		return 0;
	CTX_IP6(ip6, ctx->user_ip6);
	if (ip6[0] || ip6[1])
		return 0;
	return (ip6[2] == 0 && ip6[3] == bpf_htonl(1)) ||
	       (ip6[2] == bpf_htonl(0x0000ffff) && ip6[3] == bpf_htonl(0x7f000001));
}

/* Shows a reply (or the peer) of an IPv4 socket as the nameserver it asked. */
static __always_inline void dns_restore4(struct bpf_sock_addr *ctx)
{
	struct ambit_orig_dst *od;
	__u32 ip4;

	if (!is_dns_proxy4(ctx))
		return;
	od = dns_origin(ctx);
	if (!od || od->family != AF_INET)
		return;
	__builtin_memcpy(&ip4, od->addr + 12, 4);
	ctx->user_ip4 = ip4;
	ctx->user_port = bpf_htons(od->port);
	count(AMBIT_CNT_DNS_REPLY_REWRITTEN);
}

/* The same for IPv6 sockets; an IPv4 nameserver is shown in its v4-mapped form. */
static __always_inline void dns_restore6(struct bpf_sock_addr *ctx)
{
	struct ambit_orig_dst *od;
	__u32 w[4];

	if (!is_dns_proxy6(ctx))
		return;
	od = dns_origin(ctx);
	if (!od)
		return;
	__builtin_memcpy(w, od->addr, 16);
	ctx->user_ip6[0] = w[0];
	ctx->user_ip6[1] = w[1];
	ctx->user_ip6[2] = w[2];
	ctx->user_ip6[3] = w[3];
	ctx->user_port = bpf_htons(od->port);
	count(AMBIT_CNT_DNS_REPLY_REWRITTEN);
}

#endif /* AMBIT_DNS_H */
