/* SPDX-License-Identifier: MIT */
/* net_stack.c — a minimal IPv4 stack for net_demo.  See net_stack.h. */
#include "net_stack.h"

#include <string.h>

static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* ---- byte order and checksums (RFC 1071) ------------------------------- */

uint16_t ns_get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

uint32_t ns_get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

void ns_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

void ns_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

uint32_t ns_sum(uint32_t sum, const uint8_t *p, uint32_t len)
{
    uint32_t i;
    for (i = 0; i + 1u < len; i += 2u)
        sum += (uint32_t)((p[i] << 8) | p[i + 1u]);
    if (len & 1u)
        sum += (uint32_t)p[len - 1u] << 8;
    return sum;
}

uint16_t ns_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)~sum;
}

void ns_ip_header(uint8_t *ip, uint16_t total_len, uint16_t id, uint8_t proto, uint32_t src, uint32_t dst)
{
    ip[0] = 0x45; /* version 4, 5 words */
    ip[1] = 0;
    ns_put16(ip + 2, total_len);
    ns_put16(ip + 4, id);
    ns_put16(ip + 6, 0x4000); /* DF: we never fragment */
    ip[8] = 64;
    ip[9] = proto;
    ns_put16(ip + 10, 0);
    ns_put32(ip + 12, src);
    ns_put32(ip + 16, dst);
    ns_put16(ip + 10, ns_fold(ns_sum(0, ip, NS_IP_HDR)));
}

static uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, uint32_t len)
{
    return (src >> 16) + (src & 0xffffu) + (dst >> 16) + (dst & 0xffffu) + proto + len;
}

uint16_t ns_udp_checksum(const uint8_t *udp, uint32_t udp_len, uint32_t src, uint32_t dst)
{
    uint16_t c = ns_fold(ns_sum(pseudo_sum(src, dst, NS_PROTO_UDP, udp_len), udp, udp_len));
    return c ? c : 0xffffu; /* RFC 768: a computed 0 goes out as all ones */
}

/* ---- set-up ----------------------------------------------------------------- */

void ns_init(struct ns *s, const uint8_t mac[6], ns_tx_fn tx, void *tx_ctx, ns_now_fn now_us)
{
    memset(s, 0, sizeof *s);
    memcpy(s->mac, mac, 6);
    s->tx = tx;
    s->tx_ctx = tx_ctx;
    s->now_us = now_us;
    s->ip_id = 1;
}

void ns_set_ip(struct ns *s, uint32_t ip, uint32_t mask, uint32_t gw)
{
    s->ip = ip;
    s->mask = mask;
    s->gw = gw;
}

static int send_frame(struct ns *s, const uint8_t *f, uint32_t len)
{
    uint8_t pad[NS_FRAME_MIN];
    int rc;
    if (len < NS_FRAME_MIN) { /* Ethernet minimum: pad with zeros */
        memset(pad, 0, sizeof pad);
        memcpy(pad, f, len);
        f = pad;
        len = NS_FRAME_MIN;
    }
    rc = s->tx(s->tx_ctx, f, len);
    if (rc == 0)
        s->st.tx_frames++;
    else
        s->st.tx_errors++;
    return rc;
}

static void eth_header(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    ns_put16(f + 12, type);
}

/* ---- ARP (RFC 826) --------------------------------------------------------- */

static void arp_learn(struct ns *s, uint32_t ip, const uint8_t mac[6])
{
    unsigned i;
    if (ip == 0)
        return;
    for (i = 0; i < NS_ARP_ENTRIES; i++) {
        if (s->arp[i].used && s->arp[i].ip == ip) {
            memcpy(s->arp[i].mac, mac, 6);
            return;
        }
    }
    i = s->arp_next++ % NS_ARP_ENTRIES;
    s->arp[i].ip = ip;
    memcpy(s->arp[i].mac, mac, 6);
    s->arp[i].used = 1;
}

