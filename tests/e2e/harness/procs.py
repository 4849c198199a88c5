"""Process helpers: CPU and memory of a running process read from /proc."""
import os


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid):
    """User+system CPU seconds used so far by pid (all threads)."""
    with open(f"/proc/{pid}/stat") as f:
        # The command name may contain spaces; fields restart after the last ')'.
        fields = f.read().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLOCK_TICKS


def rss_bytes(pid):
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE_SIZE


def thread_count(pid):
    return len(os.listdir(f"/proc/{pid}/task"))
