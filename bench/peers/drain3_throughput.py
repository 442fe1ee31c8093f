"""Drain3 beside logflow in `npm run bench:parse`: mine one raw log file with Drain3 and print
{"lines", "seconds", "templates", "max_rss_mib"} as JSON. Whole process as a user runs it: read
the file, split the LogHub header with the format (as logparser does), mask and mine each
content with Drain3 configured with logparser's published Drain settings for the system.
Usage: python3 drain3_throughput.py DRAIN3_CHECKOUT SYSTEM FORMAT FILE
(Drain3 itself is not part of this repository: give a checkout of logpai/Drain3.)"""
import json, re, resource, sys, time

checkout, system, log_format, path = sys.argv[1:5]
sys.path.insert(0, checkout)
from drain3 import TemplateMiner  # noqa: E402
from drain3.masking import MaskingInstruction  # noqa: E402
from drain3.template_miner_config import TemplateMinerConfig  # noqa: E402

# logparser's published Drain settings (logparser/Drain/benchmark.py): masks, st, depth.
SETTINGS = {
    "HDFS": ([r"blk_-?\d+", r"(\d+\.){3}\d+(:\d+)?"], 0.5, 4),
    "BGL": ([r"core\.\d+"], 0.5, 4),
}


def format_regex(fmt):
    """A LogHub format such as `<Date> <Time> <Level>: <Content>` as a regex with named groups."""
    out = ""
    for i, part in enumerate(re.split(r"(<[^<>]+>)", fmt)):
        if i % 2 == 0:
            out += re.sub(r" +", r"\\s+", re.escape(part).replace("\\ ", " "))
        else:
            out += "(?P<%s>.*?)" % part.strip("<>")
    return re.compile("^" + out + "$")


masks, st, depth = SETTINGS[system]
config = TemplateMinerConfig()
config.drain_sim_th = st
config.drain_depth = depth
config.masking_instructions = [MaskingInstruction(m, "*") for m in masks]
config.mask_prefix, config.mask_suffix = "<", ">"
miner = TemplateMiner(config=config)
header = format_regex(log_format)
t0 = time.perf_counter()
lines = 0
with open(path, encoding="utf-8", errors="replace") as f:
    for line in f:
        lines += 1
        m = header.match(line.strip())
        if m is not None:
            miner.add_log_message(m.group("Content"))
seconds = time.perf_counter() - t0


def peak_rss_mib():
    """This process image's peak RSS: /proc's VmHWM (getrusage's maxrss can carry the parent's over exec)."""
    try:
        with open("/proc/self/status") as status:
            for row in status:
                if row.startswith("VmHWM:"):
                    return int(row.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


print(json.dumps({
    "lines": lines,
    "seconds": seconds,
    "templates": len(miner.drain.clusters),
    "max_rss_mib": peak_rss_mib(),
}))
