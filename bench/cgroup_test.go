package main

import (
	"os"
	"testing"
	"time"
)

func TestCgroupCPUCountsThisProcessWork(t *testing.T) {
	clock, ok := cgroupCPU(os.Getpid())
	if !ok {
		t.Skip("this host's cgroup CPU counters are not readable here")
	}
	before := clock()
	for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
	}
	if used := clock() - before; used < 20*time.Millisecond {
		t.Fatalf("the cgroup counted %v for 50 ms of spinning", used)
	}
}

func TestCgroupCPUOfNoProcess(t *testing.T) {
	if _, ok := cgroupCPU(-1); ok {
		t.Fatal("a clock for pid -1")
	}
}
