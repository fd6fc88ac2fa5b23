#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# metrics_scrape.py --status METHOD URL: print the HTTP status METHOD gets.
# metrics_scrape.py URL: GET URL and parse it with the Prometheus client's
# own parser (Debian's python3-prometheus-client), then print one line per
# family, "# FAMILY NAME TYPE", and one per sample, "NAME{k="v",...} VALUE"
# with the labels sorted, so the shell tests grep what a Prometheus server
# would have read. Exits 1 when the body does not parse or a family's
# samples break the naming conventions (counters end in _total).
import sys
import urllib.error
import urllib.request
from prometheus_client.parser import text_string_to_metric_families

opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
if sys.argv[1] == "--status":
    req = urllib.request.Request(sys.argv[3], method=sys.argv[2],
                                 data=b"x" if sys.argv[2] == "POST" else None)
    try:
        print(opener.open(req, timeout=5).status)
    except urllib.error.HTTPError as e:
        print(e.code)
    sys.exit(0)
with opener.open(sys.argv[1], timeout=5) as r:
    ctype = r.headers.get("Content-Type", "")
    body = r.read().decode()
if not ctype.startswith("text/plain") or "version=0.0.4" not in ctype:
    sys.exit("Content-Type %r is not the text format 0.0.4" % ctype)
out = []
for f in text_string_to_metric_families(body):
    out.append("# FAMILY %s %s" % (f.name, f.type))
    if not f.documentation:
        sys.exit("%s has no HELP" % f.name)
    for s in f.samples:
        if f.type == "counter" and not s.name.endswith("_total"):
            sys.exit("counter sample %s does not end in _total" % s.name)
        labels = ",".join('%s="%s"' % kv for kv in sorted(s.labels.items()))
        out.append("%s%s %d" % (s.name, "{%s}" % labels if labels else "", s.value))
print("\n".join(out))
