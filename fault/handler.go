package fault

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/imds-dev/imds/control"
	"github.com/imds-dev/imds/fault/rule"
)

// Path is where the fault endpoints live on the control listener.
const Path = "/imds/faults"

// Authenticator checks the SigV4 signature of a control request and hands
// back its body; *control.Server is one. Failures are *control.AuthError.
type Authenticator interface {
	Authenticate(r *http.Request) (accessKeyID string, body []byte, err error)
}

// Handler serves the fault endpoints of the control listener, every call
// signed with the control credentials:
//
//	GET    /imds/faults       the rules in force, as {"faults": [Entry...]}
//	POST   /imds/faults       add the rule in the body (a rule.Spec); 201 and its Entry
//	DELETE /imds/faults       remove every rule; {"removed": n}
//	DELETE /imds/faults/{id}  remove one rule; {"removed": 1}
//
// Errors are JSON objects {"code", "message"} plus "field" when one field of
// a rule is at fault; bad input gets a 4xx, never a 5xx.
type Handler struct {
	inj  *Injector
	auth Authenticator
	now  func() time.Time
}

// NewHandler returns the endpoints for inj, checked by auth. Mount it on
// the control mux at both Path and Path + "/".
func NewHandler(inj *Injector, auth Authenticator) *Handler {
	return &Handler{inj: inj, auth: auth, now: inj.now}
}

// apiError is an error answer.
type apiError struct {
	status  int
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, body, err := h.auth.Authenticate(r)
	if err != nil {
		var ae *control.AuthError
		if !errors.As(err, &ae) {
			ae = &control.AuthError{Status: http.StatusForbidden, Code: "AuthFailure", Message: err.Error()}
		}
		writeError(w, &apiError{status: ae.Status, Code: ae.Code, Message: ae.Message})
		return
	}

	rest, ok := strings.CutPrefix(r.URL.Path, Path)
	switch {
	case !ok || rest != "" && (rest[0] != '/' || rest == "/"):
		writeError(w, &apiError{status: http.StatusNotFound, Code: "NotFound", Message: "no such endpoint: " + r.URL.Path})
	case rest == "":
		h.serveCollection(w, r, body)
	default:
		h.serveRule(w, r, rest[1:])
	}
}

// serveCollection answers /imds/faults.
func (h *Handler) serveCollection(w http.ResponseWriter, r *http.Request, body []byte) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		writeJSON(w, http.StatusOK, map[string][]Entry{"faults": h.inj.List()})
	case http.MethodPost:
		h.add(w, body)
	case http.MethodDelete:
		writeJSON(w, http.StatusOK, map[string]int{"removed": h.inj.Clear()})
	default:
		methodNotAllowed(w, "GET, HEAD, POST, DELETE")
	}
}

// serveRule answers /imds/faults/{id}.
func (h *Handler) serveRule(w http.ResponseWriter, r *http.Request, id string) {
	if r.Method != http.MethodDelete {
		methodNotAllowed(w, "DELETE")
		return
	}
	if err := h.inj.Remove(id); err != nil {
		writeError(w, &apiError{status: http.StatusNotFound, Code: "FaultRuleNotFound", Message: "no fault rule " + id})
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"removed": 1})
}

func (h *Handler) add(w http.ResponseWriter, body []byte) {
	now := h.now()
	r, err := rule.Parse(body, now)
	if err == nil {
		r, err = h.inj.Add(r)
	}
	var fe *rule.FieldError
	switch {
	case errors.As(err, &fe):
		writeError(w, &apiError{status: http.StatusBadRequest, Code: "InvalidFaultRule", Message: fe.Error(), Field: fe.Field})
		return
	case errors.Is(err, ErrDuplicate):
		writeError(w, &apiError{status: http.StatusConflict, Code: "FaultRuleExists", Message: err.Error(), Field: "id"})
		return
	case errors.Is(err, ErrTooMany):
		writeError(w, &apiError{status: http.StatusConflict, Code: "FaultRuleLimitExceeded", Message: err.Error()})
		return
	case err != nil:
		writeError(w, &apiError{status: http.StatusBadRequest, Code: "InvalidFaultRule", Message: err.Error()})
		return
	}
	e := Entry{Spec: r.Spec()}
	if r.Count > 0 {
		e.Remaining = &r.Count
	}
	w.Header().Set("Location", Path+"/"+r.ID)
	writeJSON(w, http.StatusCreated, e)
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, &apiError{status: http.StatusMethodNotAllowed, Code: "MethodNotAllowed",
		Message: "allowed methods: " + allow})
}

func writeError(w http.ResponseWriter, e *apiError) { writeJSON(w, e.status, e) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.MarshalIndent(v, "", "  ") // only plain structs, maps and slices: cannot fail
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
