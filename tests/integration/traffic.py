# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Real traffic for the end-to-end rig (tests/integration/rig.sh).

Run with /usr/bin/python3 (Debian's python3-scapy lives there). Every
long-running command prints "ready" once its socket or sniffer is open, so
the shell can wait for that line instead of sleeping. Scapy is imported
only by the IPsec commands: it takes a second to load.

  serve ADDR UDP_PORT TCP_PORT        UDP and TCP echo server; one line per
                                      peer: "udp from A:P" / "tcp from A:P"
  udp-echo SRC SPORT DST DPORT N [MAX_RESENT]
                                      N datagrams from SRC:SPORT, each echoed;
                                      at most MAX_RESENT (0) sent again
  tcp-echo SRC SPORT DST DPORT BYTES  BYTES random bytes echoed back intact
  udp-send SRC SPORT DST DPORT TEXT [--refused SECONDS]
                                      one datagram; with --refused: succeed
                                      only when ICMP port unreachable answers
  udp-listen ADDR PORT SECONDS        prints every datagram until SECONDS
  stream-send SRC DST DPORT COUNT RATE    COUNT numbered datagrams, RATE/s
  stream-recv ADDR PORT COUNT IDLE TIMEOUT
                                      counts the numbered datagrams: exits
                                      when all came, IDLE s after the last
                                      one, or at TIMEOUT
  sa-new FILE NAME ESP|AH tunnel|transport SPI SRC DST
                                      adds an SA with fresh random keys
  ipsec-send FILE [--size BYTES] [--df] NAME...
                                      one packet per SA, payload = its name
                                      (NUL-padded to BYTES); --df: DF set
  ipsec-recv FILE IFACE [--outer SRC DST] [--until NAME,...] [--timeout S]
                                      sniffs, decrypts/verifies, prints
                                      "ok NAME" or "bad NAME: why"
  ah-selftest                         the AH check rejects a changed byte
  udp-recv-tos ADDR PORT SECONDS      prints every datagram with the TOS
                                      and TTL it arrived with
  udp-probe SRC SPORT DST DPORT TOS TTL SECONDS
                                      one datagram with that TOS and TTL;
                                      succeeds when an ICMP error comes back
                                      ("icmp type T code C from OFFENDER")
  ipip-send OSRC ODST OTOS ISRC IDST ITOS TTL udp SPORT DPORT TEXT
  ipip-send OSRC ODST OTOS ISRC IDST ITOS TTL icmp TYPE ID TEXT
                                      one packet tunnelled by hand: the inner
                                      IPv4 built here, inside the kernel's
                                      outer header OSRC -> ODST (TOS OTOS)
  icmp-recv ADDR TYPE SECONDS         prints every ICMP message of TYPE to
                                      ADDR; succeeds when one came
  frag-needed SRC MTU FILE NAME       as a router at SRC: ICMP frag-needed to
                                      the SA's source, quoting the IP header
                                      and 8 bytes of the SA's packet
  tunnel-frag-recv IFACE SRC DST TIMEOUT [SPI]
                                      sniffs frag-needed inside the tunnel
                                      SRC -> DST (quoting ESP/AH SPI, if
                                      given): "frag-needed mtu M ..."
"""
import json
import os
import select
import socket
import struct
import sys
import threading
import time


SAY_LOCK = threading.Lock()


def say(*a):
    # one write per line, under a lock: print() writes the text and the
    # newline separately, and the servers' threads would interleave them
    with SAY_LOCK:
        sys.stdout.write(" ".join(str(x) for x in a) + "\n")
        sys.stdout.flush()


def bound(proto, src, sport):
    """A socket bound to src:sport: hosts speak as G from their own ports."""
    s = socket.socket(socket.AF_INET, proto)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((src, int(sport)))
    return s


# --- plain sockets ---------------------------------------------------------
def serve(addr, uport, tport):
    u = bound(socket.SOCK_DGRAM, addr, uport)
    t = bound(socket.SOCK_STREAM, addr, tport)
    t.listen(16)
    seen = set()

    def note(kind, peer):
        if (kind, peer) not in seen:	# one line per peer, not per datagram
            seen.add((kind, peer))
            say("%s from %s:%d" % (kind, peer[0], peer[1]))

    def udp():
        while True:
            d, a = u.recvfrom(65535)
            note("udp", a)
            u.sendto(d, a)

    def tcp_conn(c, a):
        note("tcp", a)
        with c:
            while True:
                d = c.recv(65536)
                if not d:
                    return
                c.sendall(d)

    threading.Thread(target=udp, daemon=True).start()
    say("ready")
    while True:
        c, a = t.accept()
        threading.Thread(target=tcp_conn, args=(c, a), daemon=True).start()


def udp_echo(src, sport, dst, dport, n, max_resent="0"):
    s = bound(socket.SOCK_DGRAM, src, sport)
    s.connect((dst, int(dport)))
    s.settimeout(2.0)
    ok = resent = 0
    for i in range(int(n)):
        msg = b"xdnat %d from %s:%s" % (i, src.encode(), sport.encode())
        for _ in range(3):	# a lost datagram is sent again, and counted
            s.send(msg)
            try:
                while s.recv(65535) != msg:
                    pass
                ok += 1
                break
            except socket.timeout:
                resent += 1
    say("udp %s:%s -> %s:%s: %d/%s echoed, %d resent" % (src, sport, dst, dport, ok, n, resent))
    return ok == int(n) and resent <= int(max_resent)


def tcp_echo(src, sport, dst, dport, nbytes):
    data = os.urandom(int(nbytes))
    s = bound(socket.SOCK_STREAM, src, sport)
    s.settimeout(10)
    s.connect((dst, int(dport)))
    got = bytearray()

    def reader():
        while len(got) < len(data):
            d = s.recv(65536)
            if not d:
                break
            got.extend(d)

    r = threading.Thread(target=reader)
    r.start()
    s.sendall(data)
    r.join(15)
    s.close()
    ok = bytes(got) == data
    say("tcp %s:%s -> %s:%s: %d bytes sent, %d echoed, %s" %
        (src, sport, dst, dport, len(data), len(got), "intact" if ok else "DIFFERENT"))
    return ok


def udp_send(src, sport, dst, dport, text, *opt):
    s = bound(socket.SOCK_DGRAM, src, sport)
    s.connect((dst, int(dport)))
    s.send(text.encode())
    if not opt:
        return True
    # --refused SECONDS: a connected UDP socket reports ICMP port unreachable
    # as ECONNREFUSED: the proof that the gateway itself answered.
    s.settimeout(float(opt[1]))
    try:
        s.recv(65535)
        say("answered (not refused)")
        return False
    except ConnectionRefusedError:
        say("port unreachable from %s" % dst)
        return True
    except socket.timeout:
        say("no answer within %s s" % opt[1])
        return False


def received(s, secs, recv):
    """The listeners' loop: "ready", then recv(s) results until secs pass."""
    end = time.monotonic() + float(secs)
    say("ready")
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return
        s.settimeout(left)
        try:
            yield recv(s)
        except socket.timeout:
            return


def udp_listen(addr, port, secs):
    s = bound(socket.SOCK_DGRAM, addr, port)
    for d, a in received(s, secs, lambda s: s.recvfrom(65535)):
        say("got %r from %s:%d" % (d.decode(errors="replace"), a[0], a[1]))
    return True


def stream_send(src, dst, dport, count, rate):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    count, gap = int(count), 1.0 / float(rate)
    t0 = time.monotonic()
    say("ready")
    for i in range(count):
        # a steady rate: each datagram at its own time, not after a sleep
        delay = t0 + i * gap - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        s.sendto(b"%08d" % i, (dst, int(dport)))
    say("sent %d in %.1f s" % (count, time.monotonic() - t0))
    return True


def stream_recv(addr, port, count, idle, timeout):
    s = bound(socket.SOCK_DGRAM, addr, port)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    count, end = int(count), time.monotonic() + float(timeout)
    seen = set()
    say("ready")
    while len(seen) < count:
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(min(left, float(idle)) if seen else left)
        try:
            d = s.recv(64)
        except socket.timeout:
            break
        seen.add(int(d[:8]))
    lost = sorted(set(range(count)) - seen)
    say("received %d of %d, lost %d%s" % (len(seen), count, len(lost),
        (" (first lost: %s)" % lost[:10]) if lost else ""))
    return not lost


# --- IPsec with scapy --------------------------------------------------------
def scapy():
    import logging
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    import scapy.all as sc
    from scapy.layers import ipsec
    sc.conf.verb = 0
    return sc, ipsec


def load_sas(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def sa_new(path, name, proto, mode, spi, src, dst):
    sas = load_sas(path)
    sas[name] = {"proto": proto.upper(), "mode": mode, "spi": int(spi, 0), "src": src,
                 "dst": dst, "crypt_key": os.urandom(16).hex(),
                 "auth_key": os.urandom(20).hex()}
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(sas, f, indent=1)
    os.rename(tmp, path)
    return True


def make_sa(sc, ipsec, d):
    """scapy SecurityAssociation for one SA: AES-CBC + HMAC-SHA1-96 (ESP),
    HMAC-SHA1-96 (AH); tunnel mode gets an outer header src -> dst."""
    kw = {"spi": d["spi"], "auth_algo": "HMAC-SHA1-96",
          "auth_key": bytes.fromhex(d["auth_key"])}
    if d["proto"] == "ESP":
        kw.update(crypt_algo="AES-CBC", crypt_key=bytes.fromhex(d["crypt_key"]))
    if d["mode"] == "tunnel":
        kw["tunnel_header"] = sc.IP(src=d["src"], dst=d["dst"])
    return ipsec.SecurityAssociation(getattr(ipsec, d["proto"]), **kw)


def sa_packet(sc, ipsec, d, name, size=0, df=False):
    """The packet SA d sends: payload name, NUL-padded to size bytes."""
    # the protected packet: in tunnel mode an inner one of the same
    # endpoints (what a gateway-to-gateway SA would carry)
    inner = (sc.IP(src=d["src"], dst=d["dst"], id=4242, flags="DF" if df else 0) /
             sc.UDP(sport=4500 + 1, dport=4500 + 2) /
             sc.Raw(name.encode().ljust(int(size), b"\0")))
    # ids are non-zero: a zero id would be filled in by the kernel, and
    # AH covers the id (scapy's tunnel header has id 1)
    sa = make_sa(sc, ipsec, d)
    if df and d["mode"] == "tunnel":
        sa.tunnel_header.flags = "DF"
    return bytes(sa.encrypt(inner))


def ipsec_send(path, *args):
    sc, ipsec = scapy()
    sas = load_sas(path)
    socks = {}
    size, df, names = 0, False, []
    i = 0
    while i < len(args):
        if args[i] == "--size":
            size = int(args[i + 1])
            i += 2
        elif args[i] == "--df":
            df = True
            i += 1
        else:
            names.append(args[i])
            i += 1
    for name in names:
        d = sas[name]
        raw = sa_packet(sc, ipsec, d, name, size, df)
        # A raw socket, bound to the source: the kernel routes by it (on a
        # host, G's policy route into the tunnel), and with IPPROTO_RAW
        # (IP_HDRINCL) sends our header as is, checksum filled in.
        if d["src"] not in socks:
            s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
            s.bind((d["src"], 0))
            socks[d["src"]] = s
        socks[d["src"]].sendto(raw, (d["dst"], 0))
    say("sent %s" % " ".join(names))
    return True


def ipsec_recv(path, iface, *opt):
    sc, ipsec = scapy()
    sas = load_sas(path)
    outer, until, timeout = None, set(), 5.0
    i = 0
    while i < len(opt):
        if opt[i] == "--outer":
            outer = (opt[i + 1], opt[i + 2])
            i += 3
        elif opt[i] == "--until":
            until = set(opt[i + 1].split(","))
            i += 2
        elif opt[i] == "--timeout":
            timeout = float(opt[i + 1])
            i += 2
        else:
            raise SystemExit("ipsec-recv: unknown option " + opt[i])
    seen = set()
    done = threading.Event()

    def verify(ip):
        """Which SA protects ip, and does it decrypt / verify with it?"""
        proto = {50: "ESP", 51: "AH"}.get(ip.proto)
        if not proto:
            return
        layer = ip[ipsec.ESP] if proto == "ESP" else ip[ipsec.AH]
        cands = [n for n, d in sas.items() if d["proto"] == proto and
                 d["spi"] == layer.spi and d["src"] == ip.src and d["dst"] == ip.dst]
        if not cands:
            say("unknown %s spi 0x%x %s > %s" % (proto, layer.spi, ip.src, ip.dst))
            return
        why = "no SA of %s verifies it" % ",".join(cands)
        for n in cands:
            d = sas[n]
            try:
                # a fresh copy: decrypt changes the packet it is given
                clear = make_sa(sc, ipsec, d).decrypt(sc.IP(bytes(ip)))
            except Exception as e:	# ICV mismatch, bad padding, ...
                why = "%s: %s" % (n, e)
                continue
            # scapy leaves what AH protected undissected (the inner packet
            # in tunnel mode, the UDP header in transport mode): re-parse
            clear = sc.IP(bytes(clear))
            # a --size packet carries the name NUL-padded
            if sc.UDP in clear and bytes(clear[sc.UDP].payload).rstrip(b"\0") == n.encode():
                seen.add(n)
                say("ok %s: %s %s spi 0x%x %s > %s, %s" %
                    (n, proto, d["mode"], d["spi"], ip.src, ip.dst,
                     "decrypted, ICV verified" if proto == "ESP" else "ICV verified"))
                if until and until <= seen:
                    done.set()
                return
            why = "%s: verified but the payload is %r" % (n, bytes(clear))
        say("bad %s" % why)

    def handle(p):
        if sc.IP not in p:
            return
        ip = p[sc.IP]
        if outer:
            # A packet socket on the host's interface sees the frame before
            # host_ingress (tc) strips the tunnel: taps run ahead of tc
            # ingress, and the decapsulated packet goes straight to IP.
            # So strip the outer header here, after checking it is Gi -> Hi.
            if ip.proto != 4 or (ip.src, ip.dst) != outer:
                return
            ip = sc.IP(bytes(ip.payload)[:ip.len - ip.ihl * 4])
        elif ip.proto not in (50, 51):
            return
        verify(sc.IP(bytes(ip)[:ip.len]))

    sn = sc.AsyncSniffer(iface=iface, store=False, prn=handle,
                         filter="ip proto 4 or ip proto 50 or ip proto 51",
                         started_callback=lambda: say("ready"))
    sn.start()
    done.wait(timeout)
    sn.stop()
    say("seen: %s" % (" ".join(sorted(seen)) or "-"))
    return not until or until <= seen


def ah_selftest():
    """The receiver's AH check is real: one changed immutable byte (the
    source address, the payload) fails it; a changed TTL (mutable) not."""
    sc, ipsec = scapy()
    d = {"proto": "AH", "mode": "transport", "spi": 0x1234, "src": "192.0.2.1",
         "dst": "192.0.2.2", "auth_key": os.urandom(20).hex()}
    good = bytes(make_sa(sc, ipsec, d).encrypt(
        sc.IP(src=d["src"], dst=d["dst"], id=7) / sc.UDP() / sc.Raw(b"selftest")))

    def verifies(raw):
        try:
            make_sa(sc, ipsec, d).decrypt(sc.IP(raw))
            return True
        except ipsec.IPSecIntegrityError:
            return False

    ttl = bytearray(good)
    ttl[8] ^= 1
    src = bytearray(good)
    src[12] ^= 1
    pay = bytearray(good)
    pay[-1] ^= 1
    res = [verifies(good), verifies(bytes(ttl)), not verifies(bytes(src)),
           not verifies(bytes(pay))]
    words = (tuple("verifies" if v else "FAILS" for v in res[:2]) +
             tuple("rejected" if v else "ACCEPTED" for v in res[2:]))
    say("AH self-test: intact %s, TTL changed %s, source changed %s, payload changed %s"
        % words)
    return all(res)


# --- tunnel semantics (test_tunnel.sh) ---------------------------------------
IP_TOS, IP_TTL, IP_RECVERR, IP_RECVTTL, IP_RECVTOS = 1, 2, 11, 12, 13
MSG_ERRQUEUE = 0x2000


def inet_csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(int.from_bytes(b[i:i + 2], "big") for i in range(0, len(b), 2))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s & 0xffff).to_bytes(2, "big")


def ipv4(src, dst, proto, tos, ttl, payload):
    """An IPv4 header (DF, random id) with a valid checksum, then payload."""
    h = bytearray(20)
    h[0], h[1] = 0x45, tos
    h[2:4] = (20 + len(payload)).to_bytes(2, "big")
    h[4:6] = os.urandom(2)
    h[6:8] = (0x4000).to_bytes(2, "big")
    h[8], h[9] = ttl, proto
    h[12:16] = socket.inet_aton(src)
    h[16:20] = socket.inet_aton(dst)
    h[10:12] = inet_csum(bytes(h))
    return bytes(h) + payload


def udp_recv_tos(addr, port, secs):
    s = bound(socket.SOCK_DGRAM, addr, port)
    s.setsockopt(socket.IPPROTO_IP, IP_RECVTOS, 1)
    s.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
    for d, anc, _, a in received(s, secs, lambda s: s.recvmsg(65535, 256)):
        tos = ttl = -1
        for level, kind, data in anc:
            if level == socket.IPPROTO_IP and kind == IP_TOS:
                tos = data[0]
            elif level == socket.IPPROTO_IP and kind == IP_TTL:
                ttl = int.from_bytes(data[:4], sys.byteorder)
        say("got %r from %s:%d tos 0x%02x ttl %d" % (d.decode(errors="replace"), a[0], a[1],
                                                      tos, ttl))
    return True


def udp_probe(src, sport, dst, dport, tos, ttl, secs):
    """traceroute's probe: the error comes back in the socket's error queue."""
    s = bound(socket.SOCK_DGRAM, src, sport)
    s.setsockopt(socket.IPPROTO_IP, IP_TOS, int(tos, 0))
    s.setsockopt(socket.IPPROTO_IP, IP_TTL, int(ttl))
    s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
    s.sendto(b"probe", (dst, int(dport)))
    p = select.poll()
    p.register(s, select.POLLERR)
    if not p.poll(float(secs) * 1000):
        say("no error within %s s" % secs)
        return False
    _, anc, _, _ = s.recvmsg(512, 512, MSG_ERRQUEUE)
    for level, kind, data in anc:
        if level == socket.IPPROTO_IP and kind == IP_RECVERR:
            # struct sock_extended_err, then the offender's sockaddr_in
            _, origin, typ, code = struct.unpack_from("=IBBB", data)
            offender = socket.inet_ntoa(data[16 + 4:16 + 8])
            say("icmp type %d code %d from %s" % (typ, code, offender))
            return origin == 2		# SO_EE_ORIGIN_ICMP
    say("error queue without IP_RECVERR")
    return False


def ipip_send(osrc, odst, otos, isrc, idst, itos, ttl, kind, a, b, text):
    if kind == "udp":
        l4 = struct.pack("!HHHH", int(a), int(b), 8 + len(text), 0) + text.encode()
        proto = socket.IPPROTO_UDP
    else:
        l4 = struct.pack("!BBHHH", int(a), 0, 0, int(b, 0), 1) + text.encode()
        l4 = l4[:2] + inet_csum(l4) + l4[4:]
        proto = socket.IPPROTO_ICMP
    inner = ipv4(isrc, idst, proto, int(itos, 0), int(ttl), l4)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 4)	# IPPROTO_IPIP
    s.bind((osrc, 0))
    s.setsockopt(socket.IPPROTO_IP, IP_TOS, int(otos, 0))
    s.sendto(inner, (odst, 0))
    say("sent %s %s -> %s in %s -> %s" % (kind, isrc, idst, osrc, odst))
    return True


