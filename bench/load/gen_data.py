#!/usr/bin/env python3
"""Test data for the load benchmark (bench/load/run.sh): leaked-token sets and the wrk request bodies.

Writes into OUT_DIR, deterministically from --seed:
  tokens-<N>.txt       one token a line: the ModSecurity @pmFromFile list
  rules-<N>.yaml       the node's rule file (CONTRACT.md, Rules:File): leaks of 4 tokens each
  body-500.json        a ~500 B JSON request body
  body-16k.json        a 16 KiB (16,384 B) JSON request body
  post-500.lua, post-16k.lua   wrk scripts: POST, JSON, a bearer token that is NOT leaked, the body
  bearer.txt           that bearer token
  leaked.txt           one token of every set (the smaller sets are prefixes of the larger ones), for the block checks

Every token is random, shaped like a real format (prefix, alphabet, length), the same mix as the matcher
benchmarks' "mixed" sets (bench/README.md): mostly long tokens, one in ten a GitLab token or an AWS access
key id. No token here was ever issued by anyone.
"""

import argparse
import json
import os
import random
import string

BASE62 = string.ascii_uppercase + string.ascii_lowercase + string.digits
BASE64URL = BASE62 + "-_"
BASE64 = BASE62 + "+/"
UPPER_DIGITS = string.ascii_uppercase + "234567"
JWT_HEADER = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."


def chars(rng, alphabet, count):
    return "".join(rng.choices(alphabet, k=count))


LONG_FORMATS = [
    lambda r: "ghp_" + chars(r, BASE62, 36),
    lambda r: "github_pat_" + chars(r, BASE62, 22) + "_" + chars(r, BASE62, 59),
    lambda r: chars(r, BASE64, 40),  # AWS secret access key
    lambda r: f"xoxb-{chars(r, string.digits, 12)}-{chars(r, string.digits, 13)}-{chars(r, BASE62, 24)}",
    lambda r: "sk_live_" + chars(r, BASE62, r.randint(24, 99)),
    lambda r: "AIza" + chars(r, BASE64URL, 35),
    lambda r: "sk-proj-" + chars(r, BASE64URL, 48),
    lambda r: "npm_" + chars(r, BASE62, 36),
    lambda r: "SG." + chars(r, BASE64URL, 22) + "." + chars(r, BASE64URL, 43),
    lambda r: JWT_HEADER + chars(r, BASE64URL, r.randint(40, 119)) + "." + chars(r, BASE64URL, 43),
]
SHORT_FORMATS = [
    lambda r: "glpat-" + chars(r, BASE64URL, 20),
    lambda r: "AKIA" + chars(r, UPPER_DIGITS, 16),
]


def token(rng):
    formats = SHORT_FORMATS if rng.random() < 0.1 else LONG_FORMATS
    return rng.choice(formats)(rng)


def write_sets(out, sizes, seed):
    """One token stream; each set is a prefix of it, so a token leaked at 10k is leaked at 100k too."""
    rng = random.Random(seed)
    sizes = sorted(sizes)
    tokens = []
    seen = set()
    for n in sizes:
        while len(tokens) < n:
            t = token(rng)
            if t not in seen:
                seen.add(t)
                tokens.append(t)
        with open(os.path.join(out, f"tokens-{n}.txt"), "w", encoding="ascii") as f:
            f.write("\n".join(tokens[:n]))
            f.write("\n")
        with open(os.path.join(out, f"rules-{n}.yaml"), "w", encoding="ascii") as f:
            f.write(f"# {n} random tokens of real formats, 4 a leak (bench/load/gen_data.py, seed {seed})\n")
            f.write("leaks:\n")
            for i in range(0, n, 4):
                leak = i // 4 + 1
                f.write(f"  - id: leak-{leak}\n    name: \"load leak {leak}\"\n    tokens:\n")
                for t in tokens[i:i + 4]:
                    f.write(f"      - \"{t}\"\n")
    return tokens


