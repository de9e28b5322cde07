"""Throughput of the embedded ``tiny-shapes`` model on this CPU: batch size in one process, and the batch
command in one process against two ``accelerate`` processes.

Native settings: 32×32 pixels, 8 frames, the model's guidance (4, so each denoising step runs the UNet on
2 × batch), ``--steps`` DDIM steps (25, the command's default).

* **In process** (``pipe(prompt=[...])``, ``output_type="np"``, no file written): videos per second at batch
  sizes 1, 4 and 16 (a list of distinct prompts, one seeded generator per video), and the ratio to batch 1.
  Torch threads are pinned (``--threads``, default: every CPU this process may use), and the same series is
  repeated at 1 thread. Warm-up first (one short call per batch size and one full call), then ``--rounds``
  rounds, each making ``max(sizes)`` videos at every size in turn, so a change in the machine's load falls on
  every size alike; the rate is that of the median round (each round's seconds are listed). Peak memory:
  ``PeakMemory`` (``benchmarks/measure.py``) around the first call at that size (2 steps) in a fresh process
  with the model loaded: the resident memory the call added, and the process's peak resident memory (a fresh
  process, because an earlier larger call leaves freed memory in the allocator and the next reads ~0 added).
* **The batch command** on ``--items`` prompts (one per line of a JSON-lines file, distinct prompts and
  seeds), each run into a fresh folder: ``python -m t2v.batch generate`` in one process with ``--threads``
  threads, against ``accelerate launch --multi_gpu --num_processes 2 ... -m t2v.batch generate`` with
  ``--threads / 2`` threads per process (``OMP_NUM_THREADS``, ``MKL_NUM_THREADS`` and accelerate's
  ``--num_cpu_threads_per_process`` all pinned; ``ACCELERATE_USE_CPU=true``), and one process with 1 thread.
  ``--multi_gpu`` is what starts two processes: ``accelerate launch --cpu --num_processes 2`` runs the
  command once, in one process (accelerate's simple launcher; measured here: its summary names no second
  process), and the benchmark refuses a run that does not report the processes it asked for. The runs
  alternate (``--repeats`` times); the wall and command rates are the items of all repeats over their summed
  seconds, the steady rate the mean of the runs'. Three timings per run, nothing subtracted unless named:

  - ``wall``: the whole command, from start to exit: interpreter start, imports, (accelerate's launcher
    and the gloo group), model load, generation, mp4 + sidecar writes, exit;
  - ``command``: the ``took … s`` that the command prints, timed inside ``t2v batch generate`` from
    argument parsing on: model load + generation + writes (no interpreter start or imports);
  - ``steady``: items finished after every process finished its first one ÷ the time from that finish to
    the last (finish times are the sidecars' mtimes: each is written last, when its item is complete), so
    start-up and model load are out, and a process that runs out of work before the other is in.

  The sidecars' ``seconds`` (generation + video write per item) give ``mean_item_s``. Memory of a command:
  its process tree (launcher, workers, their ffmpeg) polled with psutil every 50 ms; ``peak_rss_total_mb`` is
  the peak of the summed RSS (pages shared between processes count once per process), ``peak_rss_process_mb``
  the largest single process.
* ``other_cpu_share``: the share of the machine's CPU time that other processes used meanwhile. The figures
  are for a quiet machine; above a few per cent they are not (two threads suffer most: a parallel region
  waits for its slowest thread, and a preempted one stalls it).

``two_process_ratio`` is two processes' videos per second ÷ one process's, from the whole-command times;
``two_process_ratio_steady`` and ``two_process_ratio_command`` from the other two timings;
``two_process_vs_one_thread_ratio_steady`` and ``two_threads_vs_one_ratio_steady`` set both against one process
with one thread. ``--threads`` (default: the CPUs this process may use) and the split are in ``threads``.

    OMP_NUM_THREADS=2 python benchmarks/throughput.py [--quick] [--out DIR] [--steps 25] [--items 32]

Everything goes to a temporary folder, removed at the end, unless ``--out`` names one to keep (the prompts
file, each run's videos, sidecars and logs). The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from measure import PeakMemory  # noqa: E402

from t2v.models import load_pipeline  # noqa: E402

BATCH_SIZES = (1, 4, 16)
COLOURS = ("red", "green", "blue", "yellow", "purple", "orange")
SHAPES = ("ball", "square", "triangle")
MOTIONS = ("moving left", "moving right", "moving up", "moving down", "bouncing", "growing", "shrinking")
BACKGROUNDS = ("black", "white", "gray")
POLL_S = 0.05


def prompts(n: int) -> list[str]:
    """``n`` distinct shapes-world prompts (distinct for n ≤ 42: colour and motion cycle with periods 6 and 7)."""
    return [f"a {('big', 'small')[i % 2]} {COLOURS[i % 6]} {SHAPES[i % 3]} {MOTIONS[i % 7]} on a "
            f"{BACKGROUNDS[(i // 6) % 3]} background" for i in range(n)]


def cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class OtherLoad:
    """The share of the machine's CPU time that other processes used while the block ran: the machine's busy
    CPU seconds (/proc/stat, via psutil) less this process's and its waited-for descendants' (getrusage).
    Near 0 on a quiet machine; this benchmark's figures assume it is."""

    def __enter__(self) -> OtherLoad:
        self.busy, self.own, self.start = self._busy(), self._own(), time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        wall = time.perf_counter() - self.start
        other = (self._busy() - self.busy) - (self._own() - self.own)
        self.share = max(0.0, other) / (wall * (psutil.cpu_count() or 1))

    @staticmethod
    def _busy() -> float:
        t = psutil.cpu_times()
        return sum(getattr(t, f) for f in t._fields if f not in ("idle", "iowait", "guest", "guest_nice"))

    @staticmethod
    def _own() -> float:
        return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                      resource.getrusage(resource.RUSAGE_CHILDREN)))