def icmp_recv(addr, typ, secs):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.bind((addr, 0))
    got = False
    for d, a in received(s, secs, lambda s: s.recvfrom(65535)):
        hl = (d[0] & 0xf) * 4
        if d[hl] != int(typ):
            continue
        got = True
        say("icmp %d from %s id 0x%04x %r" % (d[hl], a[0], int.from_bytes(d[hl + 4:hl + 6], "big"),
                                               d[hl + 8:].decode(errors="replace")))
    return got


def frag_needed(src, mtu, path, name):
    sc, ipsec = scapy()
    d = load_sas(path)[name]
    pkt = sa_packet(sc, ipsec, d, name)
    quote = pkt[:(pkt[0] & 0xf) * 4 + 8]
    icmp = sc.IP(src=src, dst=d["src"], id=777) / sc.ICMP(type=3, code=4,
                                                         nexthopmtu=int(mtu)) / sc.Raw(quote)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.bind((src, 0))
    s.sendto(bytes(icmp), (d["src"], 0))
    say("sent frag-needed mtu %s from %s to %s quoting %s spi 0x%x" %
        (mtu, src, d["src"], d["proto"], d["spi"]))
    return True


def tunnel_frag_recv(iface, src, dst, timeout, spi=None):
    sc, _ = scapy()
    want = int(spi, 0) if spi else None
    got = threading.Event()

    def handle(p):
        if sc.IP not in p:
            return
        o = p[sc.IP]
        if o.proto != 4 or (o.src, o.dst) != (src, dst):
            return
        ip = sc.IP(bytes(o.payload)[:o.len - o.ihl * 4])
        if ip.proto != 1 or ip[sc.ICMP].type != 3 or ip[sc.ICMP].code != 4:
            return
        q = bytes(ip[sc.ICMP].payload)
        qhl = (q[0] & 0xf) * 4 if q else 0
        proto = q[9] if len(q) >= 20 else 0
        qspi = None
        if proto == 50 and len(q) >= qhl + 4:
            qspi = int.from_bytes(q[qhl:qhl + 4], "big")
        elif proto == 51 and len(q) >= qhl + 8:
            qspi = int.from_bytes(q[qhl + 4:qhl + 8], "big")
        say("frag-needed mtu %d from %s to %s quoting proto %d%s %s > %s" %
            (ip[sc.ICMP].nexthopmtu, ip.src, ip.dst, proto,
             " spi 0x%x" % qspi if qspi is not None else "",
             socket.inet_ntoa(q[12:16]), socket.inet_ntoa(q[16:20])))
        if want is None or qspi == want:
            got.set()

    sn = sc.AsyncSniffer(iface=iface, store=False, prn=handle, filter="ip proto 4",
                         started_callback=lambda: say("ready"))
    sn.start()
    got.wait(float(timeout))
    sn.stop()
    return got.is_set()


COMMANDS = {
    "ah-selftest": ah_selftest,
    "serve": serve, "udp-echo": udp_echo, "tcp-echo": tcp_echo, "udp-send": udp_send,
    "udp-listen": udp_listen, "stream-send": stream_send, "stream-recv": stream_recv,
    "sa-new": sa_new, "ipsec-send": ipsec_send, "ipsec-recv": ipsec_recv,
    "udp-recv-tos": udp_recv_tos, "udp-probe": udp_probe, "ipip-send": ipip_send,
    "icmp-recv": icmp_recv,
    "frag-needed": frag_needed, "tunnel-frag-recv": tunnel_frag_recv,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    try:
        sys.exit(0 if COMMANDS[sys.argv[1]](*sys.argv[2:]) else 1)
    except OSError as e:
        say("%s: %s" % (sys.argv[1], e))
        sys.exit(1)