int ns_arp_lookup(const struct ns *s, uint32_t ip, uint8_t mac[6])
{
    unsigned i;
    if (ip == 0xffffffffu) {
        memcpy(mac, bcast_mac, 6);
        return 1;
    }
    for (i = 0; i < NS_ARP_ENTRIES; i++) {
        if (s->arp[i].used && s->arp[i].ip == ip) {
            memcpy(mac, s->arp[i].mac, 6);
            return 1;
        }
    }
    return 0;
}

static int arp_send(struct ns *s, uint16_t op, const uint8_t eth_dst[6], const uint8_t tha[6], uint32_t tpa)
{
    uint8_t *f = s->buf, *a = f + NS_ETH_HDR;
    eth_header(f, eth_dst, s->mac, NS_ETH_ARP);
    ns_put16(a, 1);          /* hardware: Ethernet */
    ns_put16(a + 2, 0x0800); /* protocol: IPv4 */
    a[4] = 6;
    a[5] = 4;
    ns_put16(a + 6, op);
    memcpy(a + 8, s->mac, 6);
    ns_put32(a + 14, s->ip);
    memcpy(a + 18, tha, 6);
    ns_put32(a + 24, tpa);
    return send_frame(s, f, NS_ETH_HDR + 28u);
}

int ns_arp_request(struct ns *s, uint32_t ip)
{
    static const uint8_t zero[6] = {0, 0, 0, 0, 0, 0};
    return arp_send(s, 1, bcast_mac, zero, ip);
}

static void arp_input(struct ns *s, const uint8_t *a, uint32_t len)
{
    uint16_t op;
    uint32_t spa, tpa;
    if (len < 28u || ns_get16(a) != 1 || ns_get16(a + 2) != 0x0800 || a[4] != 6 || a[5] != 4) {
        s->st.rx_bad++;
        return;
    }
    op = ns_get16(a + 6);
    spa = ns_get32(a + 14);
    tpa = ns_get32(a + 24);
    if (s->ip == 0 || tpa != s->ip) {
        s->st.rx_ignored++;
        return;
    }
    arp_learn(s, spa, a + 8); /* the asker will talk to us next */
    if (op == 1) {
        uint8_t sha[6];
        memcpy(sha, a + 8, 6);
        if (arp_send(s, 2, sha, sha, spa) == 0)
            s->st.arp_requests_answered++;
    } else if (op == 2) {
        s->st.arp_replies_seen++;
    }
}

/* ---- IPv4 output ----------------------------------------------------------- */

/* Frame with Ethernet + IPv4 headers around s->buf + 34 (payload already
   there, plen bytes), to dst_mac. */
static int ip_send(struct ns *s, const uint8_t dst_mac[6], uint32_t dst, uint8_t proto, uint32_t plen)
{
    uint8_t *f = s->buf;
    eth_header(f, dst_mac, s->mac, NS_ETH_IP);
    ns_ip_header(f + NS_ETH_HDR, (uint16_t)(NS_IP_HDR + plen), s->ip_id++, proto, s->ip, dst);
    return send_frame(s, f, NS_ETH_HDR + NS_IP_HDR + plen);
}

static int udp_send_to(struct ns *s, const uint8_t dst_mac[6], uint32_t dst, uint16_t sport, uint16_t dport,
                       const void *data, uint32_t len)
{
    uint8_t *u = s->buf + NS_ETH_HDR + NS_IP_HDR;
    if (len > NS_FRAME_MAX - NS_ETH_HDR - NS_IP_HDR - NS_UDP_HDR)
        return -1;
    if (data != u + NS_UDP_HDR)
        memmove(u + NS_UDP_HDR, data, len);
    ns_put16(u, sport);
    ns_put16(u + 2, dport);
    ns_put16(u + 4, (uint16_t)(NS_UDP_HDR + len));
    ns_put16(u + 6, 0);
    ns_put16(u + 6, ns_udp_checksum(u, NS_UDP_HDR + len, s->ip, dst));
    return ip_send(s, dst_mac, dst, NS_PROTO_UDP, NS_UDP_HDR + len);
}

int ns_udp_send(struct ns *s, uint32_t ip, uint16_t sport, uint16_t dport, const void *data, uint32_t len)
{
    uint8_t mac[6];
    if (!ns_arp_lookup(s, ip, mac))
        return -1;
    return udp_send_to(s, mac, ip, sport, dport, data, len);
}

