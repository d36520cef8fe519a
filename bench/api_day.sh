#!/usr/bin/env bash
# A county office's day through the JSON API alone, against a running server, timed step by step.
#
#   bench/api_day.sh [BASE_URL]            (default http://127.0.0.1:8080)
#
# Environment: HOUSEHOLDS (default 1000; about 3 persons each), REPORTS (default 300 support
# reports by the office), CHECKS (default 300 registry checks), ADMIN_USER / ADMIN_PASSWORD (the
# demo's `admin` / `hamdeli-demo-1405`: used once, to issue the two API keys on the admin page),
# OFFICE_ORG / PARTNER_ORG (the organisations' Persian names; the demo's office and relief
# committee by default).
#
# The day: the office's system uploads its household list and its support list
# (POST /api/v1/imports); the relief committee's system uploads its list of some of the same
# households and reports its support (POST /api/v1/support); the office checks national codes
# (POST /api/v1/registry/check: half on its list, half unknown), reports support one piece at a
# time with an Idempotency-Key, sends every report again with the same key (recorded once: the
# first result comes back), reads the served-twice report (GET /api/v1/support/double) and its
# recorded support (GET /api/v1/support). Every answer is checked; the script stops on the first
# wrong one. Needs bash and python3 (standard library only).
set -euo pipefail
BASE="${1:-http://127.0.0.1:8080}"
export BASE
exec python3 - <<'PY'
import datetime, http.cookiejar, json, os, random, re, sys, time, urllib.error, urllib.parse, urllib.request, uuid

BASE = os.environ["BASE"].rstrip("/")
HOUSEHOLDS = int(os.environ.get("HOUSEHOLDS", "1000"))
REPORTS = int(os.environ.get("REPORTS", "300"))
CHECKS = int(os.environ.get("CHECKS", "300"))
ADMIN = os.environ.get("ADMIN_USER", "admin")
PASSWORD = os.environ.get("ADMIN_PASSWORD", "hamdeli-demo-1405")
OFFICE = os.environ.get("OFFICE_ORG", "دفتر امور زنان و خانواده (نمایشی)")
PARTNER = os.environ.get("PARTNER_ORG", "کمیته امداد (نمایشی)")
rng = random.Random(1405)
RUN = uuid.uuid4().hex[:8]  # keeps list names and idempotency keys of one run apart


def national_code(first9):
    d = [int(c) for c in f"{first9:09d}"]
    s = sum(d[i] * (10 - i) for i in range(9)) % 11
    return f"{first9:09d}{s if s < 2 else 11 - s}"


def fail(msg):
    print(f"FAILED: {msg}", file=sys.stderr)
    sys.exit(1)


class Http:
    def __init__(self, key=None):
        self.key = key
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())

    def call(self, method, path, body=None, headers=None, ctype=None):
        h = dict(headers or {})
        if self.key:
            h["Authorization"] = f"Bearer {self.key}"
        if ctype:
            h["Content-Type"] = ctype
        req = urllib.request.Request(BASE + path, data=body, method=method, headers=h)
        try:
            with self.opener.open(req, timeout=600) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def json(self, method, path, obj=None, headers=None):
        body = None if obj is None else json.dumps(obj).encode()
        status, h, raw = self.call(method, path, body, headers, "application/json" if body else None)
        try:
            return status, h, json.loads(raw) if raw else None
        except ValueError:
            return status, h, raw.decode(errors="replace")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


def multipart(fields, file_name, file_bytes):
    boundary = "hamdeli" + uuid.uuid4().hex
    out = []
    for k, v in fields.items():
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
               f'Content-Type: text/csv\r\n\r\n'.encode() + file_bytes + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


steps = []


def step(name, requests, fn):
    t = time.perf_counter()
    detail = fn()
    dt = time.perf_counter() - t
    steps.append((name, requests, dt, detail))
    rate = f"{requests / dt:8.1f} req/s" if requests > 1 else " " * 14
    print(f"{name:<52} {requests:>5} req {dt:8.3f} s {rate}  {detail}", flush=True)


# --- Setup (not part of the day): the admin issues the two organisations' API keys on its page.
def csrf_of(html):
    m = re.search(r'name="_csrf" value="([0-9a-f]{64})"', html)
    if not m:
        fail("no CSRF field on the page")
    return m.group(1)


admin = Http()
status, _, page = admin.call("GET", "/login")
token = csrf_of(page.decode())
form = urllib.parse.urlencode({"username": ADMIN, "password": PASSWORD, "next": "/", "_csrf": token}).encode()
status, _, _ = admin.call("POST", "/login", form, ctype="application/x-www-form-urlencoded")
if status != 303:
    fail(f"admin login answered {status}")
