package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// cgroupCPU is a clock of the CPU time of the cgroup process pid is in:
// cgroup v2's cpu.stat usage_usec, or v1's cpuacct.usage; false when
// neither can be read.
func cgroupCPU(pid int) (func() time.Duration, bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cgroup"))
	if err != nil {
		return nil, false
	}
	var clock func() time.Duration
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() && clock == nil {
		// hierarchy-ID:controllers:path
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch controllers := strings.Split(parts[1], ","); {
		case parts[0] == "0" && parts[1] == "":
			clock = fileClock(filepath.Join("/sys/fs/cgroup", parts[2], "cpu.stat"), v2Usage)
		case slices.Contains(controllers, "cpuacct"):
			for _, dir := range []string{"cpuacct", "cpu,cpuacct", parts[1]} {
				if clock = fileClock(filepath.Join("/sys/fs/cgroup", dir, parts[2], "cpuacct.usage"), v1Usage); clock != nil {
					break
				}
			}
		}
	}
	return clock, clock != nil
}

// fileClock is a clock read from the file at path by parse; nil when the
// file cannot be read or parsed now.
func fileClock(path string, parse func(string) (time.Duration, bool)) func() time.Duration {
	read := func() (time.Duration, bool) {
		b, err := os.ReadFile(path)
		if err != nil {
			return 0, false
		}
		return parse(string(b))
	}
	if _, ok := read(); !ok {
		return nil
	}
	return func() time.Duration { d, _ := read(); return d }
}

// v1Usage parses cpuacct.usage (nanoseconds).
func v1Usage(s string) (time.Duration, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return time.Duration(n), err == nil
}

// v2Usage parses cpu.stat's usage_usec.
func v2Usage(s string) (time.Duration, bool) {
	for _, line := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(line, "usage_usec "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return time.Duration(n) * time.Microsecond, err == nil
		}
	}
	return 0, false
}