int ns_ping(struct ns *s, uint32_t ip, uint16_t id, uint16_t seq, uint32_t payload)
{
    uint8_t mac[6], *c = s->buf + NS_ETH_HDR + NS_IP_HDR;
    uint32_t i;
    if (!ns_arp_lookup(s, ip, mac) || payload > NS_FRAME_MAX - NS_ETH_HDR - NS_IP_HDR - NS_ICMP_HDR)
        return -1;
    c[0] = 8; /* echo request */
    c[1] = 0;
    ns_put16(c + 2, 0);
    ns_put16(c + 4, id);
    ns_put16(c + 6, seq);
    for (i = 0; i < payload; i++)
        c[NS_ICMP_HDR + i] = (uint8_t)(i + seq);
    ns_put16(c + 2, ns_fold(ns_sum(0, c, NS_ICMP_HDR + payload)));
    s->ping_id = id;
    s->ping_seq = seq;
    s->ping_answered = 0;
    s->ping_sent_us = s->now_us();
    return ip_send(s, mac, ip, NS_PROTO_ICMP, NS_ICMP_HDR + payload);
}

/* ---- ICMP and UDP input ------------------------------------------------------- */

static void icmp_input(struct ns *s, const uint8_t *eth_src, uint32_t src, const uint8_t *c, uint32_t len)
{
    uint64_t now = s->now_us();
    if (len < NS_ICMP_HDR || ns_fold(ns_sum(0, c, len)) != 0) {
        s->st.rx_bad++;
        return;
    }
    if (c[0] == 8 && c[1] == 0) { /* echo request: same id, seq, data back */
        uint8_t *r = s->buf + NS_ETH_HDR + NS_IP_HDR;
        if (len > NS_FRAME_MAX - NS_ETH_HDR - NS_IP_HDR)
            return;
        memmove(r, c, len);
        r[0] = 0;
        ns_put16(r + 2, 0);
        ns_put16(r + 2, ns_fold(ns_sum(0, r, len)));
        if (ip_send(s, eth_src, src, NS_PROTO_ICMP, len) == 0) {
            s->st.icmp_echo_answered++;
            s->st.icmp_echo_last_seq = ns_get16(c + 6);
        }
    } else if (c[0] == 0 && ns_get16(c + 4) == s->ping_id && ns_get16(c + 6) == s->ping_seq &&
               !s->ping_answered) {
        s->ping_answered = 1;
        s->ping_rtt_us = now - s->ping_sent_us;
        s->st.icmp_replies_seen++;
    } else {
        s->st.rx_ignored++;
    }
}

static void dhcp_input(struct ns *s, const uint8_t *d, uint32_t len);

static void udp_input(struct ns *s, const uint8_t *eth_src, uint32_t src, uint32_t dst, const uint8_t *u,
                      uint32_t len)
{
    uint16_t ulen, sport, dport;
    if (len < NS_UDP_HDR || (ulen = ns_get16(u + 4)) < NS_UDP_HDR || ulen > len) {
        s->st.rx_bad++;
        return;
    }
    if (ns_get16(u + 6) != 0 &&
        ns_fold(ns_sum(pseudo_sum(src, dst, NS_PROTO_UDP, ulen), u, ulen)) != 0) {
        s->st.rx_bad++;
        return;
    }
    sport = ns_get16(u);
    dport = ns_get16(u + 2);
    if (dport == NS_PORT_DHCP_CLIENT && sport == NS_PORT_DHCP_SERVER) {
        dhcp_input(s, u + NS_UDP_HDR, ulen - NS_UDP_HDR);
    } else if (dport == NS_PORT_ECHO && dst == s->ip && s->ip != 0) {
        /* RFC 862: send the data back where it came from. */
        if (udp_send_to(s, eth_src, src, NS_PORT_ECHO, sport, u + NS_UDP_HDR, ulen - NS_UDP_HDR) == 0)
            s->st.udp_echo_answered++;
    } else {
        s->st.rx_ignored++;
    }
}

