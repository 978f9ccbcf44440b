package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/tive-dev/tive/harness/atomic"
)

// lockInfo is the content of a store's LOCK file.
type lockInfo struct {
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	Beat    time.Time `json:"heartbeat"` // refreshed every lockBeat while held
}

const (
	lockBeat  = 30 * time.Second
	lockStale = 5 * time.Minute // a lock not refreshed for this long is stale, whatever its host
)

// Lock is a held store lock; Unlock releases it.
type Lock struct {
	path string
	info lockInfo
	done chan struct{} // closed by Unlock
	beat chan struct{} // closed when the heartbeat has stopped
}

// Lock takes the store's lock, waiting while another live run holds it
// (reporting the holder to w once) and taking over a stale one: same host and
// the holder's process is gone, or a heartbeat older than five minutes.
func (s *Store) Lock(w io.Writer) (*Lock, error) {
	host, _ := os.Hostname()
	path := filepath.Join(s.Dir, "LOCK")
	told := false
	for {
		now := time.Now().UTC()
		l := &Lock{path: path, info: lockInfo{Host: host, PID: os.Getpid(), Started: now, Beat: now}, done: make(chan struct{}), beat: make(chan struct{})}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			b, _ := json.Marshal(l.info)
			_, err = f.Write(b)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				os.Remove(path)
				return nil, err
			}
			go l.heartbeat()
			return l, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		b, rerr := os.ReadFile(path)
		var held lockInfo
		if rerr == nil && json.Unmarshal(b, &held) == nil && !held.stale(host) {
			if !told && w != nil {
				fmt.Fprintf(w, "waiting for the store lock %s, held by pid %d on %s since %s\n", path, held.PID, held.Host, held.Started.Format(time.RFC3339))
				told = true
			}
			time.Sleep(200 * time.Millisecond)
			continue
		}
		if rerr == nil && len(b) == 0 {
			// The holder may be between create and write: give it a moment.
			if st, err := os.Stat(path); err == nil && time.Since(st.ModTime()) < 2*time.Second {
				time.Sleep(100 * time.Millisecond)
				continue
			}
		}
		if w != nil {
			fmt.Fprintf(w, "removing stale store lock %s (pid %d on %s)\n", path, held.PID, held.Host)
		}
		os.Remove(path)
	}
}

func (li lockInfo) stale(host string) bool {
	if time.Since(li.Beat) > lockStale {
		return true
	}
	if li.Host != host {
		return false
	}
	err := syscall.Kill(li.PID, 0)
	return errors.Is(err, syscall.ESRCH)
}

func (l *Lock) heartbeat() {
	t := time.NewTicker(lockBeat)
	defer t.Stop()
	defer close(l.beat)
	for {
		select {
		case <-l.done:
			return
		case <-t.C:
			l.info.Beat = time.Now().UTC()
			b, _ := json.Marshal(l.info)
			atomic.WriteFile(l.path, b, 0o644)
		}
	}
}

// Unlock releases the lock.
func (l *Lock) Unlock() error {
	close(l.done)
	<-l.beat
	return os.Remove(l.path)
}
