package control

import (
	"encoding/base64"
	"sort"
	"strings"
)

// filter is one Filter.N: a name and the values any of which may match.
type filter struct {
	Name   string
	Values []string
}

// parseFilters reads Filter.N.Name and Filter.N.Value.M, refusing names
// that known does not accept. A name is accepted when known reports true
// for it.
func parseFilters(p params, known func(name string) bool) ([]filter, *apiError) {
	var out []filter
	for _, g := range p.groups("Filter") {
		name, ok := g.Fields.str("Name")
		if !ok || name == "" {
			return nil, errorf(codeInvalidValue, "The filter Filter.%d has no Name.", g.N)
		}
		if !known(name) {
			return nil, errorf(codeInvalidValue, "The filter '%s' is invalid", name)
		}
		values := g.Fields.list("Value")
		if len(values) == 0 {
			return nil, errorf(codeInvalidValue, "The filter '%s' has no values.", name)
		}
		out = append(out, filter{Name: name, Values: values})
	}
	return out, nil
}

// matchAny reports whether any of the filter's values, which may hold the
// wildcards * and ? (escaped with a backslash), matches s.
func (f filter) matchAny(s string) bool {
	for _, v := range f.Values {
		if wildcard(v, s) {
			return true
		}
	}
	return false
}

// wildcard matches s against pattern, where * matches any run of
// characters, ? any one character, and \ makes the next character literal.
// It runs in time proportional to len(pattern)*len(s) at worst.
func wildcard(pattern, s string) bool {
	p, r := []rune(pattern), []rune(s)
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(r) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && p[pi] == '?':
			pi++
			si++
		case pi < len(p) && literalAt(p, pi) == r[si]:
			pi += literalLen(p, pi)
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

func literalAt(p []rune, i int) rune {
	if p[i] == '\\' && i+1 < len(p) {
		return p[i+1]
	}
	return p[i]
}

func literalLen(p []rune, i int) int {
	if p[i] == '\\' && i+1 < len(p) {
		return 2
	}
	return 1
}

// Page sizes EC2 accepts for MaxResults.
const (
	minPage = 5
	maxPage = 1000
)

// page reads MaxResults and NextToken. size is 0 when MaxResults is absent
// (everything in one answer). The token is the opaque cursor a previous
// answer gave: the key of the last item it held.
func page(p params) (size int, after string, err *apiError) {
	size, ok, err := p.integer("MaxResults")
	if err != nil {
		return 0, "", err
	}
	if ok && (size < minPage || size > maxPage) {
		return 0, "", errorf(codeInvalidValue, "Value ( %d ) for parameter maxResults is invalid. Expecting a value between %d and %d.",
			size, minPage, maxPage)
	}
	tok, ok := p.str("NextToken")
	if !ok {
		return size, "", nil
	}
	raw, decErr := base64.RawURLEncoding.DecodeString(tok)
	after, valid := strings.CutPrefix(string(raw), "imds1:")
	if decErr != nil || !valid || after == "" {
		return 0, "", errorf(codeInvalidValue, "The token '%s' is not valid", tok)
	}
	return size, after, nil
}

// nextToken returns the token that continues after key.
func nextToken(key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("imds1:" + key))
}

// paginate cuts list, sorted by key, to one page starting after the
// cursor and returns the page and the next token, empty on the last page.
func paginate[T any](list []T, key func(T) string, size int, after string) ([]T, string) {
	from, next := 0, ""
	if after != "" {
		from = sort.Search(len(list), func(i int) bool { return key(list[i]) > after })
	}
	to := len(list)
	if size > 0 && from+size < to {
		to = from + size
		next = nextToken(key(list[to-1]))
	}
	return list[from:to], next
}
