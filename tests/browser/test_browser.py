#!/usr/bin/env python3
"""Browser tests: the real `hamdeli` server driven by headless Chromium over the W3C WebDriver
protocol (chromedriver), with nothing but the standard library.

Usage: test_browser.py PATH/TO/hamdeli
Starts the server on a free port with a fresh data directory and the demo data, then checks:
Persian RTL shell with the demo banner; sign-in; Jalali date, Persian digits and the Vazirmatn font on
the dashboard; the language switch to English (LTR, Gregorian, ASCII digits) and back; a county expert
refused another county's page; no horizontal overflow at 360 px; nothing loaded from another host;
graceful shutdown on SIGTERM. Prints `N passed, M failed` last; exits non-zero on any failure.
"""
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

PASSWORD = "hamdeli-demo-1405"
PERSIAN_DIGITS = set("۰۱۲۳۴۵۶۷۸۹")
JALALI_MONTHS = ["فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند"]
GREGORIAN_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                    "October", "November", "December"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


class WebDriver:
    def __init__(self, port, width):
        self.base = f"http://127.0.0.1:{port}"
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--window-size={width},900",
                "--user-data-dir=" + tempfile.mkdtemp(prefix="hamdeli-chromium-")]
        caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args}}}}
        self.session = f"/session/{self.call('POST', '/session', caps)['sessionId']}"

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, method=method, data=data,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read())["value"]

    def go(self, url):
        self.call("POST", self.session + "/url", {"url": url})

    def js(self, script, *args):
        return self.call("POST", self.session + "/execute/sync", {"script": script, "args": list(args)})

    def find(self, css):
        el = self.call("POST", self.session + "/element", {"using": "css selector", "value": css})
        return list(el.values())[0]

    def exists(self, css):
        return bool(self.js("return document.querySelector(arguments[0]) !== null", css))

    def text(self, css):
        return self.js("const e = document.querySelector(arguments[0]); return e ? e.textContent.trim() : null", css)

    def type(self, css, text):
        self.call("POST", f"{self.session}/element/{self.find(css)}/value", {"text": text})

    def click(self, css):
        self.call("POST", f"{self.session}/element/{self.find(css)}/click", {})
        time.sleep(0.3)

    def screenshot(self, path):
        with open(path, "wb") as f:
            f.write(base64.b64decode(self.call("GET", self.session + "/screenshot")))

    def quit(self):
        try:
            self.call("DELETE", self.session)
        except Exception:
            pass


AXE = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "vendor", "axe.min.js"), encoding="utf-8").read()


def accessibility_problems(wd):
    """Serious or critical WCAG 2 A/AA violations axe-core finds on the current page."""
    wd.js(AXE + "\nreturn true;")
    result = wd.js("return axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
                   ".then(r => r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')"
                   ".map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')))")
    return result


