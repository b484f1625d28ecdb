package config

import (
	"fmt"
	"strconv"
	"strings"
)

// FieldError is a problem with one field of an instance, named by its path
// in the config file's spelling ("metadata-options.http-tokens",
// "network-interfaces[1].mac"). Validate returns it so that the loader can
// point at the line and the control plane can name the parameter.
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

// Error is a problem in a config file, located by file, line and field.
// Line is 0 when the problem has no place in the file, Field is empty for
// YAML syntax errors.
type Error struct {
	File    string
	Line    int
	Field   string
	Problem string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Problem)
	return b.String()
}

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// join appends key to a field path. Keys that are not plain words (tag keys,
// mostly) are quoted so that the path stays unambiguous.
func join(path, key string) string {
	if !plainKey(key) {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// index appends a list position to a field path.
func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func plainKey(key string) bool {
	if key == "" {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// parent drops the last element of a field path, "" when none is left.
func parent(path string) string {
	if strings.HasSuffix(path, "\"]") {
		// A quoted key never contains `["` unescaped, so the last one opens it.
		if i := strings.LastIndex(path, "[\""); i >= 0 {
			return path[:i]
		}
	}
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// under puts a field path found inside an instance under the instance's
// own path ("instances[1]").
func under(prefix, field string) string {
	if strings.HasPrefix(field, "[") {
		return prefix + field
	}
	return prefix + "." + field
}
