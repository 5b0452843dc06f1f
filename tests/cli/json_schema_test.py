#!/usr/bin/env python3
"""Checks every command's `--json` output against the schemas of docs/cli-json.md.

    python3 json_schema_test.py --tessera PATH --tessera-card PATH --docs docs/cli-json.md

The schemas are the fenced ```json blocks of the document whose top-level object has an
"$id" (tessera:object/..., tessera:command/...). In a temporary directory the test drives
every command of the tool with --json on real state - images made with `image init`, keys
made with openssl, installation files, the issuance application, groups compiled, loaded and
run, a card served by tessera-card on a unix socket - for successes, card refusals, other
failures and usage errors, and checks for each run that:

  * stdout is valid UTF-8 and exactly one JSON document, an object;
  * it is valid under the command's schema (a failure that names no command: under
    tessera:object/failure);
  * the exit status is 0 when "ok" is true, and the one the error's "code" documents
    (usage 2, partial 3, every other code 1) when it is false;
  * where the case knows what must happen, that it did: success, or a failure of that code.

It prints one line per case and a summary line, and exits 0 only when every case passed.
Nothing in it waits for time to pass: a served card is awaited through its --ready-fd.
Python 3 with jsonschema (Debian's python3-jsonschema 4.10 or later) and openssl are needed.
"""

import argparse
import fcntl
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

try:
    import jsonschema
    from jsonschema import Draft202012Validator
except ImportError:  # pragma: no cover - the environment's problem, said plainly
    print("json_schema_test: python3-jsonschema is needed (apt-get install python3-jsonschema)")
    sys.exit(1)

# The exit status of each error code (docs/cli-json.md §1.1).
EXIT = {"usage": 2, "card": 1, "link": 1, "file": 1, "damaged": 1, "partial": 3, "failed": 1}
OK = "ok"  # a case's expectation: success

PURSE = "F05445535345524150"
DEMO = "F05445535345524110"
STORE = "F0544553534552412001"
PURSE2 = "F0544553534552412002"


# --------------------------------------------------------------------------------------------
# The schemas

def load_schemas(doc_path):
    text = Path(doc_path).read_text(encoding="utf-8")
    blocks = re.findall(r"^```json[ \t]*\n(.*?)^```[ \t]*$", text, flags=re.M | re.S)
    store = {}
    for i, block in enumerate(blocks, 1):
        try:
            schema = json.loads(block)
        except json.JSONDecodeError as e:
            raise SystemExit(f"{doc_path}: json block {i} is not JSON: {e}")
        sid = schema.get("$id") if isinstance(schema, dict) else None
        if not sid or not sid.startswith("tessera:"):
            continue
        if sid in store:
            raise SystemExit(f"{doc_path}: $id {sid} is defined twice")
        store[sid] = schema
    if not store:
        raise SystemExit(f"{doc_path}: no schema with a tessera: $id found")
    for sid, schema in store.items():
        Draft202012Validator.check_schema(schema)
        for ref in refs_of(schema):
            target = ref.split("#", 1)[0]
            if target not in store:
                raise SystemExit(f"{doc_path}: {sid} refers to {ref}, which no schema defines "
                                 "(references must be absolute: tessera:object/...)")
    return store


def refs_of(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield v
            else:
                yield from refs_of(v)
    elif isinstance(node, list):
        for v in node:
            yield from refs_of(v)


class Schemas:
    """One validator per $id, with every schema of the document resolvable by its $id: through
    the referencing registry where jsonschema has one (4.18 and later), else RefResolver."""

    def __init__(self, store, resolver="auto"):
        self.store = store
        self.validators = {}
        self.registry = None
        if resolver in ("auto", "registry"):
            try:
                from referencing import Registry, Resource
                from referencing.jsonschema import DRAFT202012
                self.registry = Registry().with_resources(
                    (sid, Resource.from_contents(s, default_specification=DRAFT202012))
                    for sid, s in store.items())
            except ImportError:
                if resolver == "registry":
                    raise
        for sid in store:
            self.validators[sid] = self._make(store[sid])

    def _make(self, schema):
        if self.registry is not None:
            return Draft202012Validator(schema, registry=self.registry)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            resolver = jsonschema.RefResolver.from_schema(schema, store=dict(self.store))
            return Draft202012Validator(schema, resolver=resolver)

    def errors(self, sid, instance):
        v = self.validators.get(sid)
        if v is None:
            return [f"no schema {sid} in the document"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            errs = list(v.iter_errors(instance))
            if not errs:
                return []
            best = jsonschema.exceptions.best_match(errs)
            return [describe(best)]


def describe(err):
    # Under anyOf (success or failure), the branch with the fewest errors says most.
    while err.context:
        branches = {}
        for e in err.context:
            branches.setdefault(e.relative_schema_path[0] if e.relative_schema_path else 0,
                                []).append(e)
        fewest = min(branches.values(), key=len)
        err = jsonschema.exceptions.best_match(fewest) or fewest[0]
    path = "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)
    msg = err.message
    if len(msg) > 300:
        msg = msg[:300] + "..."
    return f"at {path or '(top)'}: {msg}"


# --------------------------------------------------------------------------------------------
# Running the tool

class Runner:
    def __init__(self, tessera, schemas, work, verbose=False):
        self.tessera = tessera
        self.schemas = schemas
        self.work = work
        self.verbose = verbose
        self.passed = 0
        self.failed = 0
        self.names = set()

    def case(self, name, args, schema, expect=None, stdin=None, cwd=None, also=None):
        """Runs `tessera ARGS` (--json is in ARGS), checks its output against SCHEMA and, when
        EXPECT is given, that it succeeded (OK) or failed with that code (or one of a set).
        ALSO(doc) may return a list of further problems."""
        assert name not in self.names, name
        self.names.add(name)
        argv = [self.tessera] + [os.fsencode(a) if isinstance(a, (str, bytes)) else str(a)
                                 for a in args]
        try:
            p = subprocess.run(argv, input=stdin.encode() if isinstance(stdin, str) else stdin,
                               stdin=None if stdin is not None else subprocess.DEVNULL,
                               capture_output=True, cwd=cwd or self.work, timeout=300)
        except subprocess.TimeoutExpired:
            return self._report(name, ["did not finish within 300 s"], None)
        problems, doc = check_output(p.stdout)
        if doc is not None:
            problems += self.schemas.errors(schema, doc)
            problems += exit_problems(doc, p.returncode)
            problems += expect_problems(doc, expect)
            if also:
                try:
                    problems += also(doc) or []
                except Exception as e:  # a field the check reads is missing: the schema says why
                    problems.append(f"check failed: {type(e).__name__}: {e}")
        elif expect is not None and expect != OK:
            want = expect if isinstance(expect, str) else sorted(expect)[0]
            if p.returncode != EXIT.get(want, 1):
                problems.append(f"exit {p.returncode}")
        return self._report(name, problems, p)

    def _report(self, name, problems, p):
        if problems:
            self.failed += 1
            rc = "" if p is None else f" (exit {p.returncode})"
            print(f"FAIL  {name}{rc}: " + "; ".join(problems))
            if self.verbose and p is not None:
                print("      stdout: " + p.stdout.decode("utf-8", "replace")[:800].rstrip())
                print("      stderr: " + p.stderr.decode("utf-8", "replace")[:400].rstrip())
        else:
            self.passed += 1
            print(f"PASS  {name}")
        return p


def check_output(raw):
    """Returns (problems, the parsed document or None)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return [f"stdout is not valid UTF-8 ({e})"], None
    if not text.strip():
        return ["nothing on stdout"], None
    dec = json.JSONDecoder()
    start = len(text) - len(text.lstrip())
    try:
        doc, end = dec.raw_decode(text, start)
    except json.JSONDecodeError as e:
        return [f"stdout is not JSON ({e.msg} at {e.pos}: {text[:80]!r})"], None
    rest = text[end:]
    problems = []
    if rest.strip():
        n = 1
        i = end
        while rest.strip():
            try:
                _, i = dec.raw_decode(text, len(text) - len(text[i:].lstrip()))
                n += 1
                rest = text[i:]
            except json.JSONDecodeError:
                problems.append("text after the JSON document")
                break
        if n > 1:
            problems.append(f"{n} JSON documents on stdout, not one")
    if not isinstance(doc, dict):
        problems.append(f"the document is a JSON {type(doc).__name__}, not an object")
    return problems, doc


def exit_problems(doc, rc):
    if not isinstance(doc, dict) or not isinstance(doc.get("ok"), bool):
        return []  # the schema says what is wrong
    if doc["ok"]:
        return [] if rc == 0 else [f"ok is true but the exit status is {rc}"]
    err = doc.get("error")
    code = err.get("code") if isinstance(err, dict) else None
    if code not in EXIT:
        return [] if rc != 0 else ["ok is false but the exit status is 0"]
    if EXIT[code] != rc:
        return [f"error code {code!r} documents exit {EXIT[code]}, the exit status is {rc}"]
    return []


def expect_problems(doc, expect):
    if expect is None or not isinstance(doc, dict):
        return []
    if expect == OK:
        return [] if doc.get("ok") is True else ["expected a success"]
    want = {expect} if isinstance(expect, str) else set(expect)
    if doc.get("ok") is not False:
        return [f"expected a failure ({'/'.join(sorted(want))})"]
    err = doc.get("error")
    code = err.get("code") if isinstance(err, dict) else None
    if code not in want:
        return [f"expected error code {'/'.join(sorted(want))}, got {code!r}"]
    return []


def sw_is(sw):
    """ALSO check: the error's status word."""
    def check(doc):
        err = doc.get("error")
        got = err.get("sw") if isinstance(err, dict) else None
        return [] if got == sw else [f"expected error.sw {sw}, got {got!r}"]
    return check


# --------------------------------------------------------------------------------------------
# State the cases need, made without the tool's JSON

def openssl_key(path):
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-out", str(path)],
                   check=True, capture_output=True)


def openssl_pub(key, path):
    subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout", "-out", str(path)],
                   check=True, capture_output=True)


