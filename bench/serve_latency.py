#!/usr/bin/env python3
"""How fast `hindsight serve` shows a saved document, and how much it serves.

Copies a knowledge base to RAM (/dev/shm), times full builds beside it, starts
`hindsight serve` on the copy, then for each of several postmortems:

  * saves an edit (a new title, or a new body paragraph) and reads the
    server's own `rebuilt in X ms (N pages rendered)` line;
  * end to end: polls the document's page over HTTP from the moment the file
    is written until the new text is served.

Then sends 1,000 requests over 10 keep-alive connections (a mix of document
pages, lists, the home page and static files), counts errors and reports
requests per second; and runs `wrk` for a few seconds if it is installed.

    python3 /work/shared/bench/gen_corpus.py --n 10000 --out /tmp/kb10k --flavor native
    cargo build --release
    python3 bench/serve_latency.py --kb /tmp/kb10k

A measurement, not a test: it prints figures and fails only if the server
does not work (no page, an error answer).
"""

import argparse
import glob
import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def median_ms(xs):
    return f"{statistics.median(xs) * 1000:.1f} ms" if xs else "-"


def spread_ms(xs):
    if not xs:
        return "-"
    return f"min {min(xs) * 1000:.1f}, median {statistics.median(xs) * 1000:.1f}, max {max(xs) * 1000:.1f} ms (n={len(xs)})"


