package jsonapi

import (
	"errors"
	"net/http"

	"github.com/imds-dev/imds/control"
)

// Authenticator checks the SigV4 signature of a control request and hands
// back its body; *control.Server is one. Failures are *control.AuthError.
type Authenticator interface {
	Authenticate(r *http.Request) (accessKeyID string, body []byte, err error)
}

// Authenticate checks r with auth and returns the request's body. When the
// check fails it answers the refusal itself and reports false: a
// *control.AuthError keeps its status, code and message, and any other
// failure is 403 AuthFailure with the error's text.
func Authenticate(w http.ResponseWriter, r *http.Request, auth Authenticator) (body []byte, ok bool) {
	_, body, err := auth.Authenticate(r)
	if err == nil {
		return body, true
	}
	e := Refusal(err)
	if e == nil {
		e = &Error{Status: http.StatusForbidden, Code: "AuthFailure", Message: err.Error()}
	}
	WriteError(w, e)
	return nil, false
}

// Refusal returns the answer to a signature check that failed with a
// *control.AuthError, or nil when err is not one.
func Refusal(err error) *Error {
	var ae *control.AuthError
	if !errors.As(err, &ae) {
		return nil
	}
	return &Error{Status: ae.Status, Code: ae.Code, Message: ae.Message}
}