def main():
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("HAMDELI_BIN", "target/debug/hamdeli"))
    data_dir = tempfile.mkdtemp(prefix="hamdeli-browser-")
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    log = open(os.path.join(data_dir, "server.log"), "w")
    server = subprocess.Popen([binary, "serve", "--bind", f"127.0.0.1:{port}", "--data-dir", data_dir, "--demo"],
                              stdout=log, stderr=subprocess.STDOUT)
    driver_port = free_port()
    chromedriver = subprocess.Popen(["chromedriver", f"--port={driver_port}"], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
    passed, failed = 0, 0

    def check(name, ok, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"ok   {name}")
        else:
            failed += 1
            print(f"FAIL {name} {detail}")

    wd = None
    try:
        wait_http(origin + "/healthz")
        wait_http(f"http://127.0.0.1:{driver_port}/status", 30)
        wd = WebDriver(driver_port, 360)

        # 1. The public page: Persian, right to left, synthetic data labelled.
        wd.go(origin + "/")
        check("anonymous home is Persian RTL", wd.js("return [document.documentElement.lang, document.documentElement.dir]") == ["fa", "rtl"])
        check("demo data is labelled synthetic", wd.exists("[data-testid=demo-banner]"))

        # 2. Sign in as the national admin: the dashboard.
        wd.go(origin + "/login")
        problems = accessibility_problems(wd)
        check("accessibility (axe, WCAG 2 A/AA) of /login", problems == [], problems)
        wd.type("#username", "admin")
        wd.type("#password", PASSWORD)
        wd.click("[data-testid=login-submit]")
        check("login lands on the dashboard", wd.exists("[data-testid=count-provinces]"), wd.js("return location.href"))
        today = wd.text("[data-testid=today]") or ""
        check("date is Jalali with Persian digits", any(c in PERSIAN_DIGITS for c in today) and any(m in today for m in JALALI_MONTHS), today)
        count = wd.text("[data-testid=count-provinces]")
        check("counts in Persian digits", count == "۳۱", count)
        family = wd.js("return getComputedStyle(document.body).fontFamily")
        check("font family is Vazirmatn", "Vazirmatn" in family, family)
        loaded = wd.js("return document.fonts.load('16px Vazirmatn').then(() => document.fonts.check('16px Vazirmatn'))")
        check("Vazirmatn font file loads", loaded is True, loaded)
        overflow = wd.js("return document.documentElement.scrollWidth - window.innerWidth")
        check("no horizontal overflow at 360 px", overflow <= 1, overflow)
        shot = os.path.join(data_dir, "dashboard-fa-360.png")
        wd.screenshot(shot)
        print(f"screenshot: {shot}")
        foreign = wd.js("return performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith(arguments[0]))", origin)
        check("nothing loaded from another host", foreign == [], foreign)

        for page in ["/", "/places", "/admin/users", "/admin/users/new", "/admin/audit", "/account"]:
            wd.go(origin + page)
            problems = accessibility_problems(wd)
            check(f"accessibility (axe, WCAG 2 A/AA) of {page}", problems == [], problems)
        wd.go(origin + "/")

        # 3. Switch to English and back.
        wd.click("[data-testid=lang-switch]")
        check("English is LTR", wd.js("return [document.documentElement.lang, document.documentElement.dir]") == ["en", "ltr"])
        today = wd.text("[data-testid=today]") or ""
        check("English date is Gregorian with ASCII digits", any(m in today for m in GREGORIAN_MONTHS) and not any(c in PERSIAN_DIGITS for c in today), today)
        check("English counts in ASCII digits", wd.text("[data-testid=count-provinces]") == "31")
        wd.click("[data-testid=lang-switch]")
        check("back to Persian", wd.js("return document.documentElement.dir") == "rtl")

        # 4. A county expert: own county yes, another county no.
        wd.click("[data-testid=logout]")
        check("logged out", wd.exists("[data-testid=login-link]"))
        counties = json.load(urllib.request.urlopen(origin + "/api/v1/counties?province=10"))
        wd.go(origin + "/login")
        wd.type("#username", "tehran.expert")
        wd.type("#password", PASSWORD)
        wd.click("[data-testid=login-submit]")
        me = wd.js("return fetch('/api/v1/me').then(r => r.json())")
        own = me["scope"].split(":")[1]
        wd.go(f"{origin}/places/23/{own}")
        check("county expert opens the own county", wd.exists("[data-testid=county-heading]"))
        other = counties[0]["code"]
        status = wd.js("return fetch(arguments[0]).then(r => r.status)", f"/places/10/{other}")
        wd.go(f"{origin}/places/10/{other}")
        check("another county's page is refused (403)", status == 403 and wd.exists("[data-testid=error]"), status)
        check("the refusal is in Persian", "دسترسی" in (wd.text("[data-testid=error]") or ""))
    except Exception as e:  # a broken step counts as a failure, with its reason
        check("browser session", False, repr(e))
    finally:
        if wd:
            wd.quit()
        chromedriver.kill()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
            check("graceful shutdown on SIGTERM", server.returncode == 0, server.returncode)
        except subprocess.TimeoutExpired:
            server.kill()
            check("graceful shutdown on SIGTERM", False, "still running after 10 s")
    if failed:
        print(f"server log: {log.name}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