status, _, orgs = admin.json("GET", "/api/v1/organisations")
ids = {o["name_fa"]: o["id"] for o in orgs}
if OFFICE not in ids or PARTNER not in ids:
    fail(f"organisations {OFFICE!r} / {PARTNER!r} not found: {sorted(ids)}")


def issue(org_id, name):
    _, _, page = admin.call("GET", "/admin/api-keys")
    token = csrf_of(page.decode())
    form = urllib.parse.urlencode({"organisation": org_id, "name": name, "_csrf": token}).encode()
    status, _, page = admin.call("POST", "/admin/api-keys", form, ctype="application/x-www-form-urlencoded")
    m = re.search(r'data-testid="new-api-key">(hmd_[^<]+)<', page.decode())
    if status != 200 or not m:
        fail(f"issuing a key answered {status}")
    return m.group(1)


t0 = time.perf_counter()
office = Http(issue(ids[OFFICE], f"office system {RUN}"))
partner = Http(issue(ids[PARTNER], f"relief system {RUN}"))
print(f"{'setup: two API keys issued on the admin page':<52} {time.perf_counter() - t0:8.3f} s")

# --- The lists of the day (synthetic; fresh codes each run).
base = 600_000_000 + rng.randrange(0, 300_000_000)
firsts_f = ["زهرا", "فاطمه", "مریم", "معصومه", "سمیه", "لیلا", "نرگس", "الهه", "طاهره", "صدیقه"]
firsts_m = ["علی", "حسین", "رضا", "مهدی", "محمد", "امیر"]
lasts = ["احمدی", "کریمی", "رضایی", "موسوی", "حسینی", "جعفری", "نوری", "صادقی", "رحیمی", "قاسمی"]
relations = ["دختر", "پسر", "مادر"]
households = []  # (household id, [(code, first, last, relation, gender, birth)])
n = 0
for h in range(HOUSEHOLDS):
    last = rng.choice(lasts)
    members = []
    for m in range(rng.randint(1, 5)):
        n += 1
        code = national_code(base + n)
        if m == 0:
            members.append((code, rng.choice(firsts_f), last, "سرپرست", "زن", f"13{rng.randint(40, 75)}/0{rng.randint(1, 9)}/1{rng.randint(0, 9)}"))
        else:
            rel = rng.choice(relations)
            first = rng.choice(firsts_m if rel == "پسر" else firsts_f)
            members.append((code, first, last, rel, "مرد" if rel == "پسر" else "زن", f"13{rng.randint(80, 99)}/0{rng.randint(1, 9)}/0{rng.randint(1, 9)}"))
    households.append((f"{RUN}-{h + 1}", members))
heads = [hh[1][0] for hh in households]
today = datetime.date.today().isoformat()

household_csv = ["ردیف,شماره خانوار,کد ملی,نام,نام خانوادگی,جنسیت,تاریخ تولد,نسبت با سرپرست,استان,شهرستان,شهری/روستایی,علت سرپرستی,بعد خانوار,دهک"]
row = 0
for hid, members in households:
    for i, (code, first, last, rel, gender, birth) in enumerate(members):
        row += 1
        head_cols = f"{rng.choice(['فوت همسر', 'مطلقه', 'همسر معلول'])},{len(members)},{rng.randint(1, 4)}" if i == 0 else ",,"
        household_csv.append(f"{row},{hid},{code},{first},{last},{gender},{birth},{rel},تهران,تهران,{rng.choice(['شهری', 'روستایی'])},{head_cols}")
household_bytes = ("\n".join(household_csv) + "\n").encode()