def poke(path, offset, data):
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def quiet(tessera, *args, cwd):
    """Runs the tool for setup only (its output is not what is tested here)."""
    return subprocess.run([tessera] + [os.fsencode(a) if isinstance(a, (str, bytes)) else str(a)
                                       for a in args],
                          stdin=subprocess.DEVNULL, capture_output=True, cwd=cwd, timeout=300)


def root_area_offset(tessera, img, cwd):
    """The file offset of an image's root area: from `image show --json` where it can be read,
    else the value for a 256K image of 64-byte pages."""
    p = quiet(tessera, "image", "show", img, "--json", cwd=cwd)
    try:
        d = json.loads(p.stdout.decode("utf-8"))
        return d["layout"]["nvm_file_offset"] + d["layout"]["root_offset"]
    except (ValueError, KeyError, TypeError):
        return 4096 + 21248


class ServedCard:
    """tessera-card --listen unix:SOCK, awaited through --ready-fd (no timing involved)."""

    def __init__(self, card_bin, image, sock, cwd):
        r, w = os.pipe()
        self.proc = subprocess.Popen([card_bin, "--image", str(image), "--listen", f"unix:{sock}",
                                      "--ready-fd", str(w)],
                                     pass_fds=[w], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd)
        os.close(w)
        got = b""
        self.ready = False
        try:
            while b"\n" not in got:
                # A guard against a card that hangs, not a wait for time to pass.
                readable, _, _ = select.select([r], [], [], 120)
                if not readable:
                    break
                chunk = os.read(r, 256)
                if not chunk:
                    break
                got += chunk
            self.ready = got.startswith(b"ready")
        finally:
            os.close(r)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stderr:
            self.proc.stderr.close()


# --------------------------------------------------------------------------------------------
# The cases

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tessera", required=True)
    ap.add_argument("--tessera-card", required=True)
    ap.add_argument("--docs", required=True, help="docs/cli-json.md")
    ap.add_argument("--profiles", help="the profiles/ folder (default: beside docs/)")
    ap.add_argument("--resolver", choices=["auto", "registry", "refresolver"], default="auto",
                    help=argparse.SUPPRESS)
    ap.add_argument("-v", "--verbose", action="store_true", help="show stdout of failed cases")
    a = ap.parse_args()

    tessera = os.path.abspath(a.tessera)
    card_bin = os.path.abspath(a.tessera_card)
    store = load_schemas(a.docs)
    schemas = Schemas(store, a.resolver)
    profiles = Path(a.profiles) if a.profiles else Path(a.docs).resolve().parent.parent / "profiles"
    emoney = profiles / "emoney.group"
    if not emoney.is_file():
        raise SystemExit(f"json_schema_test: {emoney} not found (give --profiles)")
    if shutil.which("openssl") is None:
        raise SystemExit("json_schema_test: openssl is needed")
    print(f"{len(store)} schemas from {a.docs}")

    with tempfile.TemporaryDirectory(prefix="tessera-json-") as tmp:
        served = None
        holder = None
        try:
            w = Path(tmp)
            r = Runner(tessera, schemas, tmp, a.verbose)
            served, holder = run_cases(r, tessera, card_bin, w, emoney)
        finally:
            if served is not None:
                served.stop()
            if holder is not None:
                holder.close()
    total = r.passed + r.failed
    print(f"{total} cases: {r.passed} passed, {r.failed} failed")
    print(f"{r.passed} passed, {r.failed} failed")
    return 0 if r.failed == 0 else 1


