package audit

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/imds-dev/imds/control"
)

// Handler serves the report as JSON at GET /imds/audit on the control
// listener. authn checks the request's signature, as
// (*control.Server).Authenticate does; its *control.AuthError becomes the
// answer's status and code. Every answer, refusals included, is JSON.
func Handler(rec *Recorder, authn func(*http.Request) (string, []byte, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, err := authn(r); err != nil {
			var ae *control.AuthError
			if errors.As(err, &ae) {
				writeError(w, ae.Status, ae.Code, ae.Message)
				return
			}
			writeError(w, http.StatusInternalServerError, "InternalError", "The request could not be authenticated.")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "UnsupportedOperation", "The audit is read with GET.")
			return
		}
		writeJSON(w, http.StatusOK, rec.Report())
	})
}

// errorBody is the shape of every refusal on imds's JSON endpoints.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	var b errorBody
	b.Error.Code, b.Error.Message = code, message
	writeJSON(w, status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