supported = heads[: max(1, len(heads) // 2)]
support_csv = ["شماره پرونده,کد ملی,نام,نام خانوادگی,طرح,نوع کمک,مبلغ,تاریخ دریافت"]
for i, (code, first, last, *_rest) in enumerate(supported):
    support_csv.append(f"S{i},{code},{first},{last},طرح همدلی,سبد غذایی,{rng.choice([5, 8, 10]) * 100_000},{today}")
support_bytes = ("\n".join(support_csv) + "\n").encode()

relief_heads = heads[::4]
relief_csv = ["source_id,national_code,first_name,last_name"]
for i, (code, first, last, *_rest) in enumerate(relief_heads):
    relief_csv.append(f"R{RUN}-{i},{code},{first},{last}")
relief_bytes = ("\n".join(relief_csv) + "\n").encode()


def upload(client, list_name, data, kind="support"):
    body, ctype = multipart({"list": list_name, "kind": kind}, "list.csv", data)
    status, _, raw = client.call("POST", "/api/v1/imports", body, ctype=ctype)
    rep = json.loads(raw)
    if status != 201 or rep.get("status") != "committed":
        fail(f"upload of {list_name} answered {status}: {str(rep)[:300]}")
    if rep["rows_in"] != rep["accepted"] + rep["rejected"] + rep["skipped"]:
        fail("rows in != accepted + rejected + skipped")
    return f"rows {rep['rows_in']}, accepted {rep['accepted']}, new persons {rep['persons_created']}, joined {rep['records_joined']}"


print(f"\nThe day at {BASE}: {HOUSEHOLDS} households, {n} persons; {len(supported)} on the support list; "
      f"{len(relief_heads)} on the relief committee's list\n")
day0 = time.perf_counter()
step("1 office uploads its household list", 1, lambda: upload(office, f"خانوارهای شهرستان {RUN}", household_bytes))
step("2 office uploads its support list", 1, lambda: upload(office, f"سبد غذایی {RUN}", support_bytes))
step("3 relief committee uploads its list", 1, lambda: upload(partner, f"مددجویان {RUN}", relief_bytes))

check_codes = [h[0] for h in rng.sample(heads, min(len(heads), CHECKS // 2))]
check_codes += [national_code(base + n + 1000 + i) for i in range(CHECKS - len(check_codes))]
rng.shuffle(check_codes)
known = set(c for c, *_ in heads)


def checks():
    found = held = both = 0
    for code in check_codes:
        status, _, ans = office.json("POST", "/api/v1/registry/check", {"national_code": code})
        if status != 200:
            fail(f"check answered {status}: {ans}")
        if ans["found"] != (code in known):
            fail(f"check of a {'known' if code in known else 'unknown'} code answered {ans}")
        found += ans["found"]
        held += ans["held_by_you"]
        both += len(ans["organisations"]) > 1
    return f"found {found}, held by the office {held}, also held by another organisation {both}"


step("4 office checks national codes", len(check_codes), checks)

report_heads = rng.sample(heads, min(len(heads), REPORTS))


def report(client, code, key, amount, kind="food"):
    status, h, ans = client.json("POST", "/api/v1/support",
                                 {"national_code": code, "kind": kind, "amount": amount, "date": today,
                                  "note": "گزارش سامانهٔ سازمان"},
                                 {"Idempotency-Key": key})
    if status != 201:
        fail(f"support report answered {status}: {ans}")
    return ans, h.get("idempotent-replayed") == "true" or h.get("Idempotent-Replayed") == "true"


first_answers = {}


def reports():
    for i, (code, *_rest) in enumerate(report_heads):
        ans, replayed = report(office, code, f"{RUN}-office-{i}", 2_000_000)
        if replayed:
            fail("a new key was answered as a replay")
        first_answers[i] = ans
    return f"recorded {len(first_answers)}"


def replays():
    same = 0
    for i, (code, *_rest) in enumerate(report_heads):
        ans, replayed = report(office, code, f"{RUN}-office-{i}", 2_000_000)
        if not replayed or ans != first_answers[i]:
            fail(f"the same key did not answer the first result: {ans}")
        same += 1
    status, _, ans = office.json("POST", "/api/v1/support",
                                 {"national_code": report_heads[0][0], "kind": "food", "amount": 1, "date": today},
                                 {"Idempotency-Key": f"{RUN}-office-0"})
    if status != 409:
        fail(f"a different body under a used key answered {status}")
    return f"answered with the first result {same}, recorded again 0; a different body under a used key: 409"


step("5 office reports support (one key each)", len(report_heads), reports)
step("6 office sends every report again (same keys)", len(report_heads) + 1, replays)


def relief_reports():
    for i, (code, *_rest) in enumerate(relief_heads):
        report(partner, code, f"{RUN}-relief-{i}", 1_500_000)
    return f"recorded {len(relief_heads)}"


step("7 relief committee reports its support", len(relief_heads), relief_reports)


def served_twice():
    status, _, ans = office.json("GET", "/api/v1/support/double")
    if status != 200:
        fail(f"served twice answered {status}: {ans}")
    status, _, recorded = office.json("GET", "/api/v1/support")
    if status != 200:
        fail(f"recorded support answered {status}")
    return f"period {ans['period']}: {ans['persons']} persons served twice; the office's recorded support, first page: {len(recorded)}"


step("8 office reads served-twice and its recorded support", 2, served_twice)
total = time.perf_counter() - day0
reqs = sum(s[1] for s in steps)
print(f"\n{'total':<52} {reqs:>5} req {total:8.3f} s")
PY
