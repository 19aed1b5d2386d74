/* SPDX-License-Identifier: MIT */
/* net_stack.h — a minimal IPv4 stack written for net_demo.
 *
 * Ethernet II, ARP (a small table, answers requests for our address),
 * IPv4 (no options sent, no fragments: fragments are dropped), ICMP echo
 * (answers requests, matches replies to our own pings), UDP (checksums
 * generated and verified, an echo service on port 7) and a DHCP client
 * (DISCOVER / OFFER / REQUEST / ACK, with retransmission).
 *
 * Portable C99 with no board code: frames leave through the tx callback
 * and time comes from the now_us callback.  Everything is synchronous:
 * ns_input() handles one received frame (answers go out from inside it),
 * ns_tick() runs the timers (DHCP retransmission).  No allocation.
 *
 * Addresses are kept as uint32_t in host order (10.0.2.15 = 0x0a00020f).
 */
#ifndef NET_STACK_H
#define NET_STACK_H

#include <stddef.h>
#include <stdint.h>

#define NS_ETH_HDR 14u
#define NS_IP_HDR 20u
#define NS_UDP_HDR 8u
#define NS_ICMP_HDR 8u
#define NS_FRAME_MAX 1514u
#define NS_FRAME_MIN 60u /* Ethernet minimum without the FCS */
#define NS_ETH_ARP 0x0806u
#define NS_ETH_IP 0x0800u
#define NS_PROTO_ICMP 1u
#define NS_PROTO_UDP 17u
#define NS_PORT_ECHO 7u
#define NS_PORT_DHCP_SERVER 67u
#define NS_PORT_DHCP_CLIENT 68u
#define NS_ARP_ENTRIES 8
#define NS_IP(a, b, c, d) \
    (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

enum ns_dhcp_state { NS_DHCP_OFF, NS_DHCP_SELECTING, NS_DHCP_REQUESTING, NS_DHCP_BOUND, NS_DHCP_FAILED };

struct ns_stats {
    uint32_t rx_frames, rx_ignored, rx_bad; /* bad: checksum, length */
    uint32_t tx_frames, tx_errors;
    uint32_t arp_requests_answered, arp_replies_seen;
    uint32_t icmp_echo_answered, icmp_replies_seen;
    uint32_t icmp_echo_last_seq; /* sequence number of the last request answered */
    uint32_t udp_echo_answered;
    uint32_t dhcp_sent;
};

struct ns;
/* Send one frame (14..1514 bytes); 0 on success. */
typedef int (*ns_tx_fn)(void *ctx, const uint8_t *frame, uint32_t len);
typedef uint64_t (*ns_now_fn)(void);
/* Sees every received frame first; return 1 to consume it. */
typedef int (*ns_hook_fn)(void *ctx, struct ns *s, const uint8_t *frame, uint32_t len);

struct ns_arp_entry {
    uint32_t ip;
    uint8_t mac[6];
    uint8_t used;
};

struct ns {
    uint8_t mac[6];
    uint32_t ip, mask, gw, dns, server;
    uint32_t lease_s;
    ns_tx_fn tx;
    void *tx_ctx;
    ns_now_fn now_us;
    ns_hook_fn hook;
    void *hook_ctx;
    struct ns_arp_entry arp[NS_ARP_ENTRIES];
    unsigned arp_next;
    uint16_t ip_id;
    /* DHCP client */
    enum ns_dhcp_state dhcp;
    uint32_t xid, offered;
    uint64_t dhcp_next_us;
    unsigned dhcp_tries;
    /* our outstanding ping */
    uint16_t ping_id, ping_seq;
    int ping_answered;
    uint64_t ping_sent_us, ping_rtt_us;
    struct ns_stats st;
    uint8_t buf[NS_FRAME_MAX]; /* frames we build */
};

void ns_init(struct ns *s, const uint8_t mac[6], ns_tx_fn tx, void *tx_ctx, ns_now_fn now_us);
/* A static address (no DHCP). */
void ns_set_ip(struct ns *s, uint32_t ip, uint32_t mask, uint32_t gw);
/* Handle one received frame. */
void ns_input(struct ns *s, const uint8_t *frame, uint32_t len);
/* Timers: DHCP retransmission.  Returns the next deadline (us) or 0. */
uint64_t ns_tick(struct ns *s);

/* ARP: 1 and mac filled when ip is in the table; ns_arp_request() asks. */
int ns_arp_lookup(const struct ns *s, uint32_t ip, uint8_t mac[6]);
int ns_arp_request(struct ns *s, uint32_t ip);

/* DHCP: start (or restart) the client; progress shows in s->dhcp. */
int ns_dhcp_start(struct ns *s);

/* Send an ICMP echo request to ip (resolved already) with payload bytes
   of pattern; the reply's RTT lands in s->ping_rtt_us, s->ping_answered. */
int ns_ping(struct ns *s, uint32_t ip, uint16_t id, uint16_t seq, uint32_t payload);

/* Send a UDP datagram to ip:dport (ip resolved already, or broadcast). */
int ns_udp_send(struct ns *s, uint32_t ip, uint16_t sport, uint16_t dport, const void *data,
                uint32_t len);

/* Helpers for frame builders (the peer test builds its own frames). */
uint16_t ns_get16(const uint8_t *p);
uint32_t ns_get32(const uint8_t *p);
void ns_put16(uint8_t *p, uint16_t v);
void ns_put32(uint8_t *p, uint32_t v);
/* Ones' complement sum of len bytes added to sum (not folded). */
uint32_t ns_sum(uint32_t sum, const uint8_t *p, uint32_t len);
uint16_t ns_fold(uint32_t sum);
/* Fill an IPv4 header (20 bytes, checksum included) at ip. */
void ns_ip_header(uint8_t *ip, uint16_t total_len, uint16_t id, uint8_t proto, uint32_t src,
                  uint32_t dst);
/* UDP checksum over pseudo header, header and data (udp points at the UDP
   header, udp_len bytes); 0 is sent as 0xffff. */
uint16_t ns_udp_checksum(const uint8_t *udp, uint32_t udp_len, uint32_t src, uint32_t dst);

#endif /* NET_STACK_H */
