package fault

import (
	"errors"
	"net/http"
	"time"

	"github.com/imds-dev/imds/fault/rule"
	"github.com/imds-dev/imds/internal/jsonapi"
)

// Path is where the fault endpoints live on the control listener.
const Path = "/imds/faults"

// Authenticator checks the SigV4 signature of a control request and hands
// back its body; *control.Server is one. Failures are *control.AuthError.
type Authenticator = jsonapi.Authenticator

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

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := jsonapi.Authenticate(w, r, h.auth)
	if !ok {
		return
	}

	id, ok := jsonapi.Split(r.URL.Path, Path)
	switch {
	case !ok:
		jsonapi.NoEndpoint(w, r)
	case id == "":
		h.serveCollection(w, r, body)
	default:
		h.serveRule(w, r, id)
	}
}

// serveCollection answers /imds/faults.
func (h *Handler) serveCollection(w http.ResponseWriter, r *http.Request, body []byte) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		jsonapi.WriteJSON(w, http.StatusOK, map[string][]Entry{"faults": h.inj.List()})
	case http.MethodPost:
		h.add(w, body)
	case http.MethodDelete:
		jsonapi.WriteJSON(w, http.StatusOK, map[string]int{"removed": h.inj.Clear()})
	default:
		jsonapi.MethodNotAllowed(w, "GET, HEAD, POST, DELETE")
	}
}

// serveRule answers /imds/faults/{id}.
func (h *Handler) serveRule(w http.ResponseWriter, r *http.Request, id string) {
	if r.Method != http.MethodDelete {
		jsonapi.MethodNotAllowed(w, "DELETE")
		return
	}
	if err := h.inj.Remove(id); err != nil {
		jsonapi.WriteError(w, &jsonapi.Error{Status: http.StatusNotFound, Code: "FaultRuleNotFound",
			Message: "no fault rule " + id})
		return
	}
	jsonapi.WriteJSON(w, http.StatusOK, map[string]int{"removed": 1})
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
		jsonapi.WriteError(w, &jsonapi.Error{Status: http.StatusBadRequest, Code: "InvalidFaultRule",
			Message: fe.Error(), Field: fe.Field})
		return
	case errors.Is(err, ErrDuplicate):
		jsonapi.WriteError(w, &jsonapi.Error{Status: http.StatusConflict, Code: "FaultRuleExists",
			Message: err.Error(), Field: "id"})
		return
	case errors.Is(err, ErrTooMany):
		jsonapi.WriteError(w, &jsonapi.Error{Status: http.StatusConflict, Code: "FaultRuleLimitExceeded",
			Message: err.Error()})
		return
	case err != nil:
		jsonapi.WriteError(w, &jsonapi.Error{Status: http.StatusBadRequest, Code: "InvalidFaultRule",
			Message: err.Error()})
		return
	}
	e := Entry{Spec: r.Spec()}
	if r.Count > 0 {
		e.Remaining = &r.Count
	}
	w.Header().Set("Location", Path+"/"+r.ID)
	jsonapi.WriteJSON(w, http.StatusCreated, e)
}
