#!/usr/bin/env python3
"""Browser tests: the real `hamdeli` server driven by headless Chromium over the W3C WebDriver
protocol (chromedriver), with nothing but the Python standard library.

Usage: test_browser.py [PATH/TO/hamdeli]      (or HAMDELI_BIN=PATH; default target/debug/hamdeli)

Starts the server on a free port with a fresh data directory and the demo data set, starts chromedriver
and one headless Chromium at 360 x 800 px (a phone), then checks:

 1. the anonymous home page is Persian, right to left, and labels the demo data as synthetic;
 2. the national admin signs in and gets the dashboard: Persian RTL, today's Jalali date in Persian
    digits, 31 provinces as "۳۱", the Vazirmatn font (declared and loaded);
 3. the language switch gives English (LTR, Gregorian date, ASCII digits) and switches back;
 4. a county expert opens the own county's page but is refused (403, error page in Persian) another
    province's county and another county of the own province;
 5. no horizontal overflow at 360 px (a screenshot of the Persian dashboard is kept);
 6. nothing on the dashboard is loaded from another host;
 plus axe-core (vendored) WCAG 2 A/AA on the main pages, and a graceful shutdown on SIGTERM (exit 0 in
 at most 10 s).

Prints one line per check and `N passed, M failed` last; exits non-zero on any failure. Artefacts
(screenshot, server log) go to a temporary directory whose path is printed; set
HAMDELI_BROWSER_ARTIFACTS to choose it. CHROMIUM and CHROMEDRIVER override the browser paths.
"""
import base64
import datetime
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

PASSWORD = "hamdeli-demo-1405"
WIDTH, HEIGHT = 360, 800
PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
JALALI_MONTHS = ["فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
                 "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند"]
GREGORIAN_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
                    "September", "October", "November", "December"]
# Unicode bidi controls (Fluent isolates placeables with U+2068/U+2069; RLM/LRM may appear too).
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------- helpers

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean(text):
    """Text without bidi control characters and with collapsed white space."""
    return " ".join((text or "").translate(BIDI_CONTROLS).split())


def persian_digits(n):
    return "".join(PERSIAN_DIGITS[int(c)] for c in str(n))


def gregorian_to_jalali(gy, gm, gd):
    """(year, month, day) in the Jalali calendar; the usual arithmetic algorithm, exact for this era."""
    g_d_m = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334]
    gy2 = gy + 1 if gm > 2 else gy
    days = 355666 + 365 * gy + (gy2 + 3) // 4 - (gy2 + 99) // 100 + (gy2 + 399) // 400 + gd + g_d_m[gm - 1]
    jy = -1595 + 33 * (days // 12053)
    days %= 12053
    jy += 4 * (days // 1461)
    days %= 1461
    if days > 365:
        jy += (days - 1) // 365
        days = (days - 1) % 365
    if days < 186:
        return jy, 1 + days // 31, 1 + days % 31
    return jy, 7 + (days - 186) // 30, 1 + (days - 186) % 30


def dates_around_today():
    """Yesterday, today and tomorrow in Iran (UTC+3:30); the server may cross midnight mid-run."""
    today = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=3, minutes=30)).date()
    return [today + datetime.timedelta(days=d) for d in (0, -1, 1)]


def expected_persian_dates():
    out = []
    for d in dates_around_today():
        y, m, day = gregorian_to_jalali(d.year, d.month, d.day)
        out.append(f"{persian_digits(day)} {JALALI_MONTHS[m - 1]} {persian_digits(y)}")
    return out


def expected_english_dates():
    return [f"{d.day} {GREGORIAN_MONTHS[d.month - 1]} {d.year}" for d in dates_around_today()]


def http_get(url, timeout=5):
    """(status, body) of a GET; HTTP errors are answers too."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_until(probe, timeout=10.0, interval=0.2):
    """The first truthy result of probe() within timeout seconds, else the last result."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = probe()
        except Exception:  # the page may be mid-navigation
            result = None
        if result or time.monotonic() >= deadline:
            return result
        time.sleep(interval)