def run_cases(r, T, card_bin, w, emoney):
    C = r.case
    served = None
    holder = None

    # --- files the cases use ---------------------------------------------------------------
    for k in ("admin", "other"):
        openssl_key(w / f"{k}.pem")
    openssl_pub(w / "admin.pem", w / "admin.pub.pem")
    (w / "acme.keys").write_text("enc=00112233445566778899AABBCCDDEEFF\n"
                                 "mac=0123456789ABCDEF0123456789ABCDEF\n"
                                 "dek=FEDCBA9876543210FEDCBA9876543210\n")
    (w / "own.keys").write_text("enc=000102030405060708090A0B0C0D0E0F\n"
                                "mac=101112131415161718191A1B1C1D1E1F\n"
                                "dek=202122232425262728292A2B2C2D2E2F\n")
    (w / "store.toml").write_text(
        'aid = "F0544553534552412001"\nname = "Störe"\nadmin_name = "ACME"\nadmin_id = 1\n'
        'use_start = "260101"\nexpiration = 2030-12-31\nmodule = "data-store"\n'
        'privileges = "000000"\n[params]\npin = "8642"\ntries = 3\ndata = "hello"\n',
        encoding="utf-8")
    (w / "purse.json").write_text(
        '{"aid": "F0544553534552412002", "name": "Purse", "admin_name": "ACME", "admin_id": 1,'
        ' "module": "F0544553534552414D02", "status": "locked",'
        ' "params": {"balance": 100, "limit": 5000}}')
    (w / "bad.toml").write_text('aid = "F0XX"\n')
    (w / "bad.pem").write_text("garbage\n")
    (w / "bad.group").write_text("00A40400\n00A4 040 0\nzz\n")
    (w / "plain.group").write_text("00A4040008A000000151000000\n")
    (w / "credit.group").write_text(f"00A4040009{PURSE} harmless\n8052000004 00000005\n")
    (w / "fail.group").write_text(f"00A4040009{PURSE} harmless\n8052000004 00000001\n"
                                  "00A4040005A000000999\n8052000004 00000001\n")
    (w / "batchfail.group").write_text(emoney.read_text() + "80CA00FF00\n")
    (w / "s.txt").write_text("# comment\n00A4000C023F00\nreset\n00A4000C022F01\n00B0000007\n")
    (w / "bad.script").write_text("00A4000C023F00\nzz 00\n00B0000007\n")
    (w / "scripts").mkdir()
    (w / "foreign.img").write_text("just some text\n")

    img = "a.img"        # image commands
    small = "small.img"  # 256K, damaged copies made from it
    blank = "blank.img"
    card = "card.img"    # apps, admin, card
    iss = "issue.img"    # issue
    wg = "wg.img"        # image write-group
    dev = "dev.img"      # apdu, script
    own = "own.img"      # a card with its own keys
    sock_img = "served.img"

    # --- global ----------------------------------------------------------------------------
    C("tessera --json (no command)", ["--json"], "tessera:object/failure", "usage")
    C("tessera --json frobnicate", ["--json", "frobnicate"], "tessera:object/failure", "usage")
    C("tessera --json --bogus apdu", ["--json", "--bogus", "apdu", "00A4000C023F00"],
      "tessera:object/failure", "usage")
    C("tessera --json --version", ["--json", "--version"], "tessera:command/version", OK)

    # --- image -----------------------------------------------------------------------------
    C("image init", ["image", "init", img, "--json"], "tessera:command/image-init", OK)
    C("image init 256K, 4K journal", ["image", "init", small, "--size", "256K", "--journal", "4K",
                                     "--json"], "tessera:command/image-init", OK)
    C("image init --blank", ["image", "init", blank, "--blank", "--size", "64K", "--json"],
      "tessera:command/image-init", OK)
    C("image init --scp03-keys --serial --min-security-level",
      ["--json", "image", "init", own, "--scp03-keys", "own.keys", "--serial", "00000000000000AB",
       "--min-security-level", "33"], "tessera:command/image-init", OK)
    C("image init: the file exists", ["image", "init", img, "--json"],
      "tessera:command/image-init", "file")
    C("image init --force", ["image", "init", img, "--force", "--json"],
      "tessera:command/image-init", OK)
    C("image init: --size banana (usage)", ["image", "init", "x.img", "--size", "banana", "--json"],
      "tessera:command/image-init", "usage")
    C("image init: no PATH (usage)", ["image", "init", "--json"], "tessera:command/image-init",
      "usage")
    C("image init: --min-security-level 02 (usage)",
      ["image", "init", "x.img", "--min-security-level", "02", "--json"],
      "tessera:command/image-init", "usage")
    C("image init: page size 48", ["image", "init", "x.img", "--page-size", "48", "--json"],
      "tessera:command/image-init", "failed")
    C("image frobnicate (usage)", ["image", "frobnicate", "--json"], "tessera:object/failure",
      "usage")

    C("image show", ["image", "show", img, "--json"], "tessera:command/image-show", OK)
    C("tessera --json image show", ["--json", "image", "show", img], "tessera:command/image-show",
      OK)
    C("image show of a blank store", ["image", "show", blank, "--json"],
      "tessera:command/image-show", OK)
    C("image show: missing file", ["image", "show", "missing.img", "--json"],
      "tessera:command/image-show", "file")
    C("image show: not an image", ["image", "show", "foreign.img", "--json"],
      "tessera:command/image-show", "file")
    C("image show: no PATH (usage)", ["image", "show", "--json"], "tessera:command/image-show",
      "usage")
    odd = b"card-\xff\xfe.img"
    quiet(T, "image", "init", odd, "--size", "256K", cwd=w)
    C("image show: a path that is not UTF-8", ["image", "show", odd, "--json"],
      "tessera:command/image-show", OK,
      also=lambda d: [] if "\ufffd" in d.get("path", "") else ["path without U+FFFD"])
    C("image show: a missing path that is not UTF-8", ["image", "show", b"missing-\xff.img",
                                                       "--json"],
      "tessera:command/image-show", "file")

    dmg = "damaged.img"
    shutil.copy(w / small, w / dmg)
    poke(w / dmg, os.path.getsize(w / dmg) - 20000, b"\xAB")  # a free block holding data
    C("image show of a damaged image: a success that lists it", ["image", "show", dmg, "--json"],
      "tessera:command/image-show", OK,
      also=lambda d: [] if d.get("errors") else ["no errors listed"])
    C("image check", ["image", "check", img, "--json"], "tessera:command/image-check", OK)
    C("image check of a blank store", ["image", "check", blank, "--json"],
      "tessera:command/image-check", OK)
    C("image check: damaged", ["image", "check", dmg, "--json"], "tessera:command/image-check",
      "damaged")
    trunc = "truncated.img"
    shutil.copy(w / small, w / trunc)
    os.truncate(w / trunc, 100000)
    C("image check: truncated", ["image", "check", trunc, "--json"],
      "tessera:command/image-check", "file")
    C("image check: missing", ["image", "check", "missing.img", "--json"],
      "tessera:command/image-check", "file")
    rootdmg = "root-damaged.img"
    shutil.copy(w / small, w / rootdmg)
    poke(w / rootdmg, root_area_offset(T, small, w), b"\x58")  # the root record's magic
    C("image show: a root record the card cannot power on", ["image", "show", rootdmg, "--json"],
      "tessera:command/image-show", OK)
    C("image check: a root record the card cannot power on", ["image", "check", rootdmg, "--json"],
      "tessera:command/image-check", "damaged")

    C("image ls", ["image", "ls", img, "--json"], "tessera:command/image-ls", OK)
    C("tessera --json image ls", ["--json", "image", "ls", small], "tessera:command/image-ls", OK)
    C("image ls: damaged", ["image", "ls", dmg, "--json"], "tessera:command/image-ls", "damaged")
    C("image ls: a blank store", ["image", "ls", blank, "--json"], "tessera:command/image-ls",
      "file")
    C("image ls: missing", ["image", "ls", "missing.img", "--json"], "tessera:command/image-ls",
      "file")

    # An image a running card holds (its lock, as tessera-card holds it).
    locked = "locked.img"
    shutil.copy(w / small, w / locked)
    holder = open(w / locked, "rb")
    fcntl.flock(holder, fcntl.LOCK_EX)
    C("image show of a served image", ["image", "show", locked, "--json"],
      "tessera:command/image-show", OK,
      also=lambda d: [] if d.get("served") is True else ["served is not true"])
    C("image ls of a served image", ["image", "ls", locked, "--json"], "tessera:command/image-ls",
      OK)
    C("image init --force of a served image", ["image", "init", locked, "--force", "--json"],
      "tessera:command/image-init", "file")
    C("apdu on an image a running card holds", ["--json", "--image", locked, "apdu",
                                                "00A4000C023F00"], "tessera:command/apdu", "link")
    C("apps list on an image a running card holds", ["--json", "--image", locked, "apps", "list"],
      "tessera:command/apps-list", "link")
    holder.close()
    holder = None

    # image write-group: the memory path.
    quiet(T, "image", "init", wg, cwd=w)
    C("issue compile -o (for write-group)", ["issue", "compile", str(emoney), "-o", "emoney.bin",
                                             "--json"], "tessera:command/issue-compile", OK)
    C("image write-group: no issuance application (card 6A82)",
      ["image", "write-group", wg, str(emoney), "--function", "1", "--target", PURSE, "--json"],
      "tessera:command/image-write-group", "card", also=sw_is("6A82"))
    C("image write-group --install-app", ["image", "write-group", wg, str(emoney), "--function",
                                          "1", "--target", PURSE, "--install-app", "--json"],
      "tessera:command/image-write-group", OK)
    C("image write-group of a compiled group", ["image", "write-group", wg, "emoney.bin",
                                                "--function", "4", "--json"],
      "tessera:command/image-write-group", OK)
    C("image write-group: a bad group", ["image", "write-group", wg, "bad.group", "--function", "5",
                                         "--json"], "tessera:command/image-write-group", "file")
    C("image write-group: no --function (usage)", ["image", "write-group", wg, "emoney.bin",
                                                   "--json"],
      "tessera:command/image-write-group", "usage")
    C("image write-group: missing image", ["image", "write-group", "missing.img", "emoney.bin",
                                           "--function", "2", "--json"],
      "tessera:command/image-write-group", "file")

    # --- apps make-install-file ------------------------------------------------------------
    C("apps make-install-file (TOML, a PIN: no hex)",
      ["apps", "make-install-file", "store.toml", "--key", "admin.pem", "-o", "s.bin", "--json"],
      "tessera:command/apps-make-install-file", OK)
    C("apps make-install-file (JSON, hex)",
      ["--json", "apps", "make-install-file", "purse.json", "--key", "admin.pem", "-o", "p.bin"],
      "tessera:command/apps-make-install-file", OK)
    C("apps make-install-file --unsigned",
      ["apps", "make-install-file", "purse.json", "--unsigned", "-o", "pu.bin", "--json"],
      "tessera:command/apps-make-install-file", OK)
    C("apps make-install-file: a bad field", ["apps", "make-install-file", "bad.toml", "--key",
                                              "admin.pem", "-o", "bad.bin", "--json"],
      "tessera:command/apps-make-install-file", "file")
    C("apps make-install-file: a missing key", ["apps", "make-install-file", "store.toml", "--key",
                                                "missing.pem", "-o", "x.bin", "--json"],
      "tessera:command/apps-make-install-file", "file")
    C("apps make-install-file: no --key (usage)", ["apps", "make-install-file", "store.toml", "-o",
                                                   "x.bin", "--json"],
      "tessera:command/apps-make-install-file", "usage")
    C("apps make-install-file: --bogus (usage)", ["apps", "make-install-file", "store.toml", "--key",
                                                  "admin.pem", "-o", "x.bin", "--bogus", "--json"],
      "tessera:command/apps-make-install-file", "usage")

    # --- admin, apps, card on one card -----------------------------------------------------
    quiet(T, "image", "init", card, cwd=w)
    K = ["--json", "--image", card]
    S = K + ["--scp03", "test"]
    C("admin list (none)", K + ["admin", "list"], "tessera:command/admin-list", OK)
    C("admin add with a key set", S + ["admin", "add", "--id", "1", "--name", "ACME",
                                       "--public-key", "admin.pub.pem", "--keys", "acme.keys",
                                       "--key-kvn", "41"], "tessera:command/admin-add", OK)
    C("admin add: the id exists (card 6A89)", S + ["admin", "add", "--id", "1", "--name", "ACME2",
                                                   "--public-key", "other.pem"],
      "tessera:command/admin-add", "card", also=sw_is("6A89"))
    C("admin add: the issuer's signing key", S + ["admin", "add", "--id", "0", "--name", "ISSUER",
                                                  "--public-key", "other.pem"],
      "tessera:command/admin-add", OK)
    C("admin add: a bad PEM", S + ["admin", "add", "--id", "5", "--name", "X", "--public-key",
                                   "bad.pem"], "tessera:command/admin-add", "file")
    C("admin add: no --scp03 (usage)", K + ["admin", "add", "--id", "2", "--name", "X",
                                            "--public-key", "other.pem"],
      "tessera:command/admin-add", "usage")
    C("admin add: no --name (usage)", S + ["admin", "add", "--id", "5"],
      "tessera:command/admin-add", "usage")
    C("admin add: --id 200 (usage)", S + ["admin", "add", "--id", "200", "--name", "X",
                                          "--public-key", "other.pem"],
      "tessera:command/admin-add", "usage")
    C("admin list", K + ["admin", "list"], "tessera:command/admin-list", OK)
    C("admin frobnicate (usage)", K + ["admin", "frobnicate"], "tessera:object/failure", "usage")
    C("admin list: missing image", ["--json", "--image", "missing.img", "admin", "list"],
      "tessera:command/admin-list", "link")

    C("apps list", K + ["apps", "list"], "tessera:command/apps-list", OK)
    C("apps install", S + ["apps", "install", "s.bin"], "tessera:command/apps-install", OK)
    C("apps install: exists (card 6A89)", S + ["apps", "install", "s.bin"],
      "tessera:command/apps-install", "card", also=sw_is("6A89"))
    C("apps install: unsigned (card 6982)", S + ["apps", "install", "pu.bin"],
      "tessera:command/apps-install", "card", also=sw_is("6982"))
    C("apps install: a locked purse", S + ["apps", "install", "p.bin"],
      "tessera:command/apps-install", OK)
    C("apps install: a missing file", S + ["apps", "install", "missing.bin"],
      "tessera:command/apps-install", "file")
    C("apps install: no --scp03 (usage)", K + ["apps", "install", "p.bin"],
      "tessera:command/apps-install", "usage")
    C("apps list --scp03 (GP life cycles)", S + ["apps", "list"], "tessera:command/apps-list", OK)
    C("apps list: no card (usage)", ["--json", "apps", "list"], "tessera:command/apps-list",
      "usage")
    C("apps list: missing image", ["--json", "--image", "missing.img", "apps", "list"],
      "tessera:command/apps-list", "link")
    C("apps list: a blank store as the card", ["--json", "--image", blank, "apps", "list"],
      "tessera:command/apps-list", "link")
    C("apps list --kvn 77 (card: INITIALIZE UPDATE 6A88)", S + ["--kvn", "77", "apps", "list"],
      "tessera:command/apps-list", "card", also=sw_is("6A88"))

    C("apps set-status lock", S + ["apps", "set-status", STORE, "lock"],
      "tessera:command/apps-set-status", OK)
    C("apps set-status lock again (unchanged)", S + ["apps", "set-status", STORE, "lock"],
      "tessera:command/apps-set-status", OK)
    C("apps set-status restore of one not erased", S + ["apps", "set-status", STORE, "restore"],
      "tessera:command/apps-set-status", "failed")
    C("apps set-status unlock --gp", S + ["apps", "set-status", STORE, "unlock", "--gp"],
      "tessera:command/apps-set-status", OK)
    C("apps set-status erase", S + ["apps", "set-status", STORE, "erase"],
      "tessera:command/apps-set-status", OK)
    C("apps list --scp03 with an erased application", S + ["apps", "list"],
      "tessera:command/apps-list", OK)
    C("apps set-status restore --restore-to locked", S + ["apps", "set-status", STORE, "restore",
                                                          "--restore-to", "locked"],
      "tessera:command/apps-set-status", OK)
    C("apps set-status unlock with the administrator's key set",
      K + ["--scp03", "acme.keys", "--kvn", "41", "apps", "set-status", STORE, "unlock"],
      "tessera:command/apps-set-status", OK)
    C("apps set-status lock --sign-key", S + ["apps", "set-status", STORE, "lock", "--sign-key",
                                              "admin.pem"], "tessera:command/apps-set-status", OK)
    C("apps set-status: another administrator's record (card 6982)",
      K + ["--scp03", "acme.keys", "--kvn", "41", "apps", "set-status", DEMO, "lock"],
      "tessera:command/apps-set-status", "card", also=sw_is("6982"))
    C("apps set-status: not in the list", S + ["apps", "set-status", "F0544553534552419999",
                                               "lock"], "tessera:command/apps-set-status", "failed")
    C("apps set-status: ACTION frob (usage)", S + ["apps", "set-status", STORE, "frob"],
      "tessera:command/apps-set-status", "usage")
    C("apps set-status terminate --gp (usage)", S + ["apps", "set-status", STORE, "terminate",
                                                     "--gp"],
      "tessera:command/apps-set-status", "usage")
    C("apps set-status: no --scp03 (usage)", K + ["apps", "set-status", STORE, "lock"],
      "tessera:command/apps-set-status", "usage")

    C("card date (none)", K + ["card", "date"], "tessera:command/card-date", OK)
    C("card set-date", S + ["card", "set-date", "260115"], "tessera:command/card-set-date", OK)
    C("card date", K + ["card", "date"], "tessera:command/card-date", OK,
      also=lambda d: [] if d.get("date") == "260115" else [f"date {d.get('date')!r}"])
    C("card set-date backwards (card 6985)", S + ["card", "set-date", "251231"],
      "tessera:command/card-set-date", "card", also=sw_is("6985"))
    C("apps set-date", S + ["apps", "set-date", "260120"], "tessera:command/apps-set-date", OK)
    C("card set-date: not a date (usage)", S + ["card", "set-date", "26011"],
      "tessera:command/card-set-date", "usage")
    C("card set-date: no --scp03 (usage)", K + ["card", "set-date", "260130"],
      "tessera:command/card-set-date", "usage")
    C("card frobnicate (usage)", K + ["card", "frobnicate"], "tessera:object/failure", "usage")
    C("card date: missing image", ["--json", "--image", "missing.img", "card", "date"],
      "tessera:command/card-date", "link")

    C("apps delete: no --yes and no terminal (usage)", S + ["apps", "delete", STORE],
      "tessera:command/apps-delete", "usage")
    C("apps delete --yes", S + ["apps", "delete", STORE, "--yes"], "tessera:command/apps-delete", OK)
    C("apps delete: not in the list", S + ["apps", "delete", STORE, "--yes"],
      "tessera:command/apps-delete", "failed")
    C("apps delete --gp", S + ["apps", "delete", PURSE2, "--yes", "--gp"],
      "tessera:command/apps-delete", OK)
    C("apps delete --gp: gone (card 6A88)", S + ["apps", "delete", PURSE2, "--yes", "--gp"],
      "tessera:command/apps-delete", "card", also=sw_is("6A88"))
    C("apps delete: no --scp03 (usage)", K + ["apps", "delete", PURSE2, "--yes"],
      "tessera:command/apps-delete", "usage")
    C("apps frobnicate (usage)", K + ["apps", "frobnicate"], "tessera:object/failure", "usage")

    # --- applets: an installation file with code, and packages (docs/applets.md) -----------
    (w / "counter.lua").write_text(
        "return {process = function() n = (n or 0) + 1 return tostring(n) end}\n")
    (w / "applet.toml").write_text(
        'aid = "F0000000AA10"\nname = "COUNTER"\nadmin_name = "ACME"\nadmin_id = 1\n'
        '[applet]\npackage = "F0000000AA"\nmodule = "F0000000AA01"\nsource = "counter.lua"\n'
        'instructions = 100000\n')
    (w / "pkg.toml").write_text(
        'package = "F0000000BB"\nversion = "1.2"\n'
        '[modules.COUNTER]\naid = "F0000000BB01"\nsource = "counter.lua"\n')
    (w / "badpkg.toml").write_text(
        'package = "F0000000BC"\n[modules.X]\naid = "F0000000BC01"\nsource = "missing.lua"\n')
    C("apps make-install-file of an applet", ["apps", "make-install-file", "applet.toml", "--key",
                                              "admin.pem", "-o", "applet.bin", "--json"],
      "tessera:command/apps-make-install-file", OK,
      also=lambda d: [] if d.get("applet", {}).get("package") == "F0000000AA" else ["no applet"])
    C("apps install of an applet", S + ["apps", "install", "applet.bin"],
      "tessera:command/apps-install", OK)
    C("apps load", S + ["apps", "load", "pkg.toml"], "tessera:command/apps-load", OK)
    C("apps load: loaded already (card 6A89)", S + ["apps", "load", "pkg.toml"],
      "tessera:command/apps-load", "card", also=sw_is("6A89"))
    C("apps load: a source that is not there", S + ["apps", "load", "badpkg.toml"],
      "tessera:command/apps-load", "file")
    C("apps load: no --scp03 (usage)", K + ["apps", "load", "pkg.toml"],
      "tessera:command/apps-load", "usage")
    C("apps packages", S + ["apps", "packages"], "tessera:command/apps-packages", OK,
      also=lambda d: [] if any(p["aid"] == "F0000000BB" for p in d.get("packages", []))
      else ["the package is not listed"])
    C("apps list with a package", S + ["apps", "list"], "tessera:command/apps-list", OK,
      also=lambda d: [] if [p["aid"] for p in d.get("packages", [])] == ["F0000000BB"]
      else [f"packages {d.get('packages')!r}"])
    C("apps create", S + ["apps", "create", "F0000000BB10", "F0000000BB", "F0000000BB01",
                          "--instructions", "50000"], "tessera:command/apps-create", OK)
    C("apps create: no such module (card 6A88)",
      S + ["apps", "create", "F0000000BB11", "F0000000BB", "F0000000BB09"],
      "tessera:command/apps-create", "card", also=sw_is("6A88"))
    C("apps create: a limit out of range (usage)",
      S + ["apps", "create", "F0000000BB11", "F0000000BB", "F0000000BB01", "--heap", "1"],
      "tessera:command/apps-create", "usage")
    C("apps delete-package: instances exist (card 6985)",
      S + ["apps", "delete-package", "F0000000BB", "--yes"],
      "tessera:command/apps-delete-package", "card", also=sw_is("6985"))
    C("apps delete-package --with-instances",
      S + ["apps", "delete-package", "F0000000BB", "--with-instances", "--yes"],
      "tessera:command/apps-delete-package", OK)
    C("apps delete-package: no terminal (usage)", S + ["apps", "delete-package", "F0000000BB"],
      "tessera:command/apps-delete-package", "usage")
    C("apps try", S + ["apps", "try", "applet.toml", "--key", "admin.pem"],
      "tessera:command/apps-try", OK,
      also=lambda d: [] if d.get("replaced") is True else ["the installed applet was not replaced"])
    C("apps try: --json with --script (usage)",
      S + ["apps", "try", "applet.toml", "--key", "admin.pem", "--script", "x.apdu"],
      "tessera:command/apps-try", "usage")
    C("apps try: a missing key", S + ["apps", "try", "applet.toml", "--key", "missing.pem"],
      "tessera:command/apps-try", "file")

    # --- issue -----------------------------------------------------------------------------
    C("issue compile", ["issue", "compile", str(emoney), "--json"],
      "tessera:command/issue-compile", OK)
    C("issue compile - (standard input)", ["--json", "issue", "compile", "-"],
      "tessera:command/issue-compile", OK, stdin=emoney.read_text())
    C("issue compile: a bad group (FILE:LINE)", ["issue", "compile", "bad.group", "--json"],
      "tessera:command/issue-compile", "file")
    C("issue compile: a missing group", ["issue", "compile", "missing.group", "--json"],
      "tessera:command/issue-compile", "file")
    C("issue compile: no GROUP (usage)", ["issue", "compile", "--json"],
      "tessera:command/issue-compile", "usage")
    C("issue frobnicate (usage)", ["--json", "issue", "frobnicate"], "tessera:object/failure",
      "usage")

    quiet(T, "image", "init", iss, cwd=w)
    I = ["--json", "--image", iss]
    IS = I + ["--scp03", "test"]
    C("issue install-app: no --scp03 (usage)", I + ["issue", "install-app"],
      "tessera:command/issue-install-app", "usage")
    C("issue install-app", IS + ["issue", "install-app"], "tessera:command/issue-install-app", OK)
    C("issue install-app again (already installed)", IS + ["issue", "install-app"],
      "tessera:command/issue-install-app", OK)
    C("issue load-group", IS + ["issue", "load-group", str(emoney), "--function", "1", "--target",
                                PURSE], "tessera:command/issue-load-group", OK)
    C("issue load-group: a bad group", IS + ["issue", "load-group", "bad.group", "--function", "2"],
      "tessera:command/issue-load-group", "file")
    C("issue load-group: no --function (usage)", IS + ["issue", "load-group", str(emoney)],
      "tessera:command/issue-load-group", "usage")
    C("issue load-group: --function 300 (usage)", IS + ["issue", "load-group", "plain.group",
                                                        "--function", "300"],
      "tessera:command/issue-load-group", "usage")
    C("issue load-group: a function without a target", IS + ["issue", "load-group", "plain.group",
                                                             "--function", "7"],
      "tessera:command/issue-load-group", OK)
    C("issue status (idle)", I + ["issue", "status", "--function", "1"],
      "tessera:command/issue-status", OK)
    C("issue status --scp03 (the table record)", IS + ["issue", "status", "--function", "7"],
      "tessera:command/issue-status", OK)
    C("issue status: no such function (card 6A88)", I + ["issue", "status", "--function", "9"],
      "tessera:command/issue-status", "card", also=sw_is("6A88"))
    C("issue status: no --function (usage)", I + ["issue", "status"],
      "tessera:command/issue-status", "usage")
    C("issue run", I + ["issue", "run", "--function", "1", "--run-id", "00000000000000AA",
                        "--state", "a.state"], "tessera:command/issue-run", OK)
    C("issue run: a replay (nothing executed)", I + ["issue", "run", "--function", "1", "--run-id",
                                                     "00000000000000AA", "--state", "r.state"],
      "tessera:command/issue-run", OK)
    C("issue run: issued already", I + ["issue", "run", "--function", "1", "--state", "a.state"],
      "tessera:command/issue-run", "failed",
      also=lambda d: [] if "state" not in d or d.get("acked") is True
      else ["acked is not true for a run the card holds acknowledged"])
    C("issue status (done)", I + ["issue", "status", "--function", "1"],
      "tessera:command/issue-status", OK)
    C("issue run: no --function (usage)", I + ["issue", "run"], "tessera:command/issue-run",
      "usage")
    C("issue run: no card (usage)", ["--json", "issue", "run", "--function", "1"],
      "tessera:command/issue-run", "usage")
    C("issue run: --retries 99 (usage)", I + ["issue", "run", "--function", "1", "--retries", "99"],
      "tessera:command/issue-run", "usage")
    C("issue run: --run-id XYZ (usage)", I + ["issue", "run", "--function", "1", "--run-id", "XYZ"],
      "tessera:command/issue-run", "usage")

    quiet(T, "--image", iss, "--scp03", "test", "issue", "load-group", "credit.group",
          "--function", "2", cwd=w)
    C("issue run --no-ack", I + ["issue", "run", "--function", "2", "--state", "b.state",
                                 "--no-ack"], "tessera:command/issue-run", OK)
    C("issue run: the state file holds another unacknowledged run",
      I + ["issue", "run", "--function", "2", "--run-id", "00000000000000BB", "--state", "b.state"],
      "tessera:command/issue-run", "failed")
    C("issue run: the card's previous run is unacknowledged (card 6985)",
      I + ["issue", "run", "--function", "2", "--run-id", "00000000000000BB", "--state",
           "other.state"], "tessera:command/issue-run", "card", also=sw_is("6985"))
    C("issue ack", I + ["issue", "ack", "--function", "2", "--state", "b.state"],
      "tessera:command/issue-ack", OK)
    C("issue ack: no run (card 6985)", I + ["issue", "ack", "--function", "2", "--run-id",
                                            "00000000000000CC"],
      "tessera:command/issue-ack", "card", also=sw_is("6985"))
    C("issue ack: no run id, no state file (usage)", I + ["issue", "ack", "--function", "2"],
      "tessera:command/issue-ack", "usage")

    quiet(T, "--image", iss, "--scp03", "test", "issue", "load-group", "fail.group", "--function",
          "3", "--target", PURSE, cwd=w)
    C("issue run: a command fails (partial, exit 3)", I + ["issue", "run", "--function", "3",
                                                          "--state", "c.state"],
      "tessera:command/issue-run", "partial", also=sw_is("6A82"))
    C("issue status (partial)", I + ["issue", "status", "--function", "3"],
      "tessera:command/issue-status", OK)
    C("apps list while a target is half issued", IS + ["apps", "list"],
      "tessera:command/apps-list", OK)
    C("issue run: resumed, stops again (partial)", I + ["issue", "run", "--function", "3",
                                                       "--state", "c.state"],
      "tessera:command/issue-run", "partial")
    C("issue resume (partial)", I + ["issue", "resume", "--function", "3", "--state", "c.state"],
      "tessera:command/issue-resume", "partial")
    C("issue retry-failed (partial)", I + ["issue", "retry-failed", "--function", "3", "--state",
                                           "c.state"],
      "tessera:command/issue-retry-failed", "partial")
    C("issue ack of a partial run", I + ["issue", "ack", "--function", "3", "--state", "c.state"],
      "tessera:command/issue-ack", OK)
    C("issue resume: no unacknowledged run (card 6985)", I + ["issue", "resume", "--function", "3",
                                                              "--state", "c.state"],
      "tessera:command/issue-resume", "card", also=sw_is("6985"))
    C("issue retry-failed: no unacknowledged run (card 6985)",
      I + ["issue", "retry-failed", "--function", "3", "--run-id", "0011223344556677"],
      "tessera:command/issue-retry-failed", "card", also=sw_is("6985"))
    C("issue resume: no --function (usage)", I + ["issue", "resume", "--state", "c.state"],
      "tessera:command/issue-resume", "usage")
    # A stored command that fails until an application exists (GP INSTALL sent as an APDU):
    # retry-failed then finishes the run; a power cut in the middle of another leaves it
    # interrupted, and resume finishes that one.
    gp_install = ("80E60C00260AF0544553534552414D010AF0544553534552414D0109{aid}010002C90000")
    for fn, aid in (("5", "F05445535345524130"), ("6", "F05445535345524131")):
        (w / f"late{fn}.group").write_text(f"00A4040009{aid}\n00A4040008A000000151000000\n"
                                           f"00A4040009{PURSE} harmless\n")
        quiet(T, "--image", iss, "--scp03", "test", "issue", "load-group", f"late{fn}.group",
              "--function", fn, "--target", PURSE, cwd=w)
    C("issue run: fails until an application exists (partial)",
      I + ["issue", "run", "--function", "5", "--state", "l5.state"], "tessera:command/issue-run",
      "partial", also=sw_is("6A82"))
    quiet(T, "--image", iss, "--scp03", "test", "apdu", gp_install.format(aid="F05445535345524130"),
          cwd=w)
    C("issue retry-failed (done)", I + ["issue", "retry-failed", "--function", "5", "--state",
                                        "l5.state"], "tessera:command/issue-retry-failed", OK)
    C("issue ack of the retried run", I + ["issue", "ack", "--function", "5", "--state", "l5.state"],
      "tessera:command/issue-ack", OK)
    quiet(T, "--image", iss, "issue", "run", "--function", "6", "--state", "l6.state", cwd=w)
    quiet(T, "--image", iss, "--scp03", "test", "apdu", gp_install.format(aid="F05445535345524131"),
          cwd=w)
    cut = None  # the first page program whose loss leaves the retried run interrupted
    for n in range(0, 200):
        shutil.copy(w / iss, w / "cut.img")
        shutil.copy(w / "l6.state", w / "cut.state")
        quiet(T, "--image", "cut.img", "--power-cut-after", n, "issue", "retry-failed",
              "--function", "6", "--state", "cut.state", cwd=w)
        st = quiet(T, "--image", "cut.img", "issue", "status", "--function", "6", cwd=w)
        if re.search(rb"^state: interrupted", st.stdout, flags=re.M):
            cut = n
            break
    if cut is None:
        r._report("issue retry-failed: a power cut that leaves the run interrupted",
                  ["no page program found whose loss leaves it interrupted"], None)
    else:
        C("issue retry-failed: a power cut (link)", I + ["--power-cut-after", cut, "issue",
                                                         "retry-failed", "--function", "6",
                                                         "--state", "l6.state"],
          "tessera:command/issue-retry-failed", "link")
        C("issue resume of the interrupted run (done)", I + ["issue", "resume", "--function", "6",
                                                             "--state", "l6.state"],
          "tessera:command/issue-resume", OK)
    quiet(T, "--image", iss, "--scp03", "test", "issue", "load-group", "credit.group",
          "--function", "10", cwd=w)
    C("issue run through a power cut (reconnected, resumed)",
      I + ["--power-cut-after", "20", "issue", "run", "--function", "10", "--state", "pc.state"],
      "tessera:command/issue-run", OK)
    quiet(T, "--image", iss, "--scp03", "test", "issue", "load-group", "plain.group", "--function",
          "8", "--policy", "05", cwd=w)
    C("issue run: the policy needs the secure channel (card 6982)",
      I + ["issue", "run", "--function", "8", "--state", "p8.state"], "tessera:command/issue-run",
      "card", also=sw_is("6982"))
    C("issue run --scp03 (secure channel policy)", IS + ["issue", "run", "--function", "8",
                                                         "--state", "p8b.state"],
      "tessera:command/issue-run", OK)
    C("issue run: missing image", ["--json", "--image", "missing.img", "issue", "run",
                                   "--function", "1", "--state", "m.state"],
      "tessera:command/issue-run", "link")

    C("issue batch", ["--json", "issue", "batch", "plain.group", "--images", "batch", "--count",
                      "2"], "tessera:command/issue-batch", OK)
    C("issue batch again (already issued)", ["issue", "batch", "plain.group", "--images", "batch",
                                             "--count", "2", "--json"],
      "tessera:command/issue-batch", OK)
    C("issue batch --shard 1/2", ["issue", "batch", "plain.group", "--images", "batch2", "--count",
                                  "3", "--shard", "1/2", "--json"],
      "tessera:command/issue-batch", OK)
    C("issue batch: cards fail", ["issue", "batch", "batchfail.group", "--images", "batchf",
                                  "--count", "2", "--json"], "tessera:command/issue-batch",
      "failed")
    C("issue batch: a bad group", ["issue", "batch", "bad.group", "--images", "batchb", "--count",
                                   "1", "--json"], "tessera:command/issue-batch", "file")
    C("issue batch: no --count (usage)", ["issue", "batch", "plain.group", "--images", "batchu",
                                          "--json"], "tessera:command/issue-batch", "usage")
    C("issue batch: a card option (usage)", ["--json", "--image", "x.img", "issue", "batch",
                                             "plain.group", "--images", "batchu", "--count", "1"],
      "tessera:command/issue-batch", "usage")
    C("issue card-keys", ["issue", "card-keys", "--serial", "7", "-o", "k7", "--json"],
      "tessera:command/issue-card-keys", OK)
    C("issue card-keys: the key file exists", ["issue", "card-keys", "--serial", "7", "-o", "k7",
                                               "--json"], "tessera:command/issue-card-keys", "file")
    C("issue card-keys: a missing master key", ["issue", "card-keys", "--serial", "7",
                                                "--master-key", "missing.key", "-o", "k9",
                                                "--json"],
      "tessera:command/issue-card-keys", "file")
    C("issue card-keys: no --serial (usage)", ["issue", "card-keys", "-o", "k8", "--json"],
      "tessera:command/issue-card-keys", "usage")
    C("issue card-keys: --trace (usage)", ["--json", "--trace", "issue", "card-keys", "--serial",
                                           "1", "-o", "k10"],
      "tessera:command/issue-card-keys", "usage")

    # --- apdu, script ----------------------------------------------------------------------
    quiet(T, "image", "init", dev, cwd=w)
    D = ["--json", "--image", dev]
    C("apdu: 9000, 6A82, 63C3", D + ["apdu", "00A4000C023F00", "00A4000C02DEAD", "0020008100"],
      "tessera:command/apdu", OK)
    C("apdu: data", D + ["apdu", "00A404000E315041592E5359532E444446303100", "00B2010C00"],
      "tessera:command/apdu", OK)
    C("apdu: a PIN blocked, with its note", D + ["apdu"] + ["0020008104FFFFFFFF"] * 3 +
      ["0020008100"], "tessera:command/apdu", OK)
    C("apdu --raw", D + ["--raw", "apdu", "00B2010C00"], "tessera:command/apdu", OK)
    C("apdu --scp03", D + ["--scp03", "test", "apdu", "80CA00E000"], "tessera:command/apdu", OK)
    C("apdu --scp03: a later APDU cannot be sent (the first response kept)",
      D + ["--scp03", "test", "apdu", "80CA00E000", "00A4"], "tessera:command/apdu", "failed",
      also=lambda d: [] if len(d.get("responses", [])) == 1 else ["not the one response before"])
    C("apdu: an argument that is not hex", D + ["apdu", "0020008104FFFFFFFF", "0G"],
      "tessera:command/apdu", "failed")
    C("apdu: missing image", ["--json", "--image", "missing.img", "apdu", "00A4000C023F00"],
      "tessera:command/apdu", "link")
    C("apdu: a blank store as the card", ["--json", "--image", blank, "apdu", "00A4000C023F00"],
      "tessera:command/apdu", "link")
    C("apdu: a power cut", D + ["--power-cut-after", "0", "apdu", "00200082083837363534333231",
                                "00A4000C022F01", "00D600000548454C4C4F"],
      "tessera:command/apdu", "link")
    quiet(T, "image", "init", own, "--force", "--scp03-keys", "own.keys", cwd=w)
    C("apdu --scp03 with the wrong keys (cryptogram mismatch)",
      ["--json", "--image", own, "--scp03", "test", "apdu", "80CA00E000"], "tessera:command/apdu",
      "link")
    C("apdu --scp03 with the card's own keys, S16", ["--json", "--image", own, "--scp03",
                                                     "own.keys", "--s16", "apdu", "80CA00E000"],
      "tessera:command/apdu", OK)
    C("apdu: no APDU (usage)", D + ["apdu"], "tessera:command/apdu", "usage")
    C("apdu --bogus (usage)", D + ["apdu", "--bogus", "00A4000C023F00"], "tessera:command/apdu",
      "usage")
    C("apdu: no card (usage)", ["--json", "apdu", "00A4000C023F00"], "tessera:command/apdu",
      "usage")
    C("apdu: --image and --connect (usage)", D + ["--connect", "unix:/nonexistent", "apdu",
                                                  "00A4000C023F00"],
      "tessera:command/apdu", "usage")
    C("apdu: --level without --scp03 (usage)", D + ["--level", "33", "apdu", "80CA00E000"],
      "tessera:command/apdu", "usage")
    C("apdu: --level xyz (usage)", D + ["--scp03", "test", "--level", "xyz", "apdu",
                                        "80CA00E000"], "tessera:command/apdu", "usage")

    C("script", D + ["script", "s.txt"], "tessera:command/script", OK)
    C("script - (standard input)", D + ["script", "-"], "tessera:command/script", OK,
      stdin="00A4000C023F00\n0020008104 31323334\n")
    C("script: a line that is not a command", D + ["script", "bad.script"],
      "tessera:command/script", "file")
    C("script: a missing file", D + ["script", "missing.script"], "tessera:command/script", "file")
    C("script: a directory", D + ["script", "scripts"], "tessera:command/script", "file")
    C("script: no FILE (usage)", D + ["script"], "tessera:command/script", "usage")
    C("script: no card (usage)", ["--json", "script", "s.txt"], "tessera:command/script", "usage")
    C("script --bogus (usage)", D + ["script", "--bogus", "s.txt"], "tessera:command/script",
      "usage")

    # --- readers: pcscd may or may not run here --------------------------------------------
    C("readers (listed, or pcscd unreachable)", ["readers", "--json"], "tessera:command/readers",
      None, also=lambda d: [] if d.get("ok") is True or
      (isinstance(d.get("error"), dict) and d["error"].get("code") == "link")
      else ["neither a list nor a link failure"])
    C("readers --bogus (usage)", ["readers", "--bogus", "--json"], "tessera:command/readers",
      "usage")

    # --- a card served on a socket ---------------------------------------------------------
    quiet(T, "image", "init", sock_img, cwd=w)
    sock = w / "card.sock"
    served = ServedCard(card_bin, w / sock_img, sock, w)
    if not served.ready:
        r._report("tessera-card --listen: ready", ["the card did not report ready"], None)
    else:
        N = ["--json", "--connect", f"unix:{sock}"]
        C("--connect: apdu", N + ["apdu", "00A4000C023F00", "00B0000005"], "tessera:command/apdu",
          OK)
        C("--connect: apps list", N + ["apps", "list"], "tessera:command/apps-list", OK)
        C("--connect: admin list", N + ["admin", "list"], "tessera:command/admin-list", OK)
        C("--connect: card date", N + ["card", "date"], "tessera:command/card-date", OK)
        C("--connect: issue status without the issuance application (card 6A82)",
          N + ["issue", "status", "--function", "1"], "tessera:command/issue-status", "card",
          also=sw_is("6A82"))
        C("--connect: script", N + ["script", "-"], "tessera:command/script", OK,
          stdin="00A4000C023F00\n")
    served.stop()
    served = None
    C("--connect: nothing listens", ["--json", "--connect", f"unix:{sock}", "apdu",
                                     "00A4000C023F00"], "tessera:command/apdu", "link")
    C("--connect: nothing listens (apps list)", ["--json", "--connect", f"unix:{sock}", "apps",
                                                 "list"], "tessera:command/apps-list", "link")
    C("--connect: nothing listens (issue status)", ["--json", "--connect", f"unix:{sock}", "issue",
                                                    "status", "--function", "1"],
      "tessera:command/issue-status", "link")
    return served, holder


if __name__ == "__main__":
    sys.exit(main())
