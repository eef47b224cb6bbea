package reconcile

import (
	"testing"
	"time"
)

// waitUntil polls cond until it holds, failing the test after a deadline
// far beyond what any pass here takes: it waits for something to happen,
// never for time to pass.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// refs is how many callers hold or wait for key's lock.
func (k *keyedMutex) refs(key string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	if l := k.locks[key]; l != nil {
		return l.refs
	}
	return 0
}
