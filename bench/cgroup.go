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
			clock = v2Usage(filepath.Join("/sys/fs/cgroup", parts[2], "cpu.stat"))
		case slices.Contains(controllers, "cpuacct"):
			for _, dir := range []string{"cpuacct", "cpu,cpuacct", parts[1]} {
				if clock = v1Usage(filepath.Join("/sys/fs/cgroup", dir, parts[2], "cpuacct.usage")); clock != nil {
					break
				}
			}
		}
	}
	return clock, clock != nil
}

// v1Usage reads cpuacct.usage (nanoseconds); nil when it cannot.
func v1Usage(path string) func() time.Duration {
	read := func() (time.Duration, bool) {
		b, err := os.ReadFile(path)
		if err != nil {
			return 0, false
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		return time.Duration(n), err == nil
	}
	if _, ok := read(); !ok {
		return nil
	}
	return func() time.Duration { d, _ := read(); return d }
}

// v2Usage reads cpu.stat's usage_usec; nil when it cannot.
func v2Usage(path string) func() time.Duration {
	read := func() (time.Duration, bool) {
		b, err := os.ReadFile(path)
		if err != nil {
			return 0, false
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "usage_usec "); ok {
				n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				return time.Duration(n) * time.Microsecond, err == nil
			}
		}
		return 0, false
	}
	if _, ok := read(); !ok {
		return nil
	}
	return func() time.Duration { d, _ := read(); return d }
}
