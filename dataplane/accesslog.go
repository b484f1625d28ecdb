package dataplane

import (
	"log/slog"
	"net/http"
	"time"
)

// loggedWriter records the status and size of an answer for the access log.
type loggedWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *loggedWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *loggedWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Flush lets the token handler push its answer out under the hop limit.
func (w *loggedWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController access to the underlying writer.
func (w *loggedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// serveLogged serves r and then writes one access-log line naming the
// method, path, status, size, duration, source and whether a token was
// presented. The token itself never reaches the log.
func (s *Server) serveLogged(w http.ResponseWriter, r *http.Request) {
	lw := &loggedWriter{ResponseWriter: w}
	start := time.Now()
	s.serve(lw, r)
	_, hasToken := r.Header[hdrToken]
	s.accessLog.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", lw.status),
		slog.Int("bytes", lw.bytes),
		slog.Duration("duration", time.Since(start)),
		slog.String("source", r.RemoteAddr),
		slog.Bool("token", hasToken),
	)
}