# -- in process: batch sizes ---------------------------------------------------------------------------------

def call(pipe, batch: list[str], steps: int, seed: int) -> None:
    pipe(prompt=batch, num_inference_steps=steps, output_type="np",
         generator=[torch.Generator().manual_seed(seed + k) for k in range(len(batch))])


def batch_series(pipe, steps: int, rounds: int, threads: int) -> dict:
    """Videos per second at each batch size, ``threads`` torch threads, rounds interleaved over sizes."""
    torch.set_num_threads(threads)
    per_round = max(BATCH_SIZES)
    texts = prompts(per_round)
    for size in BATCH_SIZES:  # warm-up: every shape the timed calls will see, then one full-length call
        call(pipe, texts[:size], 2, 0)
    call(pipe, texts[:1], steps, 0)
    seconds: dict[int, list[float]] = {size: [] for size in BATCH_SIZES}
    shares = []
    for _ in range(rounds):
        with OtherLoad() as load:
            for size in BATCH_SIZES:
                start = time.perf_counter()
                for first in range(0, per_round, size):
                    call(pipe, texts[first:first + size], steps, first)
                seconds[size].append(time.perf_counter() - start)
        shares.append(round(load.share, 3))
        print(f"  threads {threads}: seconds per round {seconds}, other processes {load.share:.0%} of the CPU",
              file=sys.stderr)
    rows = {}
    for size in BATCH_SIZES:
        typical = statistics.median(seconds[size])
        rows[str(size)] = {"videos_per_s": round(per_round / typical, 3),
                           "seconds_per_video": round(typical / per_round, 3),
                           "round_seconds": [round(t, 2) for t in seconds[size]],
                           **memory_in_fresh_process(size, threads)}
    base = rows["1"]["videos_per_s"]
    for row in rows.values():
        row["ratio_to_batch_1"] = round(row["videos_per_s"] / base, 3)
    return {"threads": threads, "videos_per_round": per_round, "batch": rows, "other_cpu_share": shares}


