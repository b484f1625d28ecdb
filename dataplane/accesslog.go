package dataplane

import (
	"log/slog"
	"net/http"
	"time"
)

// logAccess writes one access-log line naming the method, path, status,
// duration, source, instance, whether a token header came, the IMDS
// version and the refusal. The token itself
// never reaches the log, nor does any header value.
func (s *Server) logAccess(r *http.Request, out Outcome, took time.Duration) {
	_, hasToken := r.Header[hdrToken]
	instance := ""
	if out.Instance != nil {
		instance = out.Instance.ID
	}
	s.accessLog.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", out.Status),
		slog.Duration("duration", took),
		slog.String("source", r.RemoteAddr),
		slog.String("instance", instance),
		slog.Bool("token", hasToken),
		slog.Int("imds_version", out.Version),
		slog.String("refusal", out.Refusal),
	)
}