class Server:
    """`hindsight serve` on a free port; its stderr is kept line by line."""

    def __init__(self, binary, root, today):
        self.proc = subprocess.Popen(
            [binary, "serve", "--root", root, "--port", "0", "--today", today],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        line = self.wait_line(lambda l: " at http://" in l, timeout=300)
        self.addr = line.split(" at http://", 1)[1].split("/", 1)[0]
        self.host, self.port = self.addr.rsplit(":", 1)

    def _read(self):
        for line in self.proc.stderr:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()

    def wait_line(self, match, timeout, start=0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines[start:]:
                    if match(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    sys.exit("server: no matching line; its log:\n" + "\n".join(self.lines))
                self.cond.wait(left)

    def get(self, path, conn=None):
        own = conn is None
        conn = conn or http.client.HTTPConnection(self.host, int(self.port), timeout=30)
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        if own:
            conn.close()
        return r.status, body

    def cpu_seconds(self):
        """User + system CPU time of the server so far (Linux), or None."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def page_url(text):
    """The page of a postmortem: /postmortems/<lowercased id>/."""
    m = re.search(r"^id:\s*\"?([^\"\n]+)\"?\s*$", text, re.M)
    slug = re.sub(r"[^a-z0-9._-]", "-", m.group(1).strip().lower()).strip(".")
    return f"/postmortems/{slug}/"


def edit_latency(server, files, kind, rounds, pause):
    """Edits `rounds` postmortems; returns (server-side s, end-to-end s, CPU s, pages rendered) lists."""
    server_ms, e2e, cpu, rendered = [], [], [], []
    conn = http.client.HTTPConnection(server.host, int(server.port), timeout=30)
    for i in range(rounds):
        path = files[i % len(files)]
        with open(path, encoding="utf-8") as f:
            text = f.read()
        url = page_url(text)
        marker = f"Edited{kind}{i}x{os.getpid()}"
        if kind == "title":
            new = re.sub(r"^title:.*$", f'title: "{marker} title"', text, count=1, flags=re.M)
        else:
            new = text.rstrip("\n") + f"\n\nA late note: {marker}.\n"
        status, body = server.get(url, conn)
        assert status == 200, f"{url}: {status}"
        assert marker.encode() not in body
        seen_lines = len(server.lines)
        cpu_before = server.cpu_seconds()
        start = time.monotonic()
        with open(path, "w", encoding="utf-8") as f:
            f.write(new)
        while True:
            status, body = server.get(url, conn)
            if status == 200 and marker.encode() in body:
                break
            if time.monotonic() - start > 60:
                sys.exit(f"{url} never showed the edit; log:\n" + "\n".join(server.lines[-20:]))
            time.sleep(0.002)  # poll often, without taking the CPU the rebuild needs
        e2e.append(time.monotonic() - start)
        if cpu_before is not None:
            cpu.append(server.cpu_seconds() - cpu_before)
        line = server.wait_line(lambda l: l.startswith("rebuilt in"), 10, seen_lines)
        m = re.match(r"rebuilt in ([\d.]+) ms \((\d+) pages rendered\)", line)
        server_ms.append(float(m.group(1)) / 1000)
        rendered.append(int(m.group(2)))
        time.sleep(pause)
    conn.close()
    return server_ms, e2e, cpu, rendered


def load(server, urls, total, concurrency):
    """`total` GETs over `concurrency` keep-alive connections; returns (seconds, errors, bytes)."""
    per = total // concurrency
    errors, sizes = [], []
    lock = threading.Lock()

    def worker(n):
        conn = http.client.HTTPConnection(server.host, int(server.port), timeout=30)
        got = 0
        for i in range(per):
            url = urls[(n * per + i) % len(urls)]
            try:
                status, body = server.get(url, conn)
                got += len(body)
                if status != 200:
                    with lock:
                        errors.append(f"{url}: {status}")
            except Exception as e:  # noqa: BLE001 - every failure counts
                with lock:
                    errors.append(f"{url}: {e!r}")
                conn.close()
                conn = http.client.HTTPConnection(server.host, int(server.port), timeout=30)
        conn.close()
        with lock:
            sizes.append(got)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - start, errors, sum(sizes)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kb", default="/tmp/kb10k", help="knowledge base to copy (not changed)")
    ap.add_argument("--bin", default=os.path.join(REPO, "target/release/hindsight"))
    ap.add_argument("--today", default="2026-11-26")
    ap.add_argument("--edits", type=int, default=9, help="edits of each kind")
    ap.add_argument("--pause", type=float, default=0.3, help="seconds between edits")
    ap.add_argument("--builds", type=int, default=3, help="full builds to time")
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=10)
    ap.add_argument("--wrk-seconds", type=int, default=5, help="0 to skip wrk")
    args = ap.parse_args()

    if not os.path.exists(args.bin):
        sys.exit(f"{args.bin} not found: cargo build --release")
    if not os.path.isdir(os.path.join(args.kb, "content")):
        sys.exit(f"no knowledge base at {args.kb}: python3 /work/shared/bench/gen_corpus.py --n 10000 --out {args.kb} --flavor native")
    ram = "/dev/shm" if os.path.isdir("/dev/shm") else None
    work = tempfile.mkdtemp(prefix="hindsight-serve-bench-", dir=ram)
    try:
        root = os.path.join(work, "kb")
        shutil.copytree(args.kb, root)
        docs = len(glob.glob(os.path.join(root, "content", "**", "*.md"), recursive=True))
        print(f"knowledge base: {args.kb} ({docs} documents), copied to {root}")
        print(f"binary: {args.bin}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (other work on the machine inflates wall times)")

        builds, build_cpu = [], []
        for _ in range(args.builds):
            out = os.path.join(work, "public")
            start = time.monotonic()
            before = os.times()
            r = subprocess.run(
                [args.bin, "build", "--root", root, "--output", out, "--today", args.today, "--force"],
                capture_output=True, text=True,
            )
            builds.append(time.monotonic() - start)
            after = os.times()
            build_cpu.append(after.children_user + after.children_system - before.children_user - before.children_system)
            if r.returncode != 0:
                sys.exit("hindsight build failed:\n" + r.stderr[-3000:])
            shutil.rmtree(out)
        print(f"full build (`hindsight build`, output in RAM): {spread_ms(builds)}")
        print(f"full build CPU time: {spread_ms(build_cpu)}")

        start = time.monotonic()
        server = Server(args.bin, root, args.today)
        ready = time.monotonic() - start
        first = next(l for l in server.lines if l.startswith("built "))
        print(f"serve start to ready: {ready * 1000:.0f} ms; {first}")
        try:
            status, _ = server.get("/")
            assert status == 200, f"/: {status}"
            pms = sorted(glob.glob(os.path.join(root, "content", "postmortems", "**", "*.md"), recursive=True))
            # Postmortems spread over the corpus, each edited once per kind.
            step = max(1, len(pms) // (args.edits + 1))
            files = pms[step::step][: args.edits]
            for kind in ("title", "body"):
                s, e, c, n = edit_latency(server, files, kind, args.edits, args.pause)
                print(f"{kind} edit, server `rebuilt in`: {spread_ms(s)}; pages rendered: {sorted(n)}")
                print(f"{kind} edit, write to new page served (HTTP poll): {spread_ms(e)}")
                print(f"{kind} edit, server CPU time (all threads): {spread_ms(c)}")

            urls = [page_url(open(p, encoding="utf-8").read()) for p in pms[:: max(1, len(pms) // 40)]]
            urls += ["/", "/static/style.css", "/runbooks/", "/tags/", "/incidents/"]
            secs, errors, size = load(server, urls, args.requests, args.concurrency)
            print(
                f"load: {args.requests} requests over {args.concurrency} connections in {secs:.2f} s: "
                f"{args.requests / secs:.0f} requests/s, {size / secs / 1e6:.0f} MB/s, {len(errors)} errors"
            )
            for e in errors[:10]:
                print("  error:", e)
            if shutil.which("wrk") and args.wrk_seconds > 0:
                for path in ("/", urls[0], "/static/style.css"):
                    r = subprocess.run(
                        ["wrk", "-t2", f"-c{args.concurrency}", f"-d{args.wrk_seconds}s", f"http://{server.addr}{path}"],
                        capture_output=True, text=True,
                    )
                    rps = re.search(r"Requests/sec:\s*([\d.]+)", r.stdout)
                    bad = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*", r.stdout)
                    print(f"wrk {path}: {rps.group(1) if rps else '?'} requests/s" + (f"; {bad.group(0)}" if bad else ", no errors"))
            if errors:
                sys.exit(1)
        finally:
            server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
