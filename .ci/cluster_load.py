#!/usr/bin/env python3
"""Steady traffic through the load balancer while instances restart and the COG import runs.

Usage: cluster_load.py URL TOKEN STOP_FILE
Clients send, until STOP_FILE exists, public reads over GET (cached by nginx), the same read
with a token (never cached), and queries over POST, each on a new connection as a browser
behind a proxy would after an idle period. Every answer must be a 200 without GraphQL errors:
any other outcome is printed and makes the exit status 1. Prints one summary line.
"""

import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

URL, TOKEN, STOP = sys.argv[1], sys.argv[2], sys.argv[3]
TARGET = urllib.parse.urlsplit(URL)
CLIENTS = 4
# Real communes and intercommunalities of the shipped reference (Rennes, its métropole, Vitré).
SIRENS = ["213502388", "243500139", "213503600"]

lock = threading.Lock()
counts = {"ok": 0, "failed": 0}
failures = []


def request(method, path, body=None, headers=None):
    conn = http.client.HTTPConnection(TARGET.hostname, TARGET.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def read_path(siren):
    query = '{ organisation(siren: "%s") { name inseeCode contactPoints { value } } }' % siren
    return "/graphql?" + urllib.parse.urlencode({"query": query})


def check(kind, outcome):
    try:
        status, body = outcome()
        answer = json.loads(body)
        good = status == 200 and "errors" not in answer and answer.get("data")
        detail = f"{status} {body[:200]!r}"
    except Exception as error:  # a refused or reset connection is a failed request
        good, detail = False, repr(error)
    with lock:
        if good:
            counts["ok"] += 1
        else:
            counts["failed"] += 1
            if len(failures) < 10:
                failures.append(f"{time.strftime('%H:%M:%S')} {kind}: {detail}")


def client(number):
    accept = {"Accept": "application/json"}
    bearer = {**accept, "Authorization": f"Bearer {TOKEN}"}
    post = {**accept, "Content-Type": "application/json"}
    turn = number
    while not os.path.exists(STOP):
        siren = SIRENS[turn % len(SIRENS)]
        check("public GET", lambda: request("GET", read_path(siren), headers=accept))
        check("token GET", lambda: request("GET", read_path(siren), headers=bearer))
        body = json.dumps({"query": '{ organisation(siren: "%s") { name } }' % siren})
        check("POST", lambda: request("POST", "/graphql", body=body, headers=post))
        turn += 1


threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
started = time.monotonic()
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.monotonic() - started
print(
    f"load: {counts['ok']} answered, {counts['failed']} failed in {elapsed:.1f} s"
    f" ({counts['ok'] / elapsed:.0f} req/s)"
)
for failure in failures:
    print("  " + failure)
sys.exit(1 if counts["failed"] else 0)
