package control

import (
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on one request's parameters. A body is capped separately; these
// keep a small body from asking for a large amount of work.
const (
	maxParams = 5000   // parameters in one request
	maxIndex  = 100000 // the N of a list member such as InstanceId.N
)

// params are a request's parameters, name to value, after decoding. The EC2
// Query protocol flattens lists and structures into dotted names:
// InstanceId.1, Filter.2.Value.1, Tag.1.Key.
type params map[string]string

// parseQuery decodes an application/x-www-form-urlencoded string strictly:
// a bad escape, a name that is empty or not printable UTF-8, a value that is
// not UTF-8, or a name given twice is refused with EC2's error rather than
// skipped, so that a request never means something other than what it says.
func parseQuery(s string, into params) *apiError {
	for seg := range strings.SplitSeq(s, "&") {
		if seg == "" {
			continue // "a=1&&b=2" and a trailing "&" are harmless
		}
		rawKey, rawValue, _ := strings.Cut(seg, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil || !printableName(key) {
			return errorf(codeMalformedQuery, "The query string contains a malformed parameter name.")
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil || !utf8.ValidString(value) {
			return errorf(codeMalformedQuery, "The value of parameter %s is not a valid encoding of UTF-8 text.", key)
		}
		if _, dup := into[key]; dup {
			return errorf(codeInvalidValue, "The parameter %s is given more than once.", key)
		}
		if len(into) >= maxParams {
			return errorf(codeInvalidValue, "The request has more than %d parameters.", maxParams)
		}
		into[key] = value
	}
	return nil
}

// printableName reports whether s can be a parameter name: non-empty
// printable ASCII without spaces. Every EC2 parameter name is.
func printableName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// commonParams are accepted by every action and read by the dispatcher.
var commonParams = []string{"Action", "Version"}

// check refuses the first parameter (in name order) that matches none of
// the patterns. In a pattern, "#" stands for a list index: a decimal number
// from 1 to maxIndex without leading zeros.
func (p params) check(patterns []string) *apiError {
	names := make([]string, 0, len(p))
	for name := range p {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if slices.Contains(commonParams, name) {
			continue
		}
		if !slices.ContainsFunc(patterns, func(pat string) bool { return matchName(pat, name) }) {
			return errorf(codeUnknownParameter, "The parameter %s is not recognized", name)
		}
	}
	return nil
}

func matchName(pattern, name string) bool {
	for {
		pseg, prest, pmore := strings.Cut(pattern, ".")
		nseg, nrest, nmore := strings.Cut(name, ".")
		if pseg == "#" {
			if _, ok := index(nseg); !ok {
				return false
			}
		} else if pseg != nseg {
			return false
		}
		if !pmore || !nmore {
			return pmore == nmore
		}
		pattern, name = prest, nrest
	}
}

// index parses a list index.
func index(s string) (int, bool) {
	if s == "" || len(s) > 6 || s[0] == '0' {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxIndex {
		return 0, false
	}
	return n, true
}

// str returns a parameter and whether it was given.
func (p params) str(name string) (string, bool) {
	v, ok := p[name]
	return v, ok
}

// boolean reads a parameter that defaults to false.
func (p params) boolean(name string) (bool, *apiError) {
	v, ok := p[name]
	if !ok {
		return false, nil
	}
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errBadValue(name, v)
}

// integer reads a whole-number parameter; ok is false when it is absent.
func (p params) integer(name string) (n int, ok bool, err *apiError) {
	v, ok := p[name]
	if !ok {
		return 0, false, nil
	}
	n, convErr := strconv.Atoi(v)
	if convErr != nil || len(v) > 11 {
		return 0, true, errBadValue(name, v)
	}
	return n, true, nil
}

// list returns the values of prefix.1, prefix.2, ... in index order, gaps
// allowed.
func (p params) list(prefix string) []string {
	type member struct {
		n int
		v string
	}
	var ms []member
	for name, v := range p {
		rest, ok := strings.CutPrefix(name, prefix+".")
		if !ok {
			continue
		}
		if n, ok := index(rest); ok {
			ms = append(ms, member{n, v})
		}
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].n < ms[j].n })
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.v
	}
	return out
}

// group is one structure of a flattened list: Filter.3.Name and
// Filter.3.Value.1 make the group with N 3 and fields Name and Value.1.
type group struct {
	N      int
	Fields params
}

// groups returns the structures under prefix in index order.
func (p params) groups(prefix string) []group {
	byN := map[int]params{}
	for name, v := range p {
		rest, ok := strings.CutPrefix(name, prefix+".")
		if !ok {
			continue
		}
		nstr, field, ok := strings.Cut(rest, ".")
		n, okN := index(nstr)
		if !ok || !okN {
			continue
		}
		if byN[n] == nil {
			byN[n] = params{}
		}
		byN[n][field] = v
	}
	out := make([]group, 0, len(byN))
	for n, f := range byN {
		out = append(out, group{N: n, Fields: f})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].N < out[j].N })
	return out
}
