package store

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeLock(t *testing.T, dir string, li lockInfo) {
	t.Helper()
	b, _ := json.Marshal(li)
	if err := os.WriteFile(filepath.Join(dir, "LOCK"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLockRecoversStaleLocks(t *testing.T) {
	host, _ := os.Hostname()
	// A process that has exited: its pid is free.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := cmd.Process.Pid
	now := time.Now().UTC()
	for _, tc := range []struct {
		name string
		info lockInfo
	}{
		{"dead pid on this host", lockInfo{Host: host, PID: dead, Started: now, Beat: now}},
		{"no heartbeat for an hour, other host", lockInfo{Host: "elsewhere", PID: 1, Started: now.Add(-2 * time.Hour), Beat: now.Add(-time.Hour)}},
	} {
		s, err := Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		writeLock(t, s.Dir, tc.info)
		var msg bytes.Buffer
		l, err := s.Lock(&msg)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !strings.Contains(msg.String(), "removing stale store lock") {
			t.Errorf("%s: message %q", tc.name, msg.String())
		}
		b, _ := os.ReadFile(filepath.Join(s.Dir, "LOCK"))
		var got lockInfo
		json.Unmarshal(b, &got)
		if got.PID != os.Getpid() {
			t.Errorf("%s: lock holds pid %d, want ours", tc.name, got.PID)
		}
		l.Unlock()
		if _, err := os.Stat(filepath.Join(s.Dir, "LOCK")); !os.IsNotExist(err) {
			t.Errorf("%s: LOCK left after Unlock", tc.name)
		}
	}
}

func TestLockWaitsForALiveHolder(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.Lock(nil)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *Lock)
	var msg bytes.Buffer
	go func() {
		l, _ := s.Lock(&msg)
		got <- l
	}()
	select {
	case <-got:
		t.Fatal("a second Lock succeeded while the first is held")
	case <-time.After(500 * time.Millisecond):
	}
	first.Unlock()
	select {
	case l := <-got:
		l.Unlock()
	case <-time.After(5 * time.Second):
		t.Fatal("the second Lock did not get the lock after Unlock")
	}
	if !strings.Contains(msg.String(), "waiting for the store lock") {
		t.Errorf("waiter said %q", msg.String())
	}
}