static void ip_input(struct ns *s, const uint8_t *eth_src, const uint8_t *ip, uint32_t len)
{
    uint32_t ihl, total, src, dst;
    if (len < NS_IP_HDR || (ip[0] >> 4) != 4 || (ihl = (ip[0] & 15u) * 4u) < NS_IP_HDR ||
        (total = ns_get16(ip + 2)) < ihl || total > len || ns_fold(ns_sum(0, ip, ihl)) != 0) {
        s->st.rx_bad++;
        return;
    }
    if ((ns_get16(ip + 6) & 0x3fffu) != 0) { /* MF or an offset: a fragment */
        s->st.rx_ignored++;
        return;
    }
    src = ns_get32(ip + 12);
    dst = ns_get32(ip + 16);
    /* Ours, broadcast, or (before DHCP gave us one) anything: the offer
       may be sent to the address being offered. */
    if (dst != s->ip && dst != 0xffffffffu && s->ip != 0 && dst != (s->ip | ~s->mask)) {
        s->st.rx_ignored++;
        return;
    }
    if (ip[9] == NS_PROTO_ICMP && s->ip != 0)
        icmp_input(s, eth_src, src, ip + ihl, total - ihl);
    else if (ip[9] == NS_PROTO_UDP)
        udp_input(s, eth_src, src, dst, ip + ihl, total - ihl);
    else
        s->st.rx_ignored++;
}

void ns_input(struct ns *s, const uint8_t *f, uint32_t len)
{
    s->st.rx_frames++;
    if (len < NS_ETH_HDR) {
        s->st.rx_bad++;
        return;
    }
    if (s->hook && s->hook(s->hook_ctx, s, f, len))
        return;
    if (memcmp(f, s->mac, 6) != 0 && memcmp(f, bcast_mac, 6) != 0) {
        s->st.rx_ignored++;
        return;
    }
    switch (ns_get16(f + 12)) {
    case NS_ETH_ARP:
        arp_input(s, f + NS_ETH_HDR, len - NS_ETH_HDR);
        break;
    case NS_ETH_IP:
        ip_input(s, f + 6, f + NS_ETH_HDR, len - NS_ETH_HDR);
        break;
    default:
        s->st.rx_ignored++;
        break;
    }
}

/* ---- DHCP client (RFC 2131, RFC 2132) ------------------------------------------- */