def body_500(rng):
    doc = {
        "orderId": f"ord_{chars(rng, BASE62, 16)}",
        "customer": {"id": 48213, "email": "jane.doe@example.com", "name": "Jane Doe"},
        "items": [
            {"sku": "SKU-10482", "qty": 2, "price": 19.99},
            {"sku": "SKU-77310", "qty": 1, "price": 149.0},
        ],
        "currency": "EUR",
        "shipping": {"method": "express", "address": "12 Rue de la Paix, 75002 Paris, FR"},
        "note": "Leave at the front desk, please.",
        "thumbnail": chars(rng, BASE64, 120) + "==",
        "createdAt": "2026-11-28T10:15:30Z",
    }
    return json.dumps(doc, separators=(",", ":"))


def body_16k(rng, size=16384):
    events = []
    doc = {"batchId": f"batch_{chars(rng, BASE62, 20)}", "source": "mobile-app/4.18.2", "events": events,
           "attachment": {"name": "receipt.png", "contentType": "image/png", "data": ""}}
    words = ["checkout", "cart", "search", "login", "view", "scroll", "click", "share", "review", "logout"]
    for i in range(40):
        events.append({
            "seq": i,
            "type": rng.choice(words),
            "at": f"2026-11-28T10:{i % 60:02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}Z",
            "userId": f"usr_{chars(rng, BASE62, 12)}",
            "path": f"/catalog/{rng.randint(1, 500)}/item/{rng.randint(1000, 99999)}",
            "props": {"ab": rng.choice(["A", "B"]), "latencyMs": rng.randint(3, 900), "ok": rng.random() < 0.95},
        })
    base = json.dumps(doc, separators=(",", ":"))
    # The rest is a base64 attachment (about a third of the bytes), so the body is exactly `size` bytes.
    pad = size - len(base)
    if pad < 100:
        raise SystemExit(f"16 KiB body: the events already take {len(base)} B")
    doc["attachment"]["data"] = chars(rng, BASE64, pad - 2) + "=="
    text = json.dumps(doc, separators=(",", ":"))
    assert len(text) == size, len(text)
    return text


def lua(body, bearer):
    # A Lua long bracket holds the body verbatim; the level is picked so that no "]==]" can end it early.
    level = "=" * 4
    assert f"]{level}]" not in body
    return (
        "-- wrk script (bench/load/gen_data.py): POST a JSON body with a bearer token that is not leaked.\n"
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {bearer}"\n'
        f"wrk.body = [{level}[{body}]{level}]\n"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", help="output directory")
    parser.add_argument("--sizes", default="10000,100000", help="token set sizes, comma-separated")
    parser.add_argument("--seed", type=int, default=20261128)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",") if s]

    tokens = write_sets(args.out, sizes, args.seed)

    rng = random.Random(args.seed + 1)  # another stream: nothing below is in the sets
    bearer = "ghp_" + chars(rng, BASE62, 36)
    bodies = {"500": body_500(rng), "16k": body_16k(rng)}
    # No listed token may occur anywhere in the traffic, compared case-insensitively like ModSecurity's @pm:
    # every window of every listed length is looked up.
    lowered = {t.lower() for t in tokens}
    lengths = {len(t) for t in tokens}
    for text in [bearer, *bodies.values()]:
        low = text.lower()
        for n in lengths:
            if any(low[i:i + n] in lowered for i in range(len(low) - n + 1)):
                raise SystemExit("gen_data: a listed token occurs in the request traffic; change --seed")

    for name, text in bodies.items():
        with open(os.path.join(args.out, f"body-{name}.json"), "w", encoding="ascii") as f:
            f.write(text)
        with open(os.path.join(args.out, f"post-{name}.lua"), "w", encoding="ascii") as f:
            f.write(lua(text, bearer))
    with open(os.path.join(args.out, "bearer.txt"), "w", encoding="ascii") as f:
        f.write(bearer + "\n")
    # A long-format token from the middle of the smallest set: listed in every set.
    smallest = min(sizes)
    leaked = next(t for t in tokens[smallest // 2: smallest] if t.startswith("ghp_"))
    with open(os.path.join(args.out, "leaked.txt"), "w", encoding="ascii") as f:
        f.write(leaked + "\n")
    print(f"gen_data: {len(tokens)} tokens, sets {sizes}, bodies {[len(b) for b in bodies.values()]} B")


if __name__ == "__main__":
    main()