def memory_in_fresh_process(size: int, threads: int) -> dict:
    """Peak memory of one call at ``size`` (2 steps: the step count does not change the peak) in a fresh
    process, so that no earlier, larger call has left memory behind in the allocator."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    proc = subprocess.run([sys.executable, __file__, "--memory-probe", str(size), "--threads", str(threads)],
                          env=env, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def memory_probe(size: int, threads: int) -> int:
    torch.set_num_threads(threads)
    pipe = load_pipeline("tiny-shapes")
    pipe.set_progress_bar_config(disable=True)
    with PeakMemory() as peak:
        call(pipe, prompts(size), 2, 0)
    print(json.dumps({"peak_rss_added_mb": round(peak.added_mb, 1), "peak_rss_mb": round(peak.peak / 2**20, 1)}))
    return 0


# -- the batch command: one process against two --------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(config: dict, prompts_file: Path, out: Path, steps: int) -> list[str]:
    tail = ["-m", "t2v.batch", "generate", str(prompts_file), "--out", str(out), "--steps", str(steps)]
    if config["processes"] == 1:
        return [sys.executable, *tail]
    accelerate = Path(sys.executable).with_name("accelerate")
    return [str(accelerate), "launch", "--multi_gpu", "--num_processes", str(config["processes"]),
            "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
            "--num_cpu_threads_per_process", str(config["threads"]), "--main_process_port", str(free_port()),
            *tail]


def watch(proc: subprocess.Popen) -> dict:
    """Poll the process tree until it exits: peak summed RSS, peak single-process RSS, most Python processes.

    A process counts from its second poll under the same name: a child caught between fork and exec (the
    command starting ffmpeg) still shows its parent's pages and name, and would count the parent twice."""
    root = psutil.Process(proc.pid)
    total = single = most = 0
    seen: dict[int, str] = {}
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        now: dict[int, tuple[str, int]] = {}
        for p in tree:
            try:
                now[p.pid] = (p.name(), p.memory_info().rss)
            except psutil.NoSuchProcess:
                pass
        stable = [(name, rss) for pid, (name, rss) in now.items() if seen.get(pid) == name or pid == root.pid]
        seen = {pid: name for pid, (name, _) in now.items()}
        total = max(total, sum(rss for _, rss in stable))
        single = max(single, max((rss for _, rss in stable), default=0))
        most = max(most, sum(1 for name, _ in stable if "python" in name.lower() or "accelerate" in name.lower()))
        time.sleep(POLL_S)
    return {"peak_rss_total_mb": round(total / 2**20, 1), "peak_rss_process_mb": round(single / 2**20, 1),
            "python_processes_seen": most}


def run_command(config: dict, prompts_file: Path, folder: Path, steps: int, items: int) -> dict:
    out = folder / "videos"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "OMP_NUM_THREADS": str(config["threads"]), "MKL_NUM_THREADS": str(config["threads"]),
           "ACCELERATE_USE_CPU": "true", "PYTHONUNBUFFERED": "1"}
    cmd = command(config, prompts_file, out, steps)
    folder.mkdir(parents=True)
    with open(folder / "stdout.log", "w") as stdout, open(folder / "stderr.log", "w") as stderr:
        with OtherLoad() as load:
            started, start = time.time(), time.perf_counter()
            proc = subprocess.Popen(cmd, env=env, cwd=folder, stdout=stdout, stderr=stderr, start_new_session=True)
            try:
                memory = watch(proc)
            finally:
                if proc.poll() is None:  # stopped midway (Ctrl-C, SIGTERM): take the command's processes along
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            wall = time.perf_counter() - start
    text = (folder / "stdout.log").read_text()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{(folder / 'stderr.log').read_text()[-3000:]}")
    summary = re.search(r"(\d+) generated, .*?(?: on (\d+) processes)?; videos in .*; took ([\d.]+) s", text)
    if summary is None:
        raise RuntimeError(f"no summary line in the output of {' '.join(cmd)}:\n{text[-2000:]}")
    generated, processes = int(summary.group(1)), int(summary.group(2) or 1)
    if generated != items or processes != config["processes"]:
        raise RuntimeError(f"asked for {items} items on {config['processes']} process(es), the command reports "
                           f"{generated} on {processes}")
    sidecars = [json.loads(p.read_text()) | {"_finished": p.stat().st_mtime} for p in out.glob("*.json")]
    finished = sorted(s["_finished"] - started for s in sidecars)
    k = config["processes"]  # from the k-th finish on, every process is past its first item
    steady = (len(finished) - k) / (finished[-1] - finished[k - 1]) if len(finished) > k else None
    return {"wall_s": wall, "command_s": float(summary.group(3)), "first_item_s": finished[0],
            "last_item_s": finished[-1], "steady_videos_per_s": steady,
            "mean_item_s": sum(s["seconds"] for s in sidecars) / len(sidecars), "other_cpu_share": load.share,
            **memory}