class WebDriverError(RuntimeError):
    pass


class WebDriver:
    """The few W3C WebDriver commands these tests need."""

    def __init__(self, driver_url, chromium, user_data_dir):
        self.base = driver_url
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--lang=fa", f"--window-size={WIDTH},{HEIGHT}",
                f"--user-data-dir={user_data_dir}"]
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": {"pageLoad": 30000, "script": 30000, "implicit": 0},
            # Headless Chromium does not make windows narrower than 500 px whatever --window-size says;
            # emulate the phone's viewport (desktop-style: no touch, no shrink-to-fit, so overflow shows).
            "goog:chromeOptions": {"binary": chromium, "args": args, "mobileEmulation": {"deviceMetrics": {
                "width": WIDTH, "height": HEIGHT, "pixelRatio": 1, "touch": False, "mobile": False}}},
        }}}
        self.session = "/session/" + self.call("POST", "/session", caps)["sessionId"]

    def call(self, method, path, body=None, timeout=60):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, method=method, data=data,
                                     headers={"Content-Type": "application/json; charset=utf-8"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.loads(r.read())["value"]
        except urllib.error.HTTPError as e:
            try:
                value = json.loads(e.read())["value"]
                message = f"{value.get('error')}: {value.get('message', '').splitlines()[0]}"
            except Exception:
                message = f"HTTP {e.code}"
            raise WebDriverError(f"{method} {path}: {message}") from None

    def go(self, url):
        self.call("POST", self.session + "/url", {"url": url})

    def url(self):
        return self.call("GET", self.session + "/url")

    def js(self, script, *args):
        """Runs script as a function body; a returned promise is awaited."""
        return self.call("POST", self.session + "/execute/sync", {"script": script, "args": list(args)})

    def element(self, css):
        found = self.call("POST", self.session + "/element", {"using": "css selector", "value": css})
        return next(iter(found.values()))

    def exists(self, css):
        return bool(self.js("return document.querySelector(arguments[0]) !== null", css))

    def text(self, css):
        return self.js("const e = document.querySelector(arguments[0]);"
                       "return e ? e.textContent : null", css)

    def lang_dir(self):
        return self.js("return [document.documentElement.lang, document.documentElement.dir]")

    def type(self, css, text):
        el = self.element(css)
        self.call("POST", f"{self.session}/element/{el}/clear", {})
        self.call("POST", f"{self.session}/element/{el}/value", {"text": text})

    def click(self, css):
        self.call("POST", f"{self.session}/element/{self.element(css)}/click", {})

    def click_and_wait_for_new_page(self, css, timeout=15):
        """Clicks something that submits a form or follows a link; waits until a new document is loaded."""
        self.js("window.__hamdeli_old_page = true")
        self.click(css)
        return wait_until(lambda: self.js("return window.__hamdeli_old_page === undefined"
                                          " && document.readyState === 'complete'"), timeout)

    def screenshot(self, path):
        with open(path, "wb") as f:
            f.write(base64.b64decode(self.call("GET", self.session + "/screenshot")))

    def quit(self):
        try:
            self.call("DELETE", self.session, timeout=20)
        except Exception:
            pass


# ---------------------------------------------------------------- the run

class Run:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=None):
        if ok:
            self.passed += 1
            print(f"ok   {name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {name}" + ("" if detail is None else f"  -- got {detail!r}"), flush=True)
        return ok

    def step(self, name, fn):
        """Runs one group of checks; an exception is one failure, and the next group still runs."""
        try:
            fn()
        except Exception as e:
            self.check(f"{name}: completes without error", False, f"{type(e).__name__}: {e}")
            traceback.print_exc(limit=3, file=sys.stdout)


