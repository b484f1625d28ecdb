package dataplane

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// anomalyLog writes warnings about requests that should not happen (an
// unknown source address, a socket that refused the hop limit) at most once
// per second per kind, so a misbehaving caller cannot flood the log. Lines
// held back are counted in the next line written.
type anomalyLog struct {
	logger *slog.Logger

	mu         sync.Mutex
	last       map[string]time.Time // keyed by anomaly kind
	suppressed map[string]int       // keyed by anomaly kind
}

func newAnomalyLog(logger *slog.Logger) *anomalyLog {
	return &anomalyLog{logger: logger, last: map[string]time.Time{}, suppressed: map[string]int{}}
}

// warn logs msg for kind unless a line of that kind was written less than a
// second ago.
func (a *anomalyLog) warn(kind, msg string, attrs ...slog.Attr) {
	if a == nil || a.logger == nil {
		return
	}
	now := time.Now()
	a.mu.Lock()
	if now.Sub(a.last[kind]) < time.Second {
		a.suppressed[kind]++
		a.mu.Unlock()
		return
	}
	a.last[kind] = now
	n := a.suppressed[kind]
	a.suppressed[kind] = 0
	a.mu.Unlock()

	if n > 0 {
		attrs = append(attrs, slog.Int("suppressed", n))
	}
	a.logger.LogAttrs(context.Background(), slog.LevelWarn, msg, attrs...)
}
