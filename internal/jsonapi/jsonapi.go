// Package jsonapi holds what imds's own signed JSON endpoints on the control
// listener (events, faults, audit) have in common: the signature check that
// opens every call, the JSON writer, the {"code", "message"} error answer
// and the split of a path into a collection and its items. It exists so
// that the endpoints answer alike and a fix to one of those steps reaches
// all of them; what an endpoint does with a request stays in its package.
package jsonapi

import (
	"encoding/json"
	"net/http"
	"strings"
)

// Error is an error answer, sent as {"code", "message"} plus "field" when
// one field of a request is at fault. Status is the HTTP status and is not
// part of the body.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// WriteError sends e with its status.
func WriteError(w http.ResponseWriter, e *Error) { WriteJSON(w, e.Status, e) }

// WriteJSON sends v indented by two spaces and ended by a newline. v must
// be made of plain structs, maps and slices, which cannot fail to marshal.
// Headers the caller set before, such as Location, are kept.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.MarshalIndent(v, "", "  ")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// MethodNotAllowed answers 405 and names the methods allowed, in the Allow
// header and in the message; allow is a list such as "GET, HEAD".
func MethodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	WriteError(w, &Error{Status: http.StatusMethodNotAllowed, Code: "MethodNotAllowed",
		Message: "allowed methods: " + allow})
}

// NoEndpoint answers 404 for a path below an endpoint that names nothing.
func NoEndpoint(w http.ResponseWriter, r *http.Request) {
	WriteError(w, &Error{Status: http.StatusNotFound, Code: "NotFound", Message: "no such endpoint: " + r.URL.Path})
}

// Split places path below the collection at prefix: it returns "" for the
// collection itself and the rest for prefix/{item}. ok is false for any
// other path: prefix + "/", or one that only begins with prefix's letters
// (prefix + "x"). The item may hold further slashes; an endpoint that does
// not nest checks for them.
func Split(path, prefix string) (item string, ok bool) {
	rest, ok := strings.CutPrefix(path, prefix)
	switch {
	case !ok || rest != "" && (rest[0] != '/' || rest == "/"):
		return "", false
	case rest == "":
		return "", true
	}
	return rest[1:], true
}