def stop_process(proc, timeout=5):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("HAMDELI_BIN", "target/debug/hamdeli"))
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    chromedriver_bin = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
    artifacts = os.environ.get("HAMDELI_BROWSER_ARTIFACTS") or tempfile.mkdtemp(prefix="hamdeli-browser-")
    os.makedirs(artifacts, exist_ok=True)
    print(f"artefacts: {artifacts}", flush=True)

    run = Run()
    check = run.check
    missing = [p for p in (binary, chromium, chromedriver_bin) if not os.access(p, os.X_OK)]
    if not check("the server binary, Chromium and chromedriver are there", not missing, missing):
        print(f"{run.passed} passed, {run.failed} failed")
        sys.exit(1)
    data_dir = tempfile.mkdtemp(prefix="hamdeli-browser-data-")
    profile_dir = tempfile.mkdtemp(prefix="hamdeli-chromium-")
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    server_log_path = os.path.join(artifacts, "server.log")
    server_log = open(server_log_path, "wb")
    server = subprocess.Popen([binary, "serve", "--bind", f"127.0.0.1:{port}", "--data-dir", data_dir, "--demo"],
                              stdout=server_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              env={**os.environ, "HAMDELI_LOG": os.environ.get("HAMDELI_LOG", "info"),
                                         "HAMDELI_DEMO_PEOPLE": os.environ.get("HAMDELI_DEMO_PEOPLE", "5000")})
    driver_port = free_port()
    chromedriver = subprocess.Popen([chromedriver_bin, f"--port={driver_port}"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    wd = None
    try:
        # The server: up, healthy, and announcing itself.
        deadline = time.monotonic() + 120
        up = False
        while not up and server.poll() is None and time.monotonic() < deadline:
            try:
                status, body = http_get(origin + "/healthz", timeout=2)
                up = status == 200 and body.strip() == b"ok"
            except OSError:
                pass
            if not up:
                time.sleep(0.3)
        if not check("server starts and answers /healthz with ok", up,
                     f"exited with {server.returncode}" if server.poll() is not None else "no answer in 120 s"):
            raise SystemExit
        announced = open(server_log_path, encoding="utf-8", errors="replace").read()
        check("server prints its address and the demo logins",
              f"http://127.0.0.1:{port}/" in announced and PASSWORD in announced and "tehran.expert" in announced)

        ready = wait_until(lambda: json.loads(http_get(f"http://127.0.0.1:{driver_port}/status", 2)[1])["value"]["ready"], 30)
        if not check("chromedriver is ready", bool(ready)):
            raise SystemExit
        wd = WebDriver(f"http://127.0.0.1:{driver_port}", chromium, profile_dir)

        def sign_in(username):
            wd.go(origin + "/login")
            wd.type("input[name=username]", username)
            wd.type("input[name=password]", PASSWORD)
            wd.click_and_wait_for_new_page("[data-testid=login-submit]")
            return wait_until(lambda: wd.exists("[data-testid=logout]"), 5)

        # 1. Anonymous: Persian, right to left, demo data labelled synthetic.
        def anonymous():
            wd.go(origin + "/")
            check("1 anonymous home is Persian RTL (lang=fa dir=rtl)", wd.lang_dir() == ["fa", "rtl"], wd.lang_dir())
            check("1 anonymous home shows the demo banner", wd.exists("[data-testid=demo-banner]"))
            check("1 anonymous home offers sign-in", wd.exists("[data-testid=login-link]"))

        run.step("1 anonymous home", anonymous)

        # 2. The national admin's dashboard.
        def admin_dashboard():
            check("2 admin signs in", sign_in("admin"), wd.url())
            check("2 sign-in lands on the dashboard at /",
                  wd.url() == origin + "/" and wd.exists("[data-testid=count-provinces]"), wd.url())
            check("2 dashboard is Persian RTL (lang=fa dir=rtl)", wd.lang_dir() == ["fa", "rtl"], wd.lang_dir())
            today = clean(wd.text("[data-testid=today]"))
            words = today.split()
            check("2 date has Persian digits", any(c in PERSIAN_DIGITS for c in today) and not re.search(r"[0-9]", today), today)
            check("2 date has a Jalali month name", any(m in words for m in JALALI_MONTHS), today)
            check("2 date is today's Jalali date", today in expected_persian_dates(), (today, expected_persian_dates()[0]))
            count = clean(wd.text("[data-testid=count-provinces]"))
            check("2 count-provinces is ۳۱", count == "۳۱", count)
            family = wd.js("return getComputedStyle(document.body).fontFamily")
            check("2 body font family is Vazirmatn", "Vazirmatn" in (family or ""), family)
            loaded = wait_until(lambda: wd.js("return document.fonts.ready.then(() => document.fonts.check('16px Vazirmatn')"
                                              " && [...document.fonts].some(f => f.family.replace(/[\"']/g, '') === 'Vazirmatn'"
                                              " && f.status === 'loaded'))"), 10)
            check("2 the Vazirmatn font face is loaded (document.fonts.check)", loaded is True, loaded)

        run.step("2 admin dashboard", admin_dashboard)

        # 5. 360 px: viewport really is a phone's, no horizontal overflow; keep a screenshot.
        def phone_width():
            inner = wd.js("return window.innerWidth")
            check(f"5 viewport is {WIDTH} px wide", inner == WIDTH, inner)
            overflow = wd.js("return [document.documentElement.scrollWidth, window.innerWidth]")
            check("5 dashboard has no horizontal overflow at 360 px", overflow[0] <= overflow[1] + 1, overflow)
            wd.js("window.scrollTo(0, 0)")
            shot = os.path.join(artifacts, "dashboard-fa-360.png")
            wd.screenshot(shot)
            check("5 screenshot of the Persian dashboard", os.path.getsize(shot) > 1000)
            print(f"screenshot: {shot}", flush=True)

        run.step("5 360 px", phone_width)

        # 6. Nothing from another host.
        def same_origin():
            entries = wd.js("return performance.getEntriesByType('resource').map(e => e.name)")
            foreign = [n for n in entries if not n.startswith(origin + "/")]
            check("6 dashboard loaded resources only from the server's origin", entries and not foreign,
                  foreign or entries)
            check("6 the font came from the server", any(re.search(r"\.(woff2?|ttf)(\?|$)", n) for n in entries), entries)
            refs = wd.js("return [...document.querySelectorAll('script[src], link[href], img[src], iframe[src], "
                         "source[src], video[src], audio[src], object[data], embed[src]')]"
                         ".filter(e => e.tagName !== 'LINK' || !/^(alternate|canonical)$/i.test(e.rel))"
                         ".map(e => new URL(e.src || e.href || e.data, location.href).origin)"
                         ".filter(o => o !== location.origin)")
            check("6 dashboard markup refers to no other host for scripts, styles or media", refs == [], refs)

        run.step("6 same origin", same_origin)

        # 3. English and back.
        def language_switch():
            wd.go(origin + "/")
            wd.click_and_wait_for_new_page("[data-testid=lang-switch]")
            check("3 English is LTR (lang=en dir=ltr)", wait_until(lambda: wd.lang_dir() == ["en", "ltr"], 5), wd.lang_dir())
            check("3 still on the dashboard", wd.url() == origin + "/", wd.url())
            count = clean(wd.text("[data-testid=count-provinces]"))
            check("3 count-provinces is 31", count == "31", count)
            today = clean(wd.text("[data-testid=today]"))
            check("3 date has a Gregorian month name and ASCII digits",
                  any(m in today.split() for m in GREGORIAN_MONTHS) and re.search(r"[0-9]", today)
                  and not any(c in PERSIAN_DIGITS for c in today), today)
            check("3 date is today's Gregorian date", today in expected_english_dates(), (today, expected_english_dates()[0]))
            overflow = wd.js("return [document.documentElement.scrollWidth, window.innerWidth]")
            check("3 English dashboard has no horizontal overflow at 360 px", overflow[0] <= overflow[1] + 1, overflow)
            wd.click_and_wait_for_new_page("[data-testid=lang-switch]")
            check("3 switched back to Persian RTL", wait_until(lambda: wd.lang_dir() == ["fa", "rtl"], 5), wd.lang_dir())
            check("3 Persian digits again", clean(wd.text("[data-testid=count-provinces]")) == "۳۱")

        run.step("3 language switch", language_switch)

        # Accessibility (axe-core, vendored): serious or critical WCAG 2 A/AA violations, as the admin.
        axe_path = os.path.join(HERE, "vendor", "axe.min.js")
        if os.path.exists(axe_path):
            axe = open(axe_path, encoding="utf-8").read()

            def accessibility():
                for page in ["/", "/places", "/places/23", "/admin/users", "/admin/users/new", "/admin/audit", "/account",
                             "/registry", "/registry/coverage", "/registry/reviews", "/registry/imports",
                             "/needs", "/deliveries", "/support/double", "/priority", "/campaigns",
                             "/campaigns/new", "/stats", "/receipts", "/donors/signup"]:
                    wd.go(origin + page)
                    wd.js(axe + "\nreturn true;")
                    problems = wd.js(
                        "return axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
                        ".then(r => r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')"
                        ".map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')))")
                    check(f"a11y axe WCAG 2 A/AA on {page}", problems == [], problems)
                    overflow = wd.js("return [document.documentElement.scrollWidth, window.innerWidth]")
                    check(f"5 no horizontal overflow at 360 px on {page}", overflow[0] <= overflow[1] + 1, overflow)

            run.step("accessibility", accessibility)

        # 4. A county expert: the own county yes, any other county no (403, Persian error page).
        def county_expert():
            wd.go(origin + "/")
            if wd.exists("[data-testid=logout]"):
                wd.click_and_wait_for_new_page("[data-testid=logout]")
            check("4 admin logs out", wait_until(lambda: wd.exists("[data-testid=login-link]"), 5), wd.url())
            status = wd.js("return fetch('/api/v1/me').then(r => r.status)")
            check("4 after logout the browser's session is gone (/api/v1/me is 401)", status == 401, status)
            check("4 tehran.expert signs in", sign_in("tehran.expert"), wd.url())
            me = wd.js("return fetch('/api/v1/me').then(r => r.json())")
            own = (me.get("scope") or "").split(":")[-1]
            check("4 tehran.expert is a county expert of a county", me.get("role") == "county_expert" and own, me)

            wd.go(f"{origin}/places/23/{own}")
            status = wd.js("return fetch(location.href).then(r => r.status)")
            check(f"4 own county page /places/23/{own} is 200 with its heading",
                  status == 200 and wd.exists("[data-testid=county-heading]"), status)

            isfahan = json.loads(http_get(origin + "/api/v1/counties?province=10")[1])
            tehran = json.loads(http_get(origin + "/api/v1/counties?province=23")[1])
            check("4 county lists for provinces 10 and 23", isfahan and tehran, (len(isfahan), len(tehran)))
            others = [("another province's county", f"/places/10/{isfahan[0]['code']}")]
            other_tehran = [c["code"] for c in tehran if c["code"] != own]
            if other_tehran:
                others.append(("another county of the own province", f"/places/23/{other_tehran[0]}"))
            for what, path in others:
                status = wd.js("return fetch(arguments[0]).then(r => r.status)", path)
                wd.go(origin + path)
                error = clean(wd.text("[data-testid=error]"))
                check(f"4 {what} {path} is refused with 403", status == 403, status)
                check(f"4 {what}: the refusal page shows [data-testid=error]", bool(error), wd.url())
                check(f"4 {what}: the refusal page is Persian RTL", wd.lang_dir() == ["fa", "rtl"]
                      and re.search("[\u0600-\u06ff]", error or ""), (wd.lang_dir(), error))
                check(f"4 {what}: no county heading leaks", not wd.exists("[data-testid=county-heading]"))

        run.step("4 county expert", county_expert)

        # 7. A donor signs up with a mobile number, pledges to a demo campaign and sees the pledge.
        def donor():
            wd.go(origin + "/")
            if wd.exists("[data-testid=logout]"):
                wd.click_and_wait_for_new_page("[data-testid=logout]")
            campaigns = wait_until(lambda: json.loads(http_get(origin + "/api/v1/campaigns")[1]), 120, 1.0)
            if not check("7 the demo campaigns exist (seeded in the background)", bool(campaigns)):
                return
            wd.go(origin + "/donors/signup")
            wd.type("#mobile", "۰۹۱۹۸۷۶۵۴۳۲")
            wd.type("#name", "خیّر مرورگر")
            wd.click_and_wait_for_new_page("[data-testid=signup-form] button[type=submit]")
            check("7 sign-up asks for the code sent to the mobile", wd.exists("[data-testid=verify-form]"), wd.url())

            # The demo's sender writes the code into the server's log (sms_log_codes).
            def sent_code():
                log = open(server_log_path, encoding="utf-8", errors="replace").read()
                plain = re.sub(r"\x1b\[[0-9;]*m", "", log)  # the text log's colours
                found = [m.group(1) for line in plain.splitlines() if "0919***5432" in line
                         for m in [re.search(r"text=.*?(?<![0-9])([0-9]{6})(?![0-9])", line)] if m]
                return found[-1] if found else None
            code = wait_until(sent_code, 5)
            if not check("7 the demo logs the sign-up code", bool(code)):
                return
            wd.type("#code", code)
            wd.type("#password", "browser-donor-secret")
            wd.click_and_wait_for_new_page("[data-testid=verify-form] button[type=submit]")
            check("7 the right code leads to the login page", "/login" in wd.url(), wd.url())
            wd.type("input[name=username]", "09198765432")
            wd.type("input[name=password]", "browser-donor-secret")
            wd.click_and_wait_for_new_page("[data-testid=login-submit]")
            check("7 the donor signs in with the mobile number", wait_until(lambda: wd.exists("[data-testid=logout]"), 5))
            active = [c for c in campaigns if c["campaign"]["status"] == "active"]
            wd.go(f"{origin}/campaigns/{active[0]['campaign']['id']}")
            check("7 the campaign page offers the pledge form", wd.exists("[data-testid=pledge-form]"))
            wd.type("#amount", "۲٬۵۰۰٬۰۰۰")
            wd.click_and_wait_for_new_page("[data-testid=pledge-form] button[type=submit]")
            check("7 after pledging the donor's page lists it", wd.exists("[data-testid=donor-pledges]")
                  and "۲٬۵۰۰٬۰۰۰" in wd.text("[data-testid=donor-pledges]"), wd.url())

        run.step("7 donor", donor)
    except SystemExit:
        pass
    except Exception as e:
        check("browser session", False, f"{type(e).__name__}: {e}")
        traceback.print_exc(limit=3, file=sys.stdout)
    finally:
        # SIGTERM while the browser still holds its keep-alive connections, as a real one would.
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            started = time.monotonic()
            try:
                code = server.wait(timeout=10)
                check(f"graceful shutdown: exit status 0 within 10 s of SIGTERM ({time.monotonic() - started:.1f} s)",
                      code == 0, code)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
                check("graceful shutdown: exit within 10 s of SIGTERM", False, "still running after 10 s")
        else:
            check("server stays up until SIGTERM", False, f"exited early with {server.returncode}")
        server_log.close()
        if wd:
            wd.quit()
        stop_process(chromedriver)
        shutil.rmtree(profile_dir, ignore_errors=True)
        shutil.rmtree(data_dir, ignore_errors=True)
    if run.failed:
        print(f"server log: {server_log_path}")
    print(f"{run.passed} passed, {run.failed} failed")
    sys.exit(1 if run.failed else 0)


if __name__ == "__main__":
    main()
