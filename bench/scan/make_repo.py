#!/usr/bin/env python3
"""Writes a deterministic git repository with a long, source-like history, for the scanner benchmark.

    make_repo.py --seed 1 --target-mb 240 --repo DIR --manifest FILE

The same seed gives the same repository, byte for byte (fixed authors, dates and content): the benchmark caches it
by seed. The history is fed to `git fast-import` as one stream (a `git add` and `git commit` per commit would take
hours for tens of thousands of commits), then repacked with deltas as a real repository is.

What is in it: source files in seven languages (Python, JavaScript, Go, C#, Java, YAML, Markdown) written line by line
from a vocabulary, with the things that make a secret scanner work: names like `token`, `secret`, `password` next to
values that are not secrets (environment lookups, hashes, UUIDs, placeholders). Commits edit one to four files in
one to three hunks, add files, delete files, rename files (some unchanged, some edited in the same commit); feature
branches live in their own folders, are merged with merge commits, and some are left unmerged; a few tags.

Planted tokens (made here from the seed with valid checksums where the format has one, never stored anywhere but the
repository and the manifest): some stay at HEAD, some are deleted in a later commit, one is moved to another file
unchanged, one lives only on an unmerged branch. The manifest (JSON) lists each with its kind and whether it is still
at HEAD, for the benchmark to check that the scanner found them.

`--target-mb` is the size aimed at for `git log -p --all` output, estimated while writing (hunk headers, three
lines of context); the benchmark measures the real size.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import zlib

WORDS = """account action active address admin agent alert amount api app archive array asset async audit auth
backend balance batch bill block body branch bucket buffer build bundle cache call cancel card cart case channel
charge check child claim client close cluster code column commit config connect consumer content context count
country create credit cursor customer data database date debug default delete delivery deploy detail device digest
document domain draft driver email encode endpoint engine entry error event export extract feature fetch field
file filter flag format frame gateway group handler hash header health history host image import index input
insert instance invoice item job key label layer limit line link list load local lock log lookup manager map
market member merge message meta method metric mode model module monitor name node notify object offset order
output owner package page param parent parse partner path payload payment peer plan policy pool port post
prefix price process product profile project provider proxy query queue quota range rate reader record redirect
region registry release remote render report request resolve resource response result retry role route rule
runner sample scope score search section segment select sender server service session setting shard shipment
signal size slot snapshot source span stage state status step storage store stream subject summary supplier
sync table target task team template tenant text thread ticket timer topic total trace tracker transfer tree
trigger type unit update upload usage user value vendor version view volume wallet warning webhook window worker
writer zone""".split()

AUTHORS = [("Ada Park", "ada@example.test"), ("Ben Okafor", "ben@example.test"), ("Chen Li", "chen@example.test"),
           ("Dana Ruiz", "dana@example.test"), ("Eli Novak", "eli@example.test"), ("Fay Moreau", "fay@example.test"),
           ("Gus Jensen", "gus@example.test"), ("Hana Sato", "hana@example.test"), ("Ivo Petrov", "ivo@example.test"),
           ("Jo Quinn", "jo@example.test")]

LANGS = [("py", 5), ("js", 4), ("go", 3), ("cs", 3), ("java", 2), ("yaml", 2), ("md", 1)]

B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def word(self):
        return self.r.choice(WORDS)

    def ident(self, parts=2, sep="_"):
        return sep.join(self.word() for _ in range(self.r.randint(1, parts)))

    def camel(self, parts=3):
        ws = [self.word() for _ in range(self.r.randint(1, parts))]
        return ws[0] + "".join(w.capitalize() for w in ws[1:])

    def pascal(self, parts=3):
        return "".join(w.capitalize() for w in (self.word() for _ in range(self.r.randint(1, parts))))

    def chars(self, alphabet, n):
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def hexs(self, n):
        return "%0*x" % (n, self.r.getrandbits(4 * n))

    def sentence(self, lo=4, hi=12):
        return " ".join(self.word() for _ in range(self.r.randint(lo, hi)))

    # A line of noise that a secret scanner must not report: names that say "secret" with values that are not.
    def decoy(self, lang):
        r = self.r
        name = r.choice(["token", "secret", "password", "api_key", "access_key", "auth_token", "client_secret"])
        v = r.randrange(6)
        if v == 0:
            value = 'os.environ["%s"]' % (self.ident().upper() + "_" + name.upper())
        elif v == 1:
            value = "hash_of(%s)" % self.word()
        elif v == 2:
            value = '"%s-%s-%s-%s-%s"' % (self.hexs(8), self.hexs(4), self.hexs(4), self.hexs(4), self.hexs(12))
        elif v == 3:
            value = '"<your-%s>"' % name.replace("_", "-")
        elif v == 4:
            value = "config.%s.%s" % (self.word(), name)
        else:
            value = '"${%s}"' % name.upper()
        if lang == "yaml":
            return "%s%s: %s" % ("  " * r.randint(0, 2), name, value.replace("os.environ", "env"))
        if lang == "go":
            return "\t%s := %s" % (self.camel(1) + name.title().replace("_", ""), value)
        return "    %s_%s = %s" % (self.word(), name, value)

    def line(self, lang):
        r = self.r
        roll = r.random()
        if roll < 0.03:
            return self.decoy(lang)
        if lang == "py":
            return r.choice([
                lambda: "def %s(%s, %s):" % (self.ident(3), self.ident(1), self.ident(2)),
                lambda: "    %s = %s(%s)" % (self.ident(2), self.ident(2), self.ident(1)),
                lambda: "    if %s is None:" % self.ident(2),
                lambda: "        return %s.%s()" % (self.ident(1), self.ident(2)),
                lambda: "    # %s" % self.sentence(),
                lambda: "    logger.info(\"%s %%s\", %s)" % (self.sentence(3, 6), self.ident(1)),
                lambda: "    for %s in %s:" % (self.word(), self.ident(2) + "s"),
                lambda: "from %s.%s import %s" % (self.word(), self.word(), self.pascal()),
                lambda: "",
            ])()
        if lang == "js":
            return r.choice([
                lambda: "export function %s(%s) {" % (self.camel(), self.camel(1)),
                lambda: "  const %s = await %s.%s(%s);" % (self.camel(), self.camel(1), self.camel(2), self.camel(1)),
                lambda: "  if (!%s) { return null; }" % self.camel(2),
                lambda: "  // %s" % self.sentence(),
                lambda: "  console.debug(`%s ${%s}`);" % (self.sentence(2, 5), self.camel(1)),
                lambda: "}",
                lambda: "import { %s } from './%s';" % (self.pascal(), self.ident(2, "-")),
                lambda: "",
            ])()
        if lang == "go":
            return r.choice([
                lambda: "func (s *%s) %s(ctx context.Context, %s string) error {" % (self.pascal(2), self.pascal(), self.camel(1)),
                lambda: "\t%s, err := s.%s.%s(ctx, %s)" % (self.camel(1), self.camel(1), self.pascal(2), self.camel(1)),
                lambda: "\tif err != nil {\n\t\treturn fmt.Errorf(\"%s: %%w\", err)\n\t}" % self.sentence(2, 4),
                lambda: "\t// %s" % self.sentence(),
                lambda: "}",
                lambda: "",
            ])()
        if lang in ("cs", "java"):
            return r.choice([
                lambda: "    public %s %s(%s %s)" % (self.pascal(1), self.pascal(), self.pascal(1), self.camel(1)),
                lambda: "    {" if lang == "cs" else "    }",
                lambda: "        var %s = %s.%s(%s);" % (self.camel(), self.camel(1), self.pascal(2), self.camel(1)),
                lambda: "        if (%s == null) throw new ArgumentException(\"%s\");" % (self.camel(1), self.sentence(2, 5)),
                lambda: "        // %s" % self.sentence(),
                lambda: "        return %s;" % self.camel(2),
                lambda: "",
            ])()
        if lang == "yaml":
            return r.choice([
                lambda: "%s:" % self.ident(2),
                lambda: "  %s: %s" % (self.ident(2), self.word()),
                lambda: "  %s: %d" % (self.ident(1), r.randrange(10000)),
                lambda: "    - %s" % self.ident(2, "-"),
                lambda: "# %s" % self.sentence(),
            ])()
        return r.choice([
            lambda: "## %s" % self.sentence(2, 5).capitalize(),
            lambda: self.sentence(8, 20).capitalize() + ".",
            lambda: "- %s" % self.sentence(3, 8),
            lambda: "",
        ])()

    def lines(self, lang, n):
        out = []
        while len(out) < n:
            out.extend(self.line(lang).split("\n"))
        return out

    # --- planted tokens (formats as the built-in detectors read them) ---

    def github(self, prefix="ghp_"):
        body = self.chars(ALNUM, 30)
        crc = zlib.crc32(body.encode()) & 0xFFFFFFFF
        digits = ["0"] * 6
        for i in range(5, -1, -1):
            if crc == 0:
                break
            digits[i] = B62[crc % 62]
            crc //= 62
        return prefix + body + "".join(digits)

    def tokens(self):
        pem_label = "RSA PRIV" + "ATE KEY"
        pem_body = "\n".join(self.chars(ALNUM + "+/", 64) for _ in range(12))
        return [
            ("github-pat", self.github("gh" + "p_"), "GITHUB_TOKEN = \"%s\""),
            ("npm-access-token", self.github("np" + "m_"), "//registry.npmjs.org/:_authToken=%s"),
            ("aws-access-token", "AK" + "IA" + self.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16), "AWS_ACCESS_KEY_ID=%s"),
            ("aws-secret-access-key", self.chars(ALNUM + "+/", 40), "aws_secret_access_key = %s"),
            ("stripe-live-secret-key", "sk" + "_live_" + self.chars(ALNUM, 32), "stripe.api_key = \"%s\""),
            ("slack-bot-token", "xo" + "xb-" + self.chars("0123456789", 12) + "-" + self.chars("0123456789", 13) + "-" + self.chars(ALNUM, 24), "SLACK_BOT=%s"),
            ("gcp-api-key", "AI" + "za" + self.chars(ALNUM, 1) + self.chars(ALNUM + "-_", 33) + self.chars(ALNUM, 1), "  maps_key: %s"),
            ("gitlab-pat", "gl" + "pat-" + self.chars(ALNUM, 20), "GITLAB=%s"),
            ("private-key", "-----BEGIN %s-----\n%s\n-----END %s-----" % (pem_label, pem_body, pem_label), "%s"),
            ("generic-api-key", self.chars("ABCDEFGHJKLMNPQRSTUVWXYZ", 2) + self.chars("23456789", 2) + self.chars(ALNUM, 18), "    db_password = \"%s\""),
        ]


class Repo:
    """The fast-import stream: marks for blobs and commits, a file state per branch."""

    def __init__(self, out, gen):
        self.out = out
        self.g = gen
        self.mark = 0
        self.time = 1546300800  # 2019-01-01
        self.log_p = 0  # estimated bytes of `git log -p --all`
        self.commits = 0

    def next_mark(self):
        self.mark += 1
        return self.mark

    def blob(self, text):
        data = text.encode()
        m = self.next_mark()
        self.out.write(b"blob\nmark :%d\ndata %d\n" % (m, len(data)))
        self.out.write(data)
        self.out.write(b"\n")
        return m

    def commit(self, ref, message, changes, parent=None, merge=None):
        """changes: list of ("M", path, text) / ("D", path) / ("R", old, new)."""
        m = self.next_mark()
        name, email = self.g.r.choice(AUTHORS)
        self.time += self.g.r.randint(60, 1800)  # about 90,000 commits from 2019 to 2021
        ops = []
        for c in changes:
            if c[0] == "M":
                ops.append(b"M 100644 :%d %s\n" % (self.blob(c[2]), c[1].encode()))
            elif c[0] == "D":
                ops.append(b"D %s\n" % c[1].encode())
            else:
                ops.append(b"R %s %s\n" % (c[1].encode(), c[2].encode()))
        msg = message.encode()
        self.out.write(b"commit %s\nmark :%d\n" % (ref.encode(), m))
        self.out.write(b"author %s <%s> %d +0000\n" % (name.encode(), email.encode(), self.time))
        self.out.write(b"committer %s <%s> %d +0000\n" % (name.encode(), email.encode(), self.time))
        self.out.write(b"data %d\n%s\n" % (len(msg), msg))
        if parent is not None:
            self.out.write(b"from :%d\n" % parent)
        if merge is not None:
            self.out.write(b"merge :%d\n" % merge)
        self.out.writelines(ops)
        self.log_p += 250 + len(msg)  # commit header in log -p
        self.commits += 1
        return m


def make_file(g, lang, n):
    return g.lines(lang, n)


def edit(g, lang, lines):
    """Edits 1-3 hunks in place; returns the estimated diff bytes."""
    diff = 0
    for _ in range(g.r.choice([1, 1, 1, 2, 2, 3])):
        at = g.r.randrange(len(lines) + 1)
        removed = g.r.choice([0, 0, 1, 1, 2, 3, 5])
        added = g.r.choice([0, 1, 1, 2, 3, 4, 6, 10])
        if removed == 0 and added == 0:
            added = 1
        gone = lines[at:at + removed]
        new = g.lines(lang, added)[:added]
        lines[at:at + removed] = new
        diff += 30 + sum(len(x) + 2 for x in gone) + sum(len(x) + 2 for x in new) + 6 * 40
    return diff + 150


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--target-mb", type=float, default=240)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--no-repack", action="store_true", help="leave fast-import's pack as it is (faster, larger)")
    a = ap.parse_args()

    g = Gen(a.seed)
    target = int(a.target_mb * 1_000_000)
    subprocess.run(["git", "init", "-q", "-b", "main", a.repo], check=True)
    fi = subprocess.Popen(["git", "-C", a.repo, "fast-import", "--quiet", "--done"], stdin=subprocess.PIPE)
    repo = Repo(fi.stdin, g)

    # The initial tree: about 1,500 files of 40-400 lines in nested folders.
    files = {}
    langs = [l for l, w in LANGS for _ in range(w)]
    dirs = ["%s/%s" % (g.word(), g.word()) for _ in range(60)] + ["src/" + g.word() for _ in range(40)]
    counter = [0]

    def new_path(prefix=None):
        lang = g.r.choice(langs)
        counter[0] += 1
        base = prefix or g.r.choice(dirs)
        ext = lang
        return "%s/%s_%d.%s" % (base, g.ident(2), counter[0], ext), lang

    initial = []
    for _ in range(1500):
        path, lang = new_path()
        files[path] = (lang, make_file(g, lang, g.r.randint(40, 400)))
    for path, (lang, lines) in files.items():
        text = "\n".join(lines) + "\n"
        initial.append(("M", path, text))
        repo.log_p += len(text) + len(lines) + 120
    head = repo.commit("refs/heads/main", "Initial import", initial)

    tokens = g.tokens()
    manifest = []
    # When to plant each token: spread over the history.
    plant_at = {int(target * (i + 1) / (len(tokens) + 2)): i for i in range(len(tokens))}
    plants = sorted(plant_at)
    pending_deletes = []  # (log_p threshold, path)
    feature = None  # (name, fork mark, head mark, files, commits left)
    features_done = 0
    tag = 0

    def text_of(lines):
        return "\n".join(lines) + "\n"

    while repo.log_p < target:
        r = g.r
        # Plant a token when the history passes its point.
        if plants and repo.log_p >= plants[0]:
            i = plant_at[plants.pop(0)]
            kind, secret, form = tokens[i]
            path, lang = new_path()
            lines = make_file(g, lang, r.randint(20, 80))
            lines[r.randrange(len(lines))] = form % secret
            files[path] = (lang, lines)
            head = repo.commit("refs/heads/main", "Add %s settings" % g.word(), [("M", path, text_of(lines))], parent=head)
            repo.log_p += len(text_of(lines)) + 150
            fate = ["stays", "deleted", "moved", "stays", "deleted"][i % 5]
            if i == len(tokens) - 1:
                fate = "branch"
            entry = {"kind": kind, "secret": secret, "path": path, "fate": fate}
            if fate == "deleted":
                pending_deletes.append((repo.log_p + target // 10, path))
            elif fate == "moved":
                new, _ = new_path()
                head = repo.commit("refs/heads/main", "Move %s" % g.word(), [("R", path, new)], parent=head)
                files[new] = files.pop(path)
                entry["path"] = new
            elif fate == "branch":
                # Only on a branch that is never merged: the scan reads all refs.
                del files[path]
                head = repo.commit("refs/heads/main", "Revert: %s" % g.word(), [("D", path)], parent=head)
                repo.commit("refs/heads/experiment/%s" % g.word(), "Try %s" % g.word(),
                            [("M", path, text_of(lines))], parent=head)
                entry["fate"] = "branch"
            entry["atHead"] = entry["fate"] in ("stays", "moved")
            manifest.append(entry)
            continue
        if pending_deletes and repo.log_p >= pending_deletes[0][0]:
            _, path = pending_deletes.pop(0)
            if path in files:
                text = text_of(files.pop(path)[1])
                head = repo.commit("refs/heads/main", "Remove %s" % g.word(), [("D", path)], parent=head)
                repo.log_p += len(text) + 150
            continue

        # Feature branches: a run of commits in a folder of their own, merged, or (one in four) left unmerged.
        if feature is None and r.random() < 0.002:
            name = "feature/%s-%d" % (g.ident(2, "-"), features_done)
            feature = [name, head, head, {}, r.randint(5, 40)]
        if feature is not None and r.random() < 0.3:
            name, fork, fhead, ffiles, left = feature
            if ffiles and r.random() < 0.6:
                path = r.choice(list(ffiles))
                lang, lines = ffiles[path]
                repo.log_p += edit(g, lang, lines)
            else:
                path, lang = new_path(name.replace("/", "-"))
                lines = make_file(g, lang, r.randint(30, 200))
                ffiles[path] = (lang, lines)
                repo.log_p += len(text_of(lines)) + 150
            fhead = repo.commit("refs/heads/" + name, "%s: %s" % (name, g.sentence(3, 8)), [("M", path, text_of(lines))], parent=fhead)
            feature = [name, fork, fhead, ffiles, left - 1]
            if left - 1 <= 0:
                features_done += 1
                if features_done % 4 != 0:
                    changes = [("M", p, text_of(l)) for p, (lang, l) in ffiles.items()]
                    head = repo.commit("refs/heads/main", "Merge branch '%s'" % name, changes, parent=head, merge=fhead)
                    files.update(ffiles)
                feature = None
            continue

        roll = r.random()
        changes = []
        if roll < 0.04:
            path, lang = new_path()
            lines = make_file(g, lang, r.randint(30, 300))
            files[path] = (lang, lines)
            changes.append(("M", path, text_of(lines)))
            repo.log_p += len(text_of(lines)) + 150
        elif roll < 0.05 and len(files) > 500:
            path = r.choice(list(files))
            if path not in (m["path"] for m in manifest):
                repo.log_p += len(text_of(files.pop(path)[1])) + 150
                changes.append(("D", path))
        elif roll < 0.06:
            path = r.choice(list(files))
            if path not in (m["path"] for m in manifest):
                new, _ = new_path()
                changes.append(("R", path, new))
                lang, lines = files.pop(path)
                files[new] = (lang, lines)
                repo.log_p += len(text_of(lines)) * 2 + 300  # --no-renames in log -p: a delete and an add
                if r.random() < 0.5:
                    repo.log_p += edit(g, lang, lines)
                    changes.append(("M", new, text_of(lines)))
        else:
            for path in r.sample(list(files), r.choice([1, 1, 1, 2, 2, 3, 4])):
                if path in (m["path"] for m in manifest):
                    continue
                lang, lines = files[path]
                repo.log_p += edit(g, lang, lines)
                changes.append(("M", path, text_of(lines)))
        if changes:
            head = repo.commit("refs/heads/main", "%s %s" % (r.choice(["Fix", "Add", "Update", "Refactor", "Remove"]), g.sentence(2, 7)),
                               changes, parent=head)
            if repo.commits % 5000 == 0:
                tag += 1
                fi.stdin.write(b"reset refs/tags/v1.%d.0\nfrom :%d\n\n" % (tag, head))

    fi.stdin.write(b"done\n")
    fi.stdin.close()
    if fi.wait() != 0:
        sys.exit("git fast-import failed")
    subprocess.run(["git", "-C", a.repo, "reset", "-q", "--hard", "main"], check=True)
    if not a.no_repack:
        # fast-import deltas a blob only against the one before it; a repack finds the deltas a real repository has.
        subprocess.run(["git", "-C", a.repo, "repack", "-a", "-d", "-f", "-q", "--window=10", "--depth=50"], check=True)
    with open(a.manifest, "w") as f:
        json.dump({"seed": a.seed, "commits": repo.commits, "estimatedLogPBytes": repo.log_p, "tokens": manifest}, f, indent=2)
    print("%d commits, about %.0f MB of git log -p" % (repo.commits, repo.log_p / 1e6), file=sys.stderr)


if __name__ == "__main__":
    main()
