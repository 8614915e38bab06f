"""Start-up time of the local stack: process start -> first page served (GET / answers 200), for
RUNS fresh processes of the release binary. Prints the median and the worst.

Usage: startup_time.py [--bin target/release/local-stack] [--runs 20]
"""
import argparse, socket, statistics, subprocess, time, urllib.request

from localaws import ROOT


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def once(binary):
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen([binary, "--listen", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
                    if r.status == 200:
                        return (time.perf_counter() - started) * 1000
            except OSError:
                time.sleep(0.002)
            if time.perf_counter() - started > 10:
                raise SystemExit("local-stack did not serve its first page within 10 s")
    finally:
        proc.terminate()
        proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / "target/release/local-stack"))
    ap.add_argument("--runs", type=int, default=20)
    a = ap.parse_args()
    times = [once(a.bin) for _ in range(a.runs)]
    print(f"local-stack start -> first page served: median {statistics.median(times):.1f} ms, "
          f"worst {max(times):.1f} ms ({a.runs} fresh processes)")


if __name__ == "__main__":
    main()