def command_series(configs: dict[str, dict], folder: Path, steps: int, items: int, repeats: int) -> dict:
    prompts_file = folder / "prompts.jsonl"
    prompts_file.write_text("".join(json.dumps({"prompt": p, "seed": i}) + "\n" for i, p in enumerate(prompts(items))))
    runs: dict[str, list[dict]] = {name: [] for name in configs}
    for repeat in range(repeats):
        order = list(configs) if repeat % 2 == 0 else list(reversed(configs))  # alternate: drift hits all alike
        for name in order:
            run = run_command(configs[name], prompts_file, folder / f"{name}-{repeat}", steps, items)
            runs[name].append(run)
            print(f"  {name} #{repeat}: wall {run['wall_s']:.1f} s, command {run['command_s']:.1f} s, first item "
                  f"{run['first_item_s']:.1f} s, steady {run['steady_videos_per_s'] or 0:.3f} videos/s, "
                  f"{run['peak_rss_total_mb']:.0f} MB, other processes {run['other_cpu_share']:.0%} of the CPU",
                  file=sys.stderr)
    rows = {}
    for name, config in configs.items():
        done = runs[name]
        n = items * len(done)
        steady = [r["steady_videos_per_s"] for r in done if r["steady_videos_per_s"] is not None]
        rows[name] = {
            "processes": config["processes"], "threads_per_process": config["threads"],
            "videos_per_s_wall": round(n / sum(r["wall_s"] for r in done), 3),
            "videos_per_s_command": round(n / sum(r["command_s"] for r in done), 3),
            "videos_per_s_steady": round(sum(steady) / len(steady), 3) if steady else None,
            "wall_s": [round(r["wall_s"], 1) for r in done],
            "command_s": [round(r["command_s"], 1) for r in done],
            "first_item_s": [round(r["first_item_s"], 1) for r in done],
            "mean_item_s": round(sum(r["mean_item_s"] for r in done) / len(done), 3),
            "peak_rss_total_mb": max(r["peak_rss_total_mb"] for r in done),
            "peak_rss_process_mb": max(r["peak_rss_process_mb"] for r in done),
            "python_processes_seen": max(r["python_processes_seen"] for r in done),
            "other_cpu_share": [round(r["other_cpu_share"], 3) for r in done],
        }
    return rows


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 4 steps, 6 items, 1 round and 1 repeat, no 1-thread in-process series")
    parser.add_argument("--out", type=Path, default=None,
                        help="keep the prompts file, the runs' videos, sidecars and logs here (default: a temp folder)")
    parser.add_argument("--steps", type=int, default=None, help="denoising steps (default 25; 4 with --quick)")
    parser.add_argument("--items", type=int, default=None,
                        help="prompts in the batch runs (default 32; 6 with --quick)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="runs of each batch command (default 3; 1 with --quick)")
    parser.add_argument("--rounds", type=int, default=None,
                        help=f"in-process rounds of {max(BATCH_SIZES)} videos per batch size, the median counts "
                             "(default 3; 1 with --quick)")
    parser.add_argument("--threads", type=int, default=cpus(),
                        help="threads of one process; two processes get half each (default: the CPUs usable here)")
    parser.add_argument("--memory-probe", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_probe is not None:
        return memory_probe(args.memory_probe, args.threads)
    steps = args.steps or (4 if args.quick else 25)
    items = args.items or (6 if args.quick else 32)
    repeats = args.repeats or (1 if args.quick else 3)
    rounds = args.rounds or (1 if args.quick else 3)
    if args.threads < 2 or args.threads % 2:
        parser.error(f"--threads must be an even number >= 2 (two processes get half each), got {args.threads}")
    if items < 4:
        parser.error(f"--items must be at least 4, got {items}")

    # a SIGTERM (timeout, kill) unwinds like Ctrl-C: the temporary folder is removed, the running command stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    report: dict = {"model": "tiny-shapes", "steps": steps, "cpus": cpus(), "torch": torch.__version__,
                    "machine": platform.processor() or platform.machine()}
    pipe = load_pipeline("tiny-shapes")
    pipe.set_progress_bar_config(disable=True)
    report.update(size=32, frames=int(pipe.config.get("native_num_frames")),
                  guidance=float(pipe.config.get("native_guidance_scale")))
    print("in process: batch sizes", file=sys.stderr)
    main_series = batch_series(pipe, steps, rounds, args.threads)
    report["in_process"] = main_series
    report["videos_per_s"] = {size: row["videos_per_s"] for size, row in main_series["batch"].items()}
    report["batch_ratio"] = {size: row["ratio_to_batch_1"] for size, row in main_series["batch"].items()}
    if not args.quick:
        report["in_process_one_thread"] = batch_series(pipe, steps, rounds, 1)
    torch.set_num_threads(args.threads)
    del pipe

    configs = {"one_process": {"processes": 1, "threads": args.threads},
               "two_processes": {"processes": 2, "threads": args.threads // 2},
               "one_process_one_thread": {"processes": 1, "threads": 1}}
    print("the batch command", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="t2v-throughput-") as tmp:
        folder = Path(tmp) if args.out is None else args.out
        if args.out is not None:
            for name in configs:  # a rerun into the same folder starts fresh (the command would skip done items)
                for old in folder.glob(f"{name}-*"):
                    shutil.rmtree(old)
            folder.mkdir(parents=True, exist_ok=True)
        rows = command_series(configs, folder, steps, items, repeats)
    one, two, single = rows["one_process"], rows["two_processes"], rows["one_process_one_thread"]
    report["batch_command"] = {
        "items": items, "repeats": repeats, **rows,
        "timing": "wall: whole command incl. interpreter start, imports, accelerate launcher + gloo group, model "
                  "load, generation, mp4+sidecar writes; command: the command's own 'took' (model load + "
                  "generation + writes); steady: items after every process's first finish / time to the last "
                  "finish (sidecar mtimes)",
        "memory": "psutil poll of the command's process tree every 50 ms: peak summed RSS (shared pages counted "
                  "per process) and peak single-process RSS; in process: benchmarks/measure.py PeakMemory",
        "launch": "python -m t2v.batch generate; accelerate launch --multi_gpu --num_processes 2 (on CPU: "
                  "ACCELERATE_USE_CPU=true; `--cpu --num_processes 2` starts one process only)",
    }
    report["threads"] = {"one_process": args.threads, "two_processes": f"2 x {args.threads // 2}",
                         "pinned_by": "OMP_NUM_THREADS, MKL_NUM_THREADS, --num_cpu_threads_per_process; "
                                      "torch.set_num_threads in process"}
    report["two_process_ratio"] = ratio(two["videos_per_s_wall"], one["videos_per_s_wall"])
    report["two_process_ratio_command"] = ratio(two["videos_per_s_command"], one["videos_per_s_command"])
    report["two_process_ratio_steady"] = ratio(two["videos_per_s_steady"], one["videos_per_s_steady"])
    report["two_process_vs_one_thread_ratio_steady"] = ratio(two["videos_per_s_steady"], single["videos_per_s_steady"])
    report["two_threads_vs_one_ratio_steady"] = ratio(one["videos_per_s_steady"], single["videos_per_s_steady"])
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
