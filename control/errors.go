package control

import (
	"fmt"
	"net/http"
	"strings"
)

// Error codes EC2 uses, as clients match on them.
const (
	codeAuthFailure          = "AuthFailure"
	codeDryRun               = "DryRunOperation"
	codeIncompleteSignature  = "IncompleteSignature"
	codeInternal             = "InternalError"
	codeInvalidAction        = "InvalidAction"
	codeInvalidID            = "InvalidID"
	codeInstanceMalformed    = "InvalidInstanceID.Malformed"
	codeInstanceNotFound     = "InvalidInstanceID.NotFound"
	codeIncorrectState       = "IncorrectInstanceState"
	codeInvalidCombination   = "InvalidParameterCombination"
	codeInvalidValue         = "InvalidParameterValue"
	codeMalformedQuery       = "MalformedQueryString"
	codeMissingAuth          = "MissingAuthenticationToken"
	codeMissingParameter     = "MissingParameter"
	codeNoSuchVersion        = "NoSuchVersion"
	codeRequestExpired       = "RequestExpired"
	codeSignatureMismatch    = "SignatureDoesNotMatch"
	codeTagLimitExceeded     = "TagLimitExceeded"
	codeTooLarge             = "RequestEntityTooLarge"
	codeUnavailable          = "Unavailable"
	codeUnknownParameter     = "UnknownParameter"
	codeUnsupportedOperation = "UnsupportedOperation"
)

// statusOf maps a code to the HTTP status EC2 answers it with. Codes not
// listed are client errors, 400.
var statusOf = map[string]int{
	codeAuthFailure:       http.StatusUnauthorized,
	codeDryRun:            http.StatusPreconditionFailed,
	codeInternal:          http.StatusInternalServerError,
	codeMissingAuth:       http.StatusForbidden,
	codeSignatureMismatch: http.StatusForbidden,
	codeTooLarge:          http.StatusRequestEntityTooLarge,
	codeUnavailable:       http.StatusServiceUnavailable,
}

// apiError is a refusal in EC2's terms: a code clients switch on and a
// message for people. It is the only error type handlers return to callers;
// anything else becomes InternalError with a generic message.
type apiError struct {
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// status returns the HTTP status of the answer.
func (e *apiError) status() int {
	if s, ok := statusOf[e.Code]; ok {
		return s
	}
	return http.StatusBadRequest
}

func errorf(code, format string, args ...any) *apiError {
	return &apiError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Shapes of messages that several actions share.

func errMissing(name string) *apiError {
	return errorf(codeMissingParameter, "The request must contain the parameter %s", name)
}

func errBadValue(name, value string) *apiError {
	return errorf(codeInvalidValue, "Value (%s) for parameter %s is invalid.", value, name)
}

func errNotFound(ids []string) *apiError {
	if len(ids) == 1 {
		return errorf(codeInstanceNotFound, "The instance ID '%s' does not exist", ids[0])
	}
	return errorf(codeInstanceNotFound, "The instance IDs '%s' do not exist", strings.Join(ids, ", "))
}

func errMalformedID(id string) *apiError {
	return errorf(codeInstanceMalformed, "Invalid id: %q", id)
}

var errDryRun = &apiError{Code: codeDryRun, Message: "Request would have succeeded, but DryRun flag is set."}