#define DHCP_FIXED 236u        /* op .. file */
#define DHCP_MSG 548u          /* 236 + 312 option bytes: what BOOTP servers
                                  (QEMU's slirp among them) expect at least */
#define DHCP_RETRY_US 1000000u
#define DHCP_TRIES 8u
enum { DHCPDISCOVER = 1, DHCPOFFER = 2, DHCPREQUEST = 3, DHCPACK = 5, DHCPNAK = 6 };

static int dhcp_send(struct ns *s, int type)
{
    uint8_t *d = s->buf + NS_ETH_HDR + NS_IP_HDR + NS_UDP_HDR, *o;
    uint32_t saved_ip = s->ip;
    int rc;
    memset(d, 0, DHCP_MSG);
    d[0] = 1; /* BOOTREQUEST */
    d[1] = 1; /* Ethernet */
    d[2] = 6;
    ns_put32(d + 4, s->xid);
    ns_put16(d + 10, 0x8000); /* broadcast the answer: we have no address */
    memcpy(d + 28, s->mac, 6);
    o = d + DHCP_FIXED;
    ns_put32(o, 0x63825363u); /* magic cookie */
    o += 4;
    *o++ = 53; /* message type */
    *o++ = 1;
    *o++ = (uint8_t)type;
    *o++ = 61; /* client identifier: hardware type + MAC */
    *o++ = 7;
    *o++ = 1;
    memcpy(o, s->mac, 6);
    o += 6;
    if (type == DHCPREQUEST) {
        *o++ = 50; /* requested address */
        *o++ = 4;
        ns_put32(o, s->offered);
        o += 4;
        *o++ = 54; /* server identifier */
        *o++ = 4;
        ns_put32(o, s->server);
        o += 4;
    }
    *o++ = 55; /* parameter request list: mask, router, DNS, lease */
    *o++ = 4;
    *o++ = 1;
    *o++ = 3;
    *o++ = 6;
    *o++ = 51;
    *o = 255; /* end; the rest stays 0 (pad) */
    /* From 0.0.0.0 to the broadcast address ("before it has an address"). */
    s->ip = 0;
    rc = udp_send_to(s, bcast_mac, 0xffffffffu, NS_PORT_DHCP_CLIENT, NS_PORT_DHCP_SERVER, d, DHCP_MSG);
    s->ip = saved_ip;
    s->st.dhcp_sent++;
    s->dhcp_next_us = s->now_us() + DHCP_RETRY_US;
    return rc;
}

int ns_dhcp_start(struct ns *s)
{
    s->ip = 0;
    s->xid = 0x76710000u ^ ((uint32_t)s->mac[4] << 8) ^ s->mac[5] ^ (uint32_t)s->now_us();
    s->dhcp = NS_DHCP_SELECTING;
    s->dhcp_tries = 1;
    return dhcp_send(s, DHCPDISCOVER);
}

static void dhcp_input(struct ns *s, const uint8_t *d, uint32_t len)
{
    uint32_t i, mask = 0, router = 0, server = 0, dns = 0, lease = 0;
    int type = 0;
    if (len < DHCP_FIXED + 4u || d[0] != 2 || ns_get32(d + 4) != s->xid || memcmp(d + 28, s->mac, 6) != 0 ||
        ns_get32(d + DHCP_FIXED) != 0x63825363u) {
        s->st.rx_ignored++;
        return;
    }
    /* Options: code, length, value; 0 pads, 255 ends.  Every read is
       bounded by len. */
    for (i = DHCP_FIXED + 4u; i < len;) {
        uint8_t code = d[i], olen;
        if (code == 0) {
            i++;
            continue;
        }
        if (code == 255 || i + 1u >= len || i + 2u + d[i + 1u] > len)
            break;
        olen = d[i + 1u];
        if (code == 53 && olen >= 1)
            type = d[i + 2u];
        else if (code == 1 && olen >= 4)
            mask = ns_get32(d + i + 2u);
        else if (code == 3 && olen >= 4)
            router = ns_get32(d + i + 2u);
        else if (code == 6 && olen >= 4)
            dns = ns_get32(d + i + 2u);
        else if (code == 54 && olen >= 4)
            server = ns_get32(d + i + 2u);
        else if (code == 51 && olen >= 4)
            lease = ns_get32(d + i + 2u);
        i += 2u + olen;
    }
    if (s->dhcp == NS_DHCP_SELECTING && type == DHCPOFFER) {
        s->offered = ns_get32(d + 16); /* yiaddr */
        s->server = server ? server : ns_get32(d + 20);
        s->dhcp = NS_DHCP_REQUESTING;
        s->dhcp_tries = 1;
        (void)dhcp_send(s, DHCPREQUEST);
    } else if (s->dhcp == NS_DHCP_REQUESTING && type == DHCPACK) {
        s->ip = ns_get32(d + 16);
        s->mask = mask ? mask : 0xffffff00u;
        s->gw = router;
        s->dns = dns;
        s->lease_s = lease;
        s->dhcp = NS_DHCP_BOUND;
        s->dhcp_next_us = 0;
    } else if (s->dhcp == NS_DHCP_REQUESTING && type == DHCPNAK) {
        (void)ns_dhcp_start(s);
    } else {
        s->st.rx_ignored++;
    }
}

uint64_t ns_tick(struct ns *s)
{
    if (s->dhcp != NS_DHCP_SELECTING && s->dhcp != NS_DHCP_REQUESTING)
        return 0;
    if (s->now_us() < s->dhcp_next_us)
        return s->dhcp_next_us;
    if (s->dhcp_tries >= DHCP_TRIES) {
        s->dhcp = NS_DHCP_FAILED;
        return 0;
    }
    s->dhcp_tries++;
    (void)dhcp_send(s, s->dhcp == NS_DHCP_SELECTING ? DHCPDISCOVER : DHCPREQUEST);
    return s->dhcp_next_us;
}
