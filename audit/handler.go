package audit

import (
	"net/http"

	"github.com/imds-dev/imds/internal/jsonapi"
)

// Handler serves the report as JSON at GET /imds/audit on the control
// listener. authn checks the request's signature, as
// (*control.Server).Authenticate does; its *control.AuthError becomes the
// answer's status and code. Every answer, refusals included, is JSON.
func Handler(rec *Recorder, authn func(*http.Request) (string, []byte, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, err := authn(r); err != nil {
			e := jsonapi.Refusal(err)
			if e == nil {
				e = &jsonapi.Error{Status: http.StatusInternalServerError, Code: "InternalError",
					Message: "The request could not be authenticated."}
			}
			writeError(w, e)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, &jsonapi.Error{Status: http.StatusMethodNotAllowed, Code: "UnsupportedOperation",
				Message: "The audit is read with GET."})
			return
		}
		writeJSON(w, http.StatusOK, rec.Report())
	})
}

// errorBody is the shape of the audit endpoint's refusals: the code and
// message wrapped in "error", where the events and fault endpoints answer
// with the bare jsonapi.Error. Callers of /imds/audit read this shape.
type errorBody struct {
	Error jsonapi.Error `json:"error"`
}

func writeError(w http.ResponseWriter, e *jsonapi.Error) {
	writeJSON(w, e.Status, errorBody{Error: *e})
}

// writeJSON is jsonapi.WriteJSON with caching turned off: the report
// changes with every IMDSv1 request, so a stored copy is soon wrong.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Cache-Control", "no-store")
	jsonapi.WriteJSON(w, status, v)
}
